// Following the same bytes across hops, on every lab scenario analysed as a whole: the order of
// the hops, where super-frames were split and merged, where the tunnel was fragmented, the MTU
// fix, and that nothing is called lost on a clean recording. Then the same captures with a clock
// shifted by an hour, with a hop missing, with frames deleted, and as one pcapng of all hops.
// Expectations come from topology.json (the lab's path order and knobs) and the guest's SYN.
import { execFileSync, spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { PathReport } from '../../src/correlate/correlate.js';
import type { Report } from '../../src/report/model.js';
import { analyzeJson } from '../analyze/helpers.js';
import { labScenarios, type Topology } from '../helpers/lab-signatures.js';
import { summarizeCapture } from '../helpers/lab-summary.js';

const samples = join(import.meta.dirname, '..', '..', 'samples');
const scenarios = labScenarios();
const scratch = mkdtempSync(join(tmpdir(), 'hopscope-paths-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));
const hasEditcap = spawnSync('sh', ['-c', 'command -v editcap && command -v mergecap']).status === 0;
if (!hasEditcap)
  console.warn('paths: editcap/mergecap missing (apt-get install wireshark-common): those cases skipped');

function load(scenario: string): { dir: string; topology: Topology; names: string[]; files: string[] } {
  const dir = join(samples, scenario);
  const topology = JSON.parse(readFileSync(join(dir, 'topology.json'), 'utf8')) as Topology;
  const names = topology.path.map((p) => p.file.replace(/\.pcap$/, ''));
  // Given in an order that is not the path's, so the order must come from the evidence.
  const files = [...topology.path.map((p) => join(dir, p.file))].sort();
  return { dir, topology, names, files };
}

function name(topology: Topology, host: string, kind: string): string {
  const entry = topology.path.find((p) => p.host === host && p.kind === kind);
  if (!entry) throw new Error(`no ${kind} on ${host}`);
  return entry.file.replace(/\.pcap$/, '');
}

/** The bulk transfer: the path that carried the most data. */
function bulk(report: Report): PathReport {
  const path = report.paths[0];
  if (!path) throw new Error('no path');
  expect(path.flow).toMatch(/:5201$/);
  return path;
}

const tunnelKind = (t: Topology) => (t.knobs.encapsulation === 'geneve' ? 'geneve' : 'vxlan');
const overheadOf = (t: Topology) =>
  (t.knobs.underlay === 'ipv6' ? 70 : 50) + (t.knobs.encapsulation === 'geneve' ? 8 : 0);

describe.each(scenarios)('the path of %s, analysed as a whole', (scenario) => {
  it('orders the hops along the path and names the split, merge and fragmenting hops', async () => {
    const { dir, topology, names, files } = load(scenario);
    const { report } = await analyzeJson(files);
    const path = bulk(report);
    expect(path.orderedBy).toBe('evidence');
    expect(path.hops.map((h) => h.hop)).toEqual(names);
    const guest = summarizeCapture(join(dir, topology.path[0]?.file ?? ''));
    const optionBytes = guest.dataOptionBytes ?? 0;
    const overhead = overheadOf(topology);
    const tooBig = topology.knobs.overlayMtu + overhead > topology.knobs.underlayMtu;
    const expectedSegment =
      tooBig && topology.knobs.pmtuDiscovery === 'on'
        ? topology.knobs.underlayMtu - overhead - 40 - optionBytes
        : (guest.synMss ?? 0) - optionBytes;
    const txTunnel = name(topology, 'host1', tunnelKind(topology));
    const txNic = name(topology, 'host1', 'physical');
    const rxNic = name(topology, 'host2', 'physical');
    const rxTunnel = name(topology, 'host2', tunnelKind(topology));

    if (topology.knobs.guestTso === 'off') {
      expect(path.splitAt).toBeNull();
    } else if (topology.knobs.nicTunnelTso === 'on') {
      expect(path.splitAt).toMatchObject({ from: txNic, to: null });
      expect(path.splitAt?.mechanism).toBe('nic-tso');
      const split = report.findings.find((f) => f.code === 'segment.split' && f.flow === path.flow);
      expect(split?.facts).toMatchObject({ mechanism: 'nic-tso', from: txNic, to: null });
      expect(split?.title).toMatch(/hardware TSO/);
    } else {
      expect(path.splitAt).toMatchObject({ from: txTunnel, to: txNic, segmentSize: expectedSegment });
      // The tunnel's own physical NIC: the facts say the mechanism, the catalogue the words.
      expect(path.splitAt?.mechanism).toBe('software-gso-tunnel');
      const split = report.findings.find((f) => f.code === 'segment.split' && f.flow === path.flow);
      expect(split?.facts).toMatchObject({ mechanism: 'software-gso-tunnel', segmentSize: expectedSegment });
      expect(split?.title).toMatch(/software GSO at the tunnel/);
      expect(split?.firstSeen).not.toBeNull();
      expect(split?.evidence.map((e) => e.hop)).toEqual([txTunnel, txNic]);
    }
    if (topology.knobs.nicTunnelTso === 'on') {
      expect(path.mergedAt).toBeNull();
    } else {
      expect(path.mergedAt).toMatchObject({ from: rxNic, to: rxTunnel });
      const merged = report.findings.find((f) => f.code === 'segment.merged' && f.flow === path.flow);
      expect(merged?.evidence.map((e) => e.hop)).toEqual([rxTunnel, rxNic]);
      // Partial sums after the merge are GRO's, named apart from the sender's transmit offload.
      const partial = report.findings.find((f) => f.code === 'checksum.partial' && f.flow === path.flow);
      const gro = partial?.facts.groHops as string[] | undefined;
      if (gro !== undefined && gro.length > 0) {
        expect(gro[0]).toBe(rxTunnel);
        expect(gro).not.toContain(txTunnel);
        expect(partial?.title).toMatch(/GRO on the receiving side/);
      }
    }
    if (tooBig && topology.knobs.pmtuDiscovery === 'off') {
      expect(path.fragmentedAt).toMatchObject({ hop: txNic, overhead, innerSize: topology.knobs.overlayMtu });
    } else {
      expect(path.fragmentedAt).toBeNull();
    }
    expect(path.lostAt, 'nothing is lost in a clean recording').toBeNull();
    expect(path.gaps).toEqual([]);
    for (const offset of Object.values(report.clockOffsets))
      expect(Math.abs(offset ?? Number.NaN)).toBeLessThan(0.001);
  });

  it('says when the overlay MTU does not fit the underlay, with the fix in numbers', async () => {
    const { dir, topology, files } = load(scenario);
    const { report } = await analyzeJson(['--topology', join(dir, 'topology.json'), ...files]);
    const overhead = overheadOf(topology);
    const finding = report.findings.find((f) => f.code === 'mtu.overlay-exceeds-underlay');
    if (topology.knobs.overlayMtu + overhead <= topology.knobs.underlayMtu) {
      expect(finding).toBeUndefined();
      return;
    }
    expect(finding?.severity).toBe('error');
    const maxOverlay = topology.knobs.underlayMtu - overhead;
    expect(finding?.fix).toContain(`${maxOverlay} or less`);
    expect(finding?.fix).toContain(`${topology.knobs.overlayMtu + overhead} or more`);
    expect(finding?.fix).toContain(`clamp the TCP MSS to ${maxOverlay - 40}`);
    expect(finding?.explanation).toMatch(
      topology.knobs.pmtuDiscovery === 'on' ? /fragmentation needed/ : /IP-fragmented/,
    );
    expect(finding?.evidence.length).toBeGreaterThan(0);
  });

  it('tells which hops’ "incorrect" checksums to ignore', async () => {
    const { names, files } = load(scenario);
    const { report } = await analyzeJson(files);
    const path = bulk(report);
    const finding = report.findings.find((f) => f.code === 'checksum.partial' && f.flow === path.flow);
    expect(finding?.hop).toBe(names[0]);
    expect(finding?.explanation).toContain(`partial at ${names[0]}`);
    expect(finding?.explanation).toMatch(/really wrong/);
  });
});

describe.skipIf(!hasEditcap)('the same path from damaged or different captures', () => {
  const { dir, topology, names, files } = load('jumbo-underlay');
  const txTunnel = name(topology, 'host1', 'vxlan');
  const txNic = name(topology, 'host1', 'physical');
  const rxNic = name(topology, 'host2', 'physical');

  function edited(file: string, args: string[]): string {
    const out = join(scratch, `${Math.random().toString(36).slice(2)}-${file}`);
    execFileSync('editcap', [...args, join(dir, file), out]);
    return out;
  }

  it('finds a guest clock an hour ahead and a host clock two hours behind, and nothing else changes', async () => {
    const shifted = files.map((f) => {
      if (f.endsWith('guest1-eth0.pcap')) return edited('guest1-eth0.pcap', ['-t', '3600']);
      if (f.endsWith('host2-tap0.pcap')) return edited('host2-tap0.pcap', ['-t', '-7200']);
      return f;
    });
    // editcap keeps the file name's meaning only through our copy: name the hops as before.
    const renamed = shifted.map((f) => {
      const base = f.replace(/^.*-(guest1-eth0|host2-tap0)\.pcap$/, '$1');
      if (base === f) return f;
      const target = join(scratch, `${base}.pcap`);
      copyFileSync(f, target);
      return target;
    });
    const { report } = await analyzeJson(renamed);
    const path = bulk(report);
    expect(path.hops.map((h) => h.hop)).toEqual(names);
    expect(path.splitAt).toMatchObject({ from: txTunnel, to: txNic });
    expect(path.mergedAt?.from).toBe(rxNic);
    const offsets = report.clockOffsets;
    const reference = offsets[txNic] ?? 0;
    expect((offsets['guest1-eth0'] ?? 0) - reference).toBeCloseTo(3600, 2);
    expect((offsets['host2-tap0'] ?? 0) - reference).toBeCloseTo(-7200, 2);
    expect(Math.abs((offsets[rxNic] ?? 0) - reference)).toBeLessThan(0.001);
    expect(path.lostAt).toBeNull();
  });

  it('with the sender NIC’s capture missing, the split shows between the tunnel device and the receiver NIC', async () => {
    const { report } = await analyzeJson(files.filter((f) => !f.endsWith(`${txNic}.pcap`)));
    const path = bulk(report);
    expect(path.hops.map((h) => h.hop)).toEqual(names.filter((n) => n !== txNic));
    expect(path.splitAt).toMatchObject({ from: txTunnel, to: rxNic });
    expect(path.missing).toEqual([]);
    // With the topology it also says which capture point it could not see.
    const told = await analyzeJson([
      '--topology',
      join(dir, 'topology.json'),
      ...files.filter((f) => !f.endsWith(`${txNic}.pcap`)),
    ]);
    expect(bulk(told.report).missing).toEqual([txNic]);
    const missing = told.report.findings.find(
      (f) => f.code === 'capture.hop-missing' && f.flow === path.flow,
    );
    expect(missing?.title).toContain(txNic);
    expect(missing?.explanation).toContain(`between ${txTunnel} and ${rxNic}`);
  });

  it('frames deleted from a middle capture are a capture gap there, not loss', async () => {
    // Frames 400-499 of the sender NIC's capture: data segments the receiver NIC still shows.
    const cut = join(scratch, `${txNic}.pcap`);
    execFileSync('editcap', [join(dir, `${txNic}.pcap`), cut, '400-499']);
    const { report } = await analyzeJson(files.map((f) => (f.endsWith(`${txNic}.pcap`) ? cut : f)));
    const path = bulk(report);
    expect(path.lostAt).toBeNull();
    expect(path.gaps.map((g) => g.hop)).toEqual([txNic]);
    expect(path.gaps[0]?.bytes).toBeGreaterThan(50_000);
    const finding = report.findings.find((f) => f.code === 'capture.gap');
    expect(finding?.hop).toBe(txNic);
  });

  it('frames deleted from the receiving guest’s capture are a gap there: the receiver acknowledged them', async () => {
    // No later hop has them, but the receiver's ACKs (captured at every hop) go past them, and
    // the sender did not send them again: they arrived, and the capture misses them.
    const last = names[names.length - 1] as string;
    const before = names[names.length - 2] as string;
    const cut = join(scratch, `${last}.pcap`);
    execFileSync('editcap', [join(dir, `${last}.pcap`), cut, '60-70']);
    const { report } = await analyzeJson(files.map((f) => (f.endsWith(`${last}.pcap`) ? cut : f)));
    const path = bulk(report);
    expect(path.lostAt).toBeNull();
    expect(path.gaps.map((g) => g.hop)).toEqual([last]);
    expect(path.gaps[0]?.bytes).toBeGreaterThan(0);
    const gap = report.findings.find((f) => f.code === 'capture.gap' && f.flow === path.flow);
    expect(gap?.facts).toMatchObject({ hop: last, from: before, after: null, proof: 'acknowledged' });
    expect(gap?.explanation).toContain('acknowledged by the receiver');
    expect(report.findings.some((f) => f.code === 'loss.between-hops')).toBe(false);
  });

  it('reads all hops from one pcapng (mergecap), one hop per interface', async () => {
    const merged = join(scratch, 'all-hops.pcapng');
    execFileSync('mergecap', ['-I', 'none', '-w', merged, ...files]);
    // mergecap keeps one interface per input, in input order, without names: they are all-hops#N.
    const hopOf = (file: string) => `all-hops#${files.findIndex((f) => f.endsWith(`/${file}.pcap`))}`;
    const kinds = topology.path
      .filter((p) => p.kind !== 'guest')
      .flatMap((p) => ['--hop', `${hopOf(p.file.replace(/\.pcap$/, ''))}=${p.kind}`]);
    const { report } = await analyzeJson([...kinds, merged]);
    expect(report.captures[0]?.format).toBe('pcapng');
    expect(report.hops).toHaveLength(names.length);
    const path = bulk(report);
    expect(path.hops.map((h) => h.hop)).toEqual(names.map(hopOf));
    expect(path.splitAt).toMatchObject({ from: hopOf(txTunnel), to: hopOf(txNic) });
    expect(path.mergedAt?.from).toBe(hopOf(rxNic));
  });

  it('takes the order from --path when given, in the direction the data runs', async () => {
    // Two neighbours swapped against the evidence: the given order wins.
    const given = [...names];
    const i = given.indexOf(txTunnel);
    [given[i - 1], given[i]] = [given[i] as string, given[i - 1] as string];
    const { report } = await analyzeJson(['--path', given.join(','), ...files]);
    expect(bulk(report).orderedBy).toBe('path');
    expect(bulk(report).hops.map((h) => h.hop)).toEqual(given);
    // ... and the ACK waits, which order them otherwise, say so.
    const contradiction = report.findings.find((f) => f.code === 'capture.order-contradicted');
    expect(contradiction?.facts).toMatchObject({ source: 'path', given, evidence: names });
    expect(contradiction?.title).toMatch(/given by --path contradicts/);
    // Given in the order the evidence finds, nothing is said.
    const agreed = await analyzeJson(['--path', names.join(','), ...files]);
    expect(agreed.report.findings.some((f) => f.code === 'capture.order-contradicted')).toBe(false);
    // Given backwards, it is followed from the sender (see given-order.test.ts).
    const backwards = await analyzeJson(['--path', [...given].reverse().join(','), ...files]);
    expect(bulk(backwards.report).hops.map((h) => h.hop)).toEqual(given);
  });
});
