// An ICMP "fragmentation needed" is the tunnel's word on the underlay only when the tunnel sent it
// (Linux vxlan/geneve answer for the guest from the flow's own destination); one from a router on
// the overlay path is that router's MTU. pmtu-underlay's messages, as recorded and with their
// source rewritten to another address (IPv4 header checksum fixed, ICMP checksum unaffected).
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { analyzeJson } from '../analyze/helpers.js';
import { fixIpv4Checksum, rewritePcap } from '../helpers/rewrite-pcap.js';

const root = join(import.meta.dirname, '..', '..');
const scenario = join(root, 'samples', 'pmtu-underlay');
const scratch = mkdtempSync(join(tmpdir(), 'hopscope-icmp-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

interface Topology {
  path: Array<{ file: string }>;
  knobs: { underlayMtu: number };
}
const topology = JSON.parse(readFileSync(join(scenario, 'topology.json'), 'utf8')) as Topology;

/** The scenario's captures, the source of every ICMP need-to-frag rewritten to `source` when given. */
async function copyScenario(source: number[] | null): Promise<string[]> {
  const dir = mkdtempSync(join(scratch, 'run-'));
  writeFileSync(join(dir, 'topology.json'), readFileSync(join(scenario, 'topology.json')));
  let rewritten = 0;
  for (const { file } of topology.path) {
    await rewritePcap(join(scenario, file), join(dir, file), (e) => {
      for (let i = 0; source !== null && i < e.packet.levelCount; i++) {
        const level = e.packet.levels[i];
        if (level === undefined || level.ipVersion !== 4 || level.icmpMtu < 0) continue;
        const src = e.at(level.srcOffset);
        source.forEach((b, k) => {
          e.bytes[src + k] = b;
        });
        fixIpv4Checksum(e, level);
        rewritten++;
      }
      return true;
    });
  }
  if (source !== null) expect(rewritten, 'the recording holds need-to-frag messages').toBeGreaterThan(0);
  return ['--topology', join(dir, 'topology.json'), ...topology.path.map(({ file }) => join(dir, file))];
}

describe('ICMP need-to-frag and the tunnel', () => {
  it('from the flow’s destination (the tunnel answering for the guest): the overlay exceeds the underlay', async () => {
    const { report } = await analyzeJson(await copyScenario(null));
    const pmtu = report.findings.find((f) => f.code === 'pmtu.frag-needed');
    expect(pmtu?.facts.sender).toBe('flow-destination');
    const overlay = report.findings.find((f) => f.code === 'mtu.overlay-exceeds-underlay');
    // The tunnel answers with the underlay MTU less its overhead (VXLAN over IPv4: 50).
    const underlayMtu = topology.knobs.underlayMtu;
    expect(overlay?.facts).toMatchObject({
      via: 'icmp',
      icmpMtu: underlayMtu - 50,
      overhead: 50,
      underlayMtu,
    });
  });

  it('from a router on the overlay path: that router’s MTU, no verdict on the tunnel', async () => {
    const { report } = await analyzeJson(await copyScenario([10, 97, 0, 254]));
    const pmtu = report.findings.find((f) => f.code === 'pmtu.frag-needed');
    expect(pmtu?.facts).toMatchObject({
      sender: 'path',
      from: '10.97.0.254',
      mtu: topology.knobs.underlayMtu - 50,
    });
    expect(pmtu?.explanation).toMatch(/router on the overlay path \(10\.97\.0\.254\).*that router’s MTU/);
    expect(report.findings.some((f) => f.code === 'mtu.overlay-exceeds-underlay')).toBe(false);
  });
});
