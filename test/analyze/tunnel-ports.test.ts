// --vxlan-port / --geneve-port: a recording whose VXLAN runs on a port hopscope does not know is
// only UDP until the port is named; named, it is decoded in this thread and in worker threads alike.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { Report } from '../../src/report/model.js';
import { runCli } from './helpers.js';

const root = join(import.meta.dirname, '..', '..');
const bin = join(root, 'bin', 'hopscope.js');
const scenario = join(root, 'samples', 'jumbo-underlay');
const tmp = mkdtempSync(join(tmpdir(), 'hopscope-ports-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/**
 * Copies a little-endian pcap of Ethernet/IPv4 frames, moving UDP to port `from` onto `to`; the
 * UDP checksum becomes 0 ("none" over IPv4), since the snap length cut what it covers.
 */
function movePort(inPath: string, outPath: string, from: number, to: number): number {
  const buf = Buffer.from(readFileSync(inPath));
  let moved = 0;
  for (let pos = 24; pos + 16 <= buf.length; ) {
    const incl = buf.readUInt32LE(pos + 8);
    const f = pos + 16;
    pos = f + incl;
    if (incl < 14 + 20 + 8 || buf.readUInt16BE(f + 12) !== 0x0800) continue;
    const ihl = ((buf[f + 14] as number) & 0x0f) * 4;
    const udp = f + 14 + ihl;
    if (buf[f + 14 + 9] !== 17 || (buf.readUInt16BE(f + 14 + 6) & 0x1fff) !== 0) continue;
    if (udp + 8 > f + incl || buf.readUInt16BE(udp + 2) !== from) continue;
    buf.writeUInt16BE(to, udp + 2);
    buf.writeUInt16BE(0, udp + 6);
    moved++;
  }
  writeFileSync(outPath, buf);
  return moved;
}

const files = ['host1-phy0.pcap', 'host2-phy0.pcap'].map((name) => {
  const out = join(tmp, name);
  expect(movePort(join(scenario, name), out, 4789, 47890)).toBeGreaterThan(100);
  return out;
});

function analyze(extra: string[]): Report {
  const out = spawnSync(
    process.execPath,
    [bin, 'analyze', '--json', '--log-level', 'silent', ...extra, ...files],
    {
      cwd: root,
      encoding: 'utf8',
    },
  );
  expect(out.status, out.stderr).toBe(0);
  return JSON.parse(out.stdout) as Report;
}

describe('custom tunnel ports', () => {
  it('decodes VXLAN on a port given with --vxlan-port, in worker threads too', () => {
    const unknown = analyze(['--jobs', '0']);
    for (const hop of unknown.hops) expect(hop.tunnels.vxlan, hop.name).toBe(0);
    const one = analyze(['--jobs', '0', '--vxlan-port', '47890']);
    const two = analyze(['--jobs', '2', '--vxlan-port', '47890']);
    for (const report of [one, two]) {
      expect(report.hops).toHaveLength(2);
      for (const hop of report.hops) expect(hop.tunnels.vxlan, hop.name).toBeGreaterThan(100);
      // The inner iperf flow is followed: a path through both hops.
      expect(JSON.stringify(report.paths)).toMatch(/:5201/);
    }
    expect(JSON.stringify(two)).toBe(JSON.stringify(one));
  });

  it('--geneve-port takes the port as Geneve; a bad port is a usage error', async () => {
    const geneve = analyze(['--jobs', '0', '--geneve-port', '47890']);
    // The port now means Geneve: nothing on it is taken for VXLAN.
    for (const hop of geneve.hops) expect(hop.tunnels.vxlan, hop.name).toBe(0);
    const bad = await runCli(['analyze', '--vxlan-port', '70000', files[0] as string]);
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toMatch(/--vxlan-port takes a UDP port/);
  });
});
