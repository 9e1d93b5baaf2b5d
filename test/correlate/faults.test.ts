// Faults recorded on purpose in the lab (samples/lab/lab.sh --drop-rx-every, --drop-bridge-every,
// --tunnel-df set, --filter-icmp-frag, --underlay ipv6 with --pmtu-disc off): where the data was
// lost, whether TCP repaired it, and the MTU black hole that stalls a transfer. Expectations come
// from topology.json (knobs, MTUs, path order) and from the captures themselves.
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Report, ReportFinding } from '../../src/report/model.js';
import { analyzeJson } from '../analyze/helpers.js';
import {
  faultScenarios,
  labScenarios,
  loadScenario,
  samplesDir,
  type Topology,
} from '../helpers/lab-signatures.js';
import { summarizeCapture } from '../helpers/lab-summary.js';

const faults = faultScenarios();

function hopName(topology: Topology, host: string, kind: string): string {
  const entry = topology.path.find((p) => p.host === host && p.kind === kind);
  if (!entry) throw new Error(`no ${kind} on ${host}`);
  return entry.file.replace(/\.pcap$/, '');
}

async function analyze(
  scenario: string,
  withTopology = true,
): Promise<{ topology: Topology; report: Report }> {
  const dir = join(samplesDir, scenario);
  const { topology } = loadScenario(dir);
  const files = topology.path.map((p) => join(dir, p.file));
  const args = withTopology ? ['--topology', join(dir, 'topology.json'), ...files] : files;
  const { report, run } = await analyzeJson(args);
  expect(run.code).toBe(0);
  return { topology, report };
}

const blackHoles = faults.filter(
  (s) => (loadScenario(join(samplesDir, s)).topology.knobs.durationSec ?? 0) > 0,
);
const drops = faults.filter((s) => {
  const k = loadScenario(join(samplesDir, s)).topology.knobs;
  return (k.dropRxEvery ?? 0) > 0 || (k.dropBridgeEvery ?? 0) > 0;
});

describe('the lab recorded the faults', () => {
  it('has black-hole and drop recordings', () => {
    expect(blackHoles.length).toBeGreaterThanOrEqual(3);
    expect(drops.length).toBeGreaterThanOrEqual(2);
  });
});

describe.each(blackHoles)('MTU black hole: %s', (scenario) => {
  it('names the hop pair where full-size segments vanish, the sizes, the arithmetic and the fix', async () => {
    const { topology, report } = await analyze(scenario);
    const k = topology.knobs;
    const overhead = k.underlay === 'ipv6' ? 70 : 50;
    // What the knobs promise: the overlay does not fit, and the tunnel cannot fragment.
    expect(k.overlayMtu + overhead).toBeGreaterThan(k.underlayMtu);
    const holes = report.findings.filter((f) => f.code === 'mtu.black-hole');
    expect(holes).toHaveLength(1);
    const hole = holes[0] as ReportFinding;
    expect(hole.severity).toBe('error');
    const txTunnel = hopName(topology, 'host1', 'vxlan');
    const txNic = hopName(topology, 'host1', 'physical');
    expect(hole.facts).toMatchObject({ from: txTunnel, to: txNic, underlayHop: txNic });
    const phyMtu = topology.path.find((p) => p.host === 'host1' && p.kind === 'physical')?.mtu;
    expect(hole.facts.underlayMtu).toBe(phyMtu);
    expect(hole.facts.overhead).toBe(overhead);
    // Sizes: what vanished is larger than anything the NIC carried; both read from the captures.
    const dir = join(samplesDir, scenario);
    const guest = summarizeCapture(join(dir, `${hopName(topology, 'guest1', 'guest')}.pcap`));
    const nic = summarizeCapture(join(dir, `${txNic}.pcap`));
    const segment = (guest.synMss ?? 0) - (guest.dataOptionBytes ?? 0);
    expect(hole.facts.vanishing).toContain(segment);
    // (the NIC's capture holds iperf3's control connection too: its segments are small as well)
    expect(hole.facts.largestPassing as number).toBeLessThanOrEqual(Math.max(...nic.dataPayloads));
    expect(Math.max(...nic.dataPayloads)).toBeLessThan(segment);
    // The retransmissions at every hop before the hole.
    const before = ['guest1-guest', 'host1-tap', 'host1-bridge', 'host1-vxlan'].map((key) => {
      const [host, kind] = key.split('-') as [string, string];
      return hopName(topology, host, kind);
    });
    expect(hole.facts.resentAt).toEqual(before);
    for (const n of hole.facts.resentCounts as number[]) expect(n).toBeGreaterThan(1);
    // The arithmetic and the fix, from mtuAdvice: overlay + overhead against the underlay.
    expect(hole.explanation).toContain(`${k.overlayMtu} bytes`);
    expect(hole.explanation).toContain(
      `${k.overlayMtu + overhead} bytes, more than the underlay MTU ${k.underlayMtu}`,
    );
    expect(hole.fix).toContain(`${k.underlayMtu - overhead} or less`);
    expect(hole.fix).toContain(`${k.overlayMtu + overhead} or more`);
    expect(hole.fix).toContain(`clamp the TCP MSS to ${k.underlayMtu - overhead - 40}`);
    expect(hole.evidence.some((e) => e.hop === txTunnel && e.frame > 0)).toBe(true);
    // Where the ICMP went.
    if (k.filterIcmpFrag === true) {
      expect(guest.fragNeededMtus).toEqual([]);
      expect(hole.facts.icmp).toBe('filtered');
      expect(hole.facts.icmpMtu).toBe(k.underlayMtu - overhead);
      expect(hole.explanation).toMatch(/never reaches the sender/);
      expect(hole.fix).toMatch(/Let ICMP/);
    } else {
      expect(hole.facts.icmp).toBe('none');
      expect(report.findings.filter((f) => f.code === 'pmtu.frag-needed')).toEqual([]);
      expect(hole.explanation).toMatch(/no ICMP/);
    }
  });

  it('says nothing of an MTU when no underlay MTU is known (no topology)', async () => {
    const { report } = await analyze(scenario, false);
    expect(report.findings.filter((f) => f.code === 'mtu.black-hole')).toEqual([]);
  });
});

