// `hopscope analyze` on an IP-in-IP scenario (samples/ipip-fragmenting-underlay, re-encapsulated
// from a VXLAN recording: see its README): the tunnel hops show the flow inside IP-in-IP, and the
// fragment and MTU findings count IP-in-IP's overhead (the outer IPv4 header), not VXLAN's.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Topology } from '../helpers/lab-signatures.js';
import { analyzeJson } from './helpers.js';

const dir = join(import.meta.dirname, '..', '..', 'samples', 'ipip-fragmenting-underlay');
const topologyPath = join(dir, 'ipip-topology.json');
const topology = JSON.parse(readFileSync(topologyPath, 'utf8')) as Topology;
const files = topology.path.map((p) => join(dir, p.file));
const hopName = (host: string, kind: string) => {
  const entry = topology.path.find((p) => p.host === host && p.kind === kind);
  if (!entry) throw new Error(`${host} has no ${kind} capture`);
  return entry.file.replace(/\.pcap$/, '');
};
/** IPv4 in IPv4: the outer IPv4 header, nothing else. */
const OVERHEAD = 20;
const { underlayMtu, overlayMtu } = topology.knobs;

describe('IP-in-IP scenario', () => {
  it('follows the inner TCP flow across the tunnel hops', async () => {
    const { report, run } = await analyzeJson(['--topology', topologyPath, ...files]);
    expect(run.code).toBe(0);
    for (const hop of report.hops) expect(hop.malformed, hop.name).toBe(0);
    const guest1 = topology.addresses.guest1 as string;
    const path = report.paths.find((p) => p.flow.startsWith(`TCP ${guest1}:`) && p.flow.endsWith(':5201'));
    expect(path, 'the iperf flow').toBeDefined();
    const hops = path?.hops.map((h) => h.hop) ?? [];
    const phy1 = hopName('host1', 'physical');
    const phy2 = hopName('host2', 'physical');
    expect(hops).toEqual(
      expect.arrayContaining([hopName('guest1', 'guest'), phy1, phy2, hopName('guest2', 'guest')]),
    );
    for (const phy of [phy1, phy2]) {
      const atPhy = path?.hops.find((h) => h.hop === phy);
      expect(atPhy?.frames, `${phy} shows the inner flow`).toBeGreaterThan(100);
      // Wire-sized segments inside the tunnel: the guest's MSS less the timestamp option.
      expect(atPhy?.sizes[0]?.size).toBe((path?.mss ?? 0) - 12);
    }
    expect(path?.fragmentedAt?.hop).toBe(phy1);
    expect(path?.fragmentedAt?.overhead).toBe(OVERHEAD);
  });

  it('gives IP-in-IP’s overhead in the fragment and MTU findings', async () => {
    const { report } = await analyzeJson(['--topology', topologyPath, ...files]);
    const phy1 = hopName('host1', 'physical');
    const outer = report.findings.find((f) => f.code === 'fragment.outer' && f.hop === phy1);
    expect(outer, 'fragment.outer at the sending NIC').toBeDefined();
    expect(outer?.facts.tunnel).toBe('IP-in-IP');
    expect(outer?.facts.overhead).toBe(OVERHEAD);
    expect(outer?.facts.outerSize).toBe(overlayMtu + OVERHEAD);
    expect(outer?.facts.maxFragment).toBe(20 + Math.floor((underlayMtu - 20) / 8) * 8);
    expect(outer?.explanation).toContain(`${OVERHEAD} bytes of encapsulation`);
    expect(outer?.explanation).toContain('IP-in-IP packets');
    expect(outer?.fix).toContain(`${underlayMtu - OVERHEAD} or less`);
    expect(outer?.fix).toContain(`${overlayMtu + OVERHEAD} or more`);
    const mtu = report.findings.find((f) => f.code === 'mtu.overlay-exceeds-underlay');
    expect(mtu?.title).toContain(`${overlayMtu} + ${OVERHEAD} bytes`);
    expect(report.findings.filter((f) => f.code === 'fragment.ip')).toEqual([]);
  });
});
