// A split between two underlay captures (whole at the sender's NIC, segments at the receiver's) is
// the sending NIC's tunnel TSO on the wire, not software GSO. Hand-built VXLAN captures of the
// two physical NICs, headers only as tcpdump -s 128 would keep them.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { analyzeJson } from '../analyze/helpers.js';
import { buildPcap } from '../capture/helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'hopscope-tsowire-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function ipv4Header(b: Buffer, at: number, total: number, protocol: number, src: number, dst: number): void {
  b[at] = 0x45;
  b.writeUInt16BE(total, at + 2);
  b.writeUInt16BE(0x4000, at + 6);
  b[at + 8] = 64;
  b[at + 9] = protocol;
  b.writeUInt32BE(src, at + 12);
  b.writeUInt32BE(dst, at + 16);
  let sum = 0;
  for (let i = 0; i < 20; i += 2) sum += b.readUInt16BE(at + i);
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  b.writeUInt16BE(~sum & 0xffff, at + 10);
}

/** Ethernet/IPv4/UDP 4789/VXLAN 97/Ethernet/IPv4/TCP 10.97.0.150:40000 -> 10.97.0.103:5201 carrying `payload` bytes at `seq`. */
function vxlanSegment(
  seq: number,
  payload: number,
  ack = 1,
  reverse = false,
): { bytes: Buffer; length: number } {
  const b = Buffer.alloc(14 + 20 + 8 + 8 + 14 + 20 + 20);
  b.writeUInt16BE(0x0800, 12);
  const inner = 20 + 20 + payload;
  ipv4Header(b, 14, 20 + 8 + 8 + 14 + inner, 17, 0x0ac80001, 0x0ac80002);
  b.writeUInt16BE(50000, 34);
  b.writeUInt16BE(4789, 36);
  b.writeUInt16BE(8 + 8 + 14 + inner, 38);
  b[42] = 0x08;
  b.writeUIntBE(97, 46, 3);
  b.writeUInt16BE(0x0800, 50 + 12);
  ipv4Header(b, 64, inner, 6, reverse ? 0x0a610067 : 0x0a610096, reverse ? 0x0a610096 : 0x0a610067);
  b.writeUInt16BE(reverse ? 5201 : 40000, 84);
  b.writeUInt16BE(reverse ? 40000 : 5201, 86);
  b.writeUInt32BE(seq >>> 0, 88);
  b.writeUInt32BE(ack >>> 0, 92);
  b[96] = 0x50;
  b[97] = 0x18;
  b.writeUInt16BE(512, 98);
  return { bytes: b, length: 14 + 20 + 8 + 8 + 14 + inner };
}

describe('a split between two underlay captures', () => {
  it('is the sending NIC’s TSO on the wire', async () => {
    const mss = 1448;
    const sender: Array<[number, number, Buffer, number]> = [];
    const receiver: Array<[number, number, Buffer, number]> = [];
    let seq = 1_000_000;
    for (let i = 0; i < 40; i++) {
      const whole = vxlanSegment(seq, 10 * mss);
      sender.push([1_800_000_000, i * 1000, whole.bytes, whole.length]);
      for (let k = 0; k < 10; k++) {
        const s = vxlanSegment(seq + k * mss, mss);
        receiver.push([1_800_000_000, i * 1000 + 100 + k, s.bytes, s.length]);
      }
      seq += 10 * mss;
      // The receiver's ACK passes its own NIC first, then the sender's: the order of the hops.
      const back = vxlanSegment(1, 0, seq, true);
      receiver.push([1_800_000_000, i * 1000 + 200, back.bytes, back.length]);
      sender.push([1_800_000_000, i * 1000 + 300, back.bytes, back.length]);
    }
    const a = join(dir, 'host1-nic.pcap');
    const b = join(dir, 'host2-nic.pcap');
    writeFileSync(a, buildPcap(true, 0xa1b2c3d4, sender, 128));
    writeFileSync(b, buildPcap(true, 0xa1b2c3d4, receiver, 128));
    const { report } = await analyzeJson([b, a]);
    const path = report.paths[0];
    expect(path?.hops.map((h) => h.hop)).toEqual(['host1-nic', 'host2-nic']);
    expect(path?.splitAt).toMatchObject({
      from: 'host1-nic',
      to: 'host2-nic',
      segmentSize: mss,
      mechanism: 'nic-tso-wire',
    });
    const split = report.findings.find((f) => f.code === 'segment.split');
    expect(split?.title).toMatch(/sending NIC’s hardware TSO, on the wire/);
    expect(split?.explanation).not.toMatch(/software/);
  });
});
