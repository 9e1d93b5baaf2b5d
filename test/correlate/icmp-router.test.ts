// An ICMP "fragmentation needed" is the tunnel's word on the underlay only when the tunnel sent it
// (Linux vxlan/geneve answer for the guest from the flow's own destination); one from a router on
// the overlay path is that router's MTU. pmtu-underlay's messages, as recorded and with their
// source rewritten to another address (IPv4 header checksum fixed, ICMP checksum unaffected).
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { analyzeJson } from '../analyze/helpers.js';

const root = join(import.meta.dirname, '..', '..');
const scenario = join(root, 'samples', 'pmtu-underlay');
const scratch = mkdtempSync(join(tmpdir(), 'hopscope-icmp-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

/** Rewrites the source of every Ethernet/IPv4 ICMP destination-unreachable/frag-needed in a classic pcap. */
function rewriteIcmpSource(bytes: Buffer, source: number[]): number {
  let rewritten = 0;
  const le = bytes.readUInt32LE(0) === 0xa1b2c3d4;
  const u32 = (o: number) => (le ? bytes.readUInt32LE(o) : bytes.readUInt32BE(o));
  for (let o = 24; o + 16 <= bytes.length; ) {
    const caplen = u32(o + 8);
    const ip = o + 16 + 14;
    if (bytes.readUInt16BE(o + 16 + 12) === 0x0800 && bytes[ip + 9] === 1) {
      const icmp = ip + (((bytes[ip] as number) & 0x0f) << 2);
      if (bytes[icmp] === 3 && bytes[icmp + 1] === 4) {
        for (let i = 0; i < 4; i++) bytes[ip + 12 + i] = source[i] as number;
        bytes.writeUInt16BE(0, ip + 10);
        let sum = 0;
        for (let i = 0; i < ((bytes[ip] as number) & 0x0f) << 2; i += 2) sum += bytes.readUInt16BE(ip + i);
        while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
        bytes.writeUInt16BE(~sum & 0xffff, ip + 10);
        rewritten++;
      }
    }
    o += 16 + caplen;
  }
  return rewritten;
}

function copyScenario(source: number[] | null): string[] {
  const topology = JSON.parse(readFileSync(join(scenario, 'topology.json'), 'utf8')) as {
    path: Array<{ file: string }>;
  };
  const dir = mkdtempSync(join(scratch, 'run-'));
  writeFileSync(join(dir, 'topology.json'), readFileSync(join(scenario, 'topology.json')));
  let rewritten = 0;
  for (const { file } of topology.path) {
    const bytes = readFileSync(join(scenario, file));
    if (source !== null) rewritten += rewriteIcmpSource(bytes, source);
    writeFileSync(join(dir, file), bytes);
  }
  if (source !== null) expect(rewritten, 'the recording holds need-to-frag messages').toBeGreaterThan(0);
  return ['--topology', join(dir, 'topology.json'), ...topology.path.map(({ file }) => join(dir, file))];
}

describe('ICMP need-to-frag and the tunnel', () => {
  it('from the flow’s destination (the tunnel answering for the guest): the overlay exceeds the underlay', async () => {
    const { report } = await analyzeJson(copyScenario(null));
    const pmtu = report.findings.find((f) => f.code === 'pmtu.frag-needed');
    expect(pmtu?.facts.sender).toBe('flow-destination');
    const overlay = report.findings.find((f) => f.code === 'mtu.overlay-exceeds-underlay');
    expect(overlay?.facts).toMatchObject({ via: 'icmp', icmpMtu: 1350, overhead: 50, underlayMtu: 1400 });
  });

  it('from a router on the overlay path: that router’s MTU, no verdict on the tunnel', async () => {
    const { report } = await analyzeJson(copyScenario([10, 97, 0, 254]));
    const pmtu = report.findings.find((f) => f.code === 'pmtu.frag-needed');
    expect(pmtu?.facts).toMatchObject({ sender: 'path', from: '10.97.0.254', mtu: 1350 });
    expect(pmtu?.explanation).toMatch(/router on the overlay path \(10\.97\.0\.254\).*that router’s MTU/);
    expect(report.findings.some((f) => f.code === 'mtu.overlay-exceeds-underlay')).toBe(false);
  });
});
