// `hopscope analyze` on every capture of every lab scenario: each hop must be explained the way
// the lab recorded it. Expectations come from topology.json (knobs, MTUs) and from the guest's
// SYN, never from our samples' sizes.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Report, ReportHop } from '../../src/report/model.js';
import { labScenarios, type Topology } from '../helpers/lab-signatures.js';
import { analyzeJson } from './helpers.js';

const samples = join(import.meta.dirname, '..', '..', 'samples');
const scenarios = labScenarios();

async function analyzeScenario(
  dir: string,
  withTopology: boolean,
): Promise<{ topology: Topology; report: Report }> {
  const topology = JSON.parse(readFileSync(join(dir, 'topology.json'), 'utf8')) as Topology;
  const files = topology.path.map((p) => join(dir, p.file));
  const args = withTopology ? ['--topology', join(dir, 'topology.json'), ...files] : files;
  const { report, run } = await analyzeJson(args);
  expect(run.code).toBe(0);
  return { topology, report };
}

function hopOf(report: Report, topology: Topology, host: string, kind: string): ReportHop {
  const entry = topology.path.find((p) => p.host === host && p.kind === kind);
  if (!entry) throw new Error(`${host} has no ${kind} capture`);
  const name = entry.file.replace(/\.pcap$/, '');
  const hop = report.hops.find((h) => h.name === name);
  if (!hop) throw new Error(`no hop ${name}`);
  return hop;
}

const tunnelKind = (t: Topology) => (t.knobs.encapsulation === 'geneve' ? 'geneve' : 'vxlan');

describe.each(scenarios)('lab scenario %s', (scenario) => {
  const dir = join(samples, scenario);

  it('names every capture as a hop and finds nothing malformed', async () => {
    const { topology, report } = await analyzeScenario(dir, false);
    expect(report.captures).toHaveLength(topology.path.length);
    for (const capture of report.captures) {
      expect(capture.errors).toEqual([]);
      expect(capture.format).toBe('pcap');
      expect(capture.linkTypes).toEqual(['ethernet']);
      expect(capture.snaplen).toBe(topology.knobs.snaplen);
    }
    for (const hop of report.hops) {
      expect(hop.frames).toBeGreaterThan(0);
      expect(hop.malformed, hop.name).toBe(0);
    }
    expect(report.findings.filter((f) => f.code === 'capture.malformed')).toEqual([]);
  });

  it('calls no lab checksum bad: the sender’s are partial, tunnel UDP ones partial/LCO/zero', async () => {
    const { topology, report } = await analyzeScenario(dir, true);
    for (const hop of report.hops) expect(hop.checksums.bad, `${hop.name} bad checksums`).toBe(0);
    expect(report.findings.filter((f) => f.code === 'checksum.bad')).toEqual([]);
    const guest = hopOf(report, topology, 'guest1', 'guest');
    expect(guest.checksums.partial, 'guest1 transmits with checksum offload').toBeGreaterThan(0);
    const partial = report.findings.find((f) => f.code === 'checksum.partial' && f.hop === guest.name);
    expect(partial?.explanation).toMatch(/TCP/);
    expect(partial?.evidence.length).toBeGreaterThan(0);
    const phy = hopOf(report, topology, 'host1', 'physical');
    expect(phy.kind).toBe('physical');
    expect(phy.tunnels[tunnelKind(topology)], 'physical NIC carries tunnel packets').toBeGreaterThan(0);
    if (topology.knobs.encapsulation === 'vxlan') {
      // Small VXLAN packets (ACKs, the control connection) carry local-checksum-offload outer sums.
      expect(
        phy.checksums.lco,
        'outer UDP checksums that verify once the inner one is completed',
      ).toBeGreaterThan(0);
    } else {
      // The Geneve captures were rewritten with outer UDP checksum 0 ("none" over IPv4).
      expect(phy.checksums.zero).toBeGreaterThan(0);
    }
  });

  it('finds the super-frames where the lab made them', async () => {
    const { topology, report } = await analyzeScenario(dir, true);
    const guest = hopOf(report, topology, 'guest1', 'guest');
    const phy = hopOf(report, topology, 'host1', 'physical');
    const rxTunnel = hopOf(report, topology, 'host2', tunnelKind(topology));
    if (topology.knobs.guestTso === 'on') {
      expect(guest.superFrames.count, 'guest TSO makes super-frames').toBeGreaterThan(0);
      expect(guest.superFrames.mss).not.toBeNull();
      expect(guest.superFrames.maxPayload).toBeGreaterThan(guest.superFrames.mss ?? 0);
      const finding = report.findings.find((f) => f.code === 'segment.super-frame' && f.hop === guest.name);
      expect(finding?.flow).toMatch(
        new RegExp(`${topology.addresses.guest1?.replace(/\./g, '\\.')}:\\d+ -> `),
      );
      expect(finding?.flow).toMatch(/:5201/);
    } else {
      expect(guest.superFrames.count, 'no TSO, no super-frames at the guest').toBe(0);
    }
    if (topology.knobs.nicTunnelTso === 'on') {
      expect(phy.superFrames.count, 'NIC tunnel TSO: still whole on the physical capture').toBeGreaterThan(0);
    } else {
      expect(phy.superFrames.count, 'split before/at the physical NIC').toBe(0);
    }
    expect(rxTunnel.superFrames.count, 'GRO merges on the receiver').toBeGreaterThan(0);
  });

  it('explains fragments and ICMP need-to-frag as the knobs predict', async () => {
    const { topology, report } = await analyzeScenario(dir, true);
    const phy = hopOf(report, topology, 'host1', 'physical');
    const guest = hopOf(report, topology, 'guest1', 'guest');
    const overhead =
      (topology.knobs.underlay === 'ipv6' ? 70 : 50) + (topology.knobs.encapsulation === 'geneve' ? 8 : 0);
    const needsFragmenting = topology.knobs.overlayMtu + overhead > topology.knobs.underlayMtu;
    if (needsFragmenting && topology.knobs.pmtuDiscovery === 'off') {
      expect(phy.fragments.count).toBeGreaterThan(0);
      expect(phy.fragments.reassembled).toBe(phy.fragments.datagrams);
      const finding = report.findings.find((f) => f.code === 'fragment.outer' && f.hop === phy.name);
      expect(finding, 'fragment.outer on the physical NIC').toBeDefined();
      expect(finding?.severity).toBe('error');
      expect(finding?.flow).toMatch(/:5201/);
      expect(finding?.explanation).toContain(`${topology.knobs.overlayMtu} bytes`);
      expect(finding?.explanation).toContain(`${overhead} bytes of encapsulation`);
      const maxInner = topology.knobs.underlayMtu - overhead;
      expect(finding?.fix).toContain(`${maxInner} or less`);
      expect(finding?.fix).toContain(`${topology.knobs.overlayMtu + overhead} or more`);
      expect(finding?.evidence.length).toBeGreaterThan(1);
    } else {
      expect(phy.fragments.count, 'no fragments').toBe(0);
    }
    if (needsFragmenting && topology.knobs.pmtuDiscovery === 'on') {
      const finding = report.findings.find((f) => f.code === 'pmtu.frag-needed' && f.hop === guest.name);
      expect(finding, 'the guest receives ICMP need-to-frag').toBeDefined();
      expect(finding?.title).toContain(String(topology.knobs.underlayMtu - overhead));
      expect(finding?.flow).toMatch(/:5201/);
      expect(guest.pmtu.minMtu).toBe(topology.knobs.underlayMtu - overhead);
    } else {
      expect(guest.pmtu.messages).toBe(0);
    }
  });
});
