// TCP checksums on hand-built frames, fully captured: a correct one, the partial sum of offload, a
// merged (GRO/LRO) super-frame that kept its first segment's checksum, and real corruption, on a
// segment or on a super-frame. Only corruption may be called bad; a super-frame is excused only
// when its checksum is exactly its first segment's.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { fold, pseudoHeaderSumV4, sumWords } from '../../src/observe/checksum.js';
import { analyzeJson } from '../analyze/helpers.js';
import { buildPcap } from '../capture/helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'hopscope-tcpsum-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const A = [10, 1, 0, 1];
const B = [10, 1, 0, 2];

/**
 * Ethernet + IPv4 + TCP with the given payload; checksum 'good', 'partial', the checksum of the
 * first N payload bytes as a segment of their own ({ first: N }), or a fixed wrong value.
 */
function frame(
  from: number[],
  to: number[],
  sport: number,
  dport: number,
  seq: number,
  flags: number,
  payload: number,
  checksum: 'good' | 'partial' | { first: number } | number,
  mss?: number,
): Buffer {
  const options = mss !== undefined ? Buffer.from([2, 4, mss >> 8, mss & 0xff]) : Buffer.alloc(0);
  const tcpLength = 20 + options.length + payload;
  const ip = Buffer.alloc(20);
  ip[0] = 0x45;
  ip.writeUInt16BE(20 + tcpLength, 2);
  ip[6] = 0x40;
  ip[8] = 64;
  ip[9] = 6;
  Buffer.from(from).copy(ip, 12);
  Buffer.from(to).copy(ip, 16);
  ip.writeUInt16BE(~fold(sumWords(ip, 0, 20)) & 0xffff, 10);
  const tcp = Buffer.alloc(tcpLength);
  tcp.writeUInt16BE(sport, 0);
  tcp.writeUInt16BE(dport, 2);
  tcp.writeUInt32BE(seq, 4);
  tcp[12] = ((20 + options.length) / 4) << 4;
  tcp[13] = flags;
  tcp.writeUInt16BE(65535, 14);
  options.copy(tcp, 20);
  for (let i = 20 + options.length; i < tcpLength; i++) tcp[i] = (i * 7) & 0xff;
  const pseudo = pseudoHeaderSumV4(ip, 0, 6, tcpLength);
  if (checksum === 'partial') tcp.writeUInt16BE(fold(pseudo), 16);
  else if (checksum === 'good') tcp.writeUInt16BE(~fold(pseudo + sumWords(tcp, 0, tcpLength)) & 0xffff, 16);
  else if (typeof checksum === 'object') {
    const first = 20 + options.length + checksum.first;
    const firstPseudo = pseudoHeaderSumV4(ip, 0, 6, first);
    tcp.writeUInt16BE(~fold(firstPseudo + sumWords(tcp, 0, first)) & 0xffff, 16);
  } else tcp.writeUInt16BE(checksum, 16);
  const eth = Buffer.from([0, 1, 2, 3, 4, 5, 0, 1, 2, 3, 4, 6, 0x08, 0x00]);
  return Buffer.concat([eth, ip, tcp]);
}

describe('TCP checksum classes on fully captured frames', () => {
  it('tells offload, a GRO-merged frame and real corruption apart', async () => {
    const SYN = 0x02;
    const ACK = 0x10;
    const frames = [
      frame(A, B, 40000, 80, 1000, SYN, 0, 'good', 1460),
      frame(B, A, 80, 40000, 5000, SYN | ACK, 0, 'good', 1460),
      frame(A, B, 40000, 80, 1001, ACK, 1000, 'partial'),
      // 2 x 1460 bytes merged into one frame by LRO, the first segment's (now wrong) checksum kept.
      frame(A, B, 40000, 80, 2001, ACK, 2920, { first: 1460 }),
      // A segment within the MSS whose checksum is simply wrong.
      frame(A, B, 40000, 80, 4921, ACK, 100, 0x1234),
      // A super-frame whose checksum is neither its first segment's nor partial: corrupted.
      frame(A, B, 40000, 80, 5021, ACK, 2920, 0x1234),
      // One whose checksum is a first segment's of another size than the flow's MSS: unexplained.
      frame(A, B, 40000, 80, 7941, ACK, 2920, { first: 1000 }),
    ];
    const file = join(dir, 'mixed.pcap');
    writeFileSync(
      file,
      buildPcap(
        true,
        0xa1b2c3d4,
        frames.map((f, i) => [1_700_000_000, i, f, f.length]),
      ),
    );
    const { report } = await analyzeJson([file]);
    const hop = report.hops[0];
    // IPv4 headers: 7 good. TCP: 2 good (SYNs), 1 partial, 1 merged (unverifiable), 3 bad.
    expect(hop?.checksums).toMatchObject({ good: 9, partial: 1, bad: 3, unverifiable: 1 });
    const bad = report.findings.find((f) => f.code === 'checksum.bad');
    expect(bad?.evidence.map((e) => e.frame)).toEqual([5, 6, 7]);
    const merged = report.findings.find((f) => f.code === 'checksum.gro-merged');
    expect(merged?.evidence.map((e) => e.frame)).toEqual([4]);
    expect(report.findings.find((f) => f.code === 'checksum.partial')?.evidence.map((e) => e.frame)).toEqual([
      3,
    ]);
    expect(hop?.superFrames.count).toBe(3);
  });
});
