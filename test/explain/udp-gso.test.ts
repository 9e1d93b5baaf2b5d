// UDP super-frames in tcpdump's text: a whole datagram above any Ethernet link's largest packet
// (UDP GSO before the split, or UDP GRO forwarding after a merge) is said as such, and exactly
// the datagrams analyze counts as UDP super-frames, over IPv4 and IPv6; wire-sized datagrams, a
// tunnel's own UDP and fragments are not. Hand-built captures of a QUIC-like flow, read by the
// real tcpdump -vv -nn.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { lineText } from '../../src/findings/catalog.js';
import { buildPcap } from '../capture/helpers.js';
import { compareWithAnalyze, createTally, explainText } from '../helpers/explain-compare.js';
import { frameClasses } from '../helpers/frame-classes.js';

const TCPDUMP = spawnSync('tcpdump', ['--version'], { encoding: 'utf8' }).status === 0;
const dir = mkdtempSync(join(tmpdir(), 'hopscope-explain-udp-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Ethernet/IP/UDP 4433 -> 50000 with `payload` bytes, headers captured only (checksum 0 over IPv4). */
function datagram(version: 4 | 6, payload: number, id: number): { bytes: Buffer; length: number } {
  const ip = version === 4 ? 20 : 40;
  const b = Buffer.alloc(14 + ip + 8 + 16);
  b.writeUInt16BE(version === 4 ? 0x0800 : 0x86dd, 12);
  if (version === 4) {
    b[14] = 0x45;
    b.writeUInt16BE(20 + 8 + payload, 16);
    b.writeUInt16BE(id & 0xffff, 18);
    b.writeUInt16BE(0x4000, 20);
    b[22] = 64;
    b[23] = 17;
    b.writeUInt32BE(0x0a010001, 26);
    b.writeUInt32BE(0x0a020002, 30);
    let sum = 0;
    for (let i = 14; i < 34; i += 2) sum += b.readUInt16BE(i);
    while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
    b.writeUInt16BE(~sum & 0xffff, 24);
  } else {
    b[14] = 0x60;
    b.writeUInt16BE(8 + payload, 18);
    b[20] = 17;
    b[21] = 64;
    b.writeUInt16BE(0x2001, 22);
    b.writeUInt16BE(0x0db8, 24);
    b[37] = 1;
    b.writeUInt16BE(0x2001, 38);
    b.writeUInt16BE(0x0db8, 40);
    b[53] = 2;
    // IPv6 needs a UDP checksum: any non-zero value (the payload is not captured: unverifiable).
    b.writeUInt16BE(0x1234, 14 + ip + 6);
  }
  b.writeUInt16BE(4433, 14 + ip);
  b.writeUInt16BE(50000, 14 + ip + 2);
  b.writeUInt16BE(8 + payload, 14 + ip + 4);
  return { bytes: b, length: 14 + ip + 8 + payload };
}

describe.skipIf(!TCPDUMP)('explain: UDP super-frames', () => {
  it('says exactly the datagrams analyze counts as UDP super-frames, over IPv4 and IPv6', () => {
    for (const version of [4, 6] as const) {
      const records: Array<[number, number, Buffer, number]> = [];
      // Whole datagrams of 15 segments of 1,200 bytes and a short one, then the wire's datagrams.
      for (let burst = 0; burst < 10; burst++) {
        const whole = datagram(version, 15 * 1200 + 700, burst * 20);
        records.push([1_800_000_000, burst * 2000, whole.bytes, whole.length]);
        for (let k = 0; k < 16; k++) {
          const d = datagram(version, k < 15 ? 1200 : 700, burst * 20 + k + 1);
          records.push([1_800_000_000, burst * 2000 + 50 + k, d.bytes, d.length]);
        }
      }
      // A datagram just under the bound (9,216 bytes of IP packet) is not one.
      const under = datagram(version, 9216 - (version === 4 ? 28 : 48), 999);
      records.push([1_800_000_001, 0, under.bytes, under.length]);
      const path = join(dir, `udp-gso-v${version}.pcap`);
      writeFileSync(path, buildPcap(true, 0xa1b2c3d4, records, 80));
      const text = spawnSync('tcpdump', ['-vv', '-nn', '-r', path], { encoding: 'utf8' });
      expect(text.status).toBe(0);
      const explained = explainText(text.stdout);
      const tally = createTally();
      compareWithAnalyze(path, explained, frameClasses(path), tally);
      expect(tally.disagreements.slice(0, 5)).toEqual([]);
      expect(tally.udpSuperFrames).toEqual({ yes: 10, no: 161 });
      const said = explained.flatMap((e) =>
        e.verdicts.filter((v) => v.code === 'segment.udp-super-frame' && v.notable),
      );
      expect(said).toHaveLength(10);
      expect(lineText('segment.udp-super-frame', said[0]?.facts ?? {})).toMatch(
        new RegExp(
          `^UDP datagram of IP length ${version === 4 ? 18728 : 18748} is more than any Ethernet link carries`,
        ),
      );
    }
  });
});