describe.each(drops)('loss that TCP repaired: %s', (scenario) => {
  it('finds the copies lost between two hops, in bytes the captures confirm', async () => {
    const { topology, report } = await analyze(scenario);
    const k = topology.knobs;
    const [from, to] =
      (k.dropRxEvery ?? 0) > 0
        ? [hopName(topology, 'host2', 'physical'), hopName(topology, 'host2', 'vxlan')]
        : [hopName(topology, 'host1', 'bridge'), hopName(topology, 'host1', 'vxlan')];
    const losses = report.findings.filter((f) => f.code === 'loss.between-hops');
    expect(losses.length).toBeGreaterThan(0);
    for (const loss of losses) {
      expect(loss.facts).toMatchObject({ from, to, how: 'repaired' });
      expect(loss.explanation).toMatch(/retransmitted/);
    }
    // Every byte sent towards the server that reached `from` and not `to` is a copy lost between
    // them: the difference of the two captures' TCP payload bytes (both count every copy).
    const dir = join(samplesDir, scenario);
    const sum = (file: string) =>
      summarizeCapture(join(dir, `${file}.pcap`)).dataPayloads.reduce((a, b) => a + b, 0);
    const lost = losses.reduce((a, f) => a + (f.facts.bytes as number), 0);
    expect(lost).toBe(sum(from) - sum(to));
    expect(lost).toBeGreaterThan(0);
    const bulk = losses.find((f) => f.flow === report.paths[0]?.flow);
    expect(bulk?.facts.repeatsFrom as number).toBeGreaterThan(0);
    // Every path still carries the data end to end: TCP repaired it.
    for (const path of report.paths) expect(path.lostAt).toBeNull();
  });
});

describe.each(labScenarios())('recording without a fault: %s', (scenario) => {
  it('has no black hole, and loses only what the tunnel dropped before the guest lowered its MSS', async () => {
    const { topology, report } = await analyze(scenario);
    const k = topology.knobs;
    const overhead = (k.underlay === 'ipv6' ? 70 : 50) + (k.encapsulation === 'geneve' ? 8 : 0);
    expect(report.findings.filter((f) => f.code === 'mtu.black-hole')).toEqual([]);
    const losses = report.findings.filter((f) => f.code === 'loss.between-hops');
    if (k.overlayMtu + overhead <= k.underlayMtu || k.pmtuDiscovery === 'off') {
      // It fits, or the tunnel fragments: nothing is dropped.
      expect(losses).toEqual([]);
      return;
    }
    // Path MTU discovery: the tunnel drops the first full-size packets and answers with ICMP; the
    // guest sends those bytes again in smaller segments. A loss that TCP repaired, at the tunnel.
    expect(losses.length).toBeGreaterThan(0);
    for (const loss of losses) {
      expect(loss.facts).toMatchObject({
        from: hopName(topology, 'host1', 'vxlan'),
        to: hopName(topology, 'host1', 'physical'),
        how: 'repaired',
      });
    }
  });
});
