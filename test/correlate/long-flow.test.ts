// Coverage of a long transfer: sequence numbers wrap every 4 GiB and a hop's coverage is kept from
// its first sequence number on, so data 2 GiB and more past it, and past the fold at 4 GiB, must
// still be placed (sequence arithmetic modulo 2^32, per flow). Hand-built: three hops of one 5 GiB
// transfer, far too long to record, with a segment missing at the second and third hops past 3 GiB
// and past 4.5 GiB.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { coverageFrom, missing, repeatedFrom } from '../../src/correlate/coverage.js';
import { createDirectionTrace, recordSegment } from '../../src/observe/trace.js';
import { analyzeJson } from '../analyze/helpers.js';

const GiB = 2 ** 30;
const SEGMENT = 65_000;
const START = 0xfff0_0000; // wraps at once, then again past 4 GiB

const segment = (seq: number, payload: number) => ({
  seq: seq >>> 0,
  payload,
  time: 0,
  frame: 1,
  isSuper: false,
  checksum: null,
  fragmented: false,
  overhead: -1,
  ipLength: payload + 40,
});

describe('coverage of a transfer longer than 4 GiB', () => {
  it('covers it whole, past 2 GiB and past the fold at 4 GiB, and places holes and repeats there', () => {
    const all = createDirectionTrace();
    const holed = createDirectionTrace();
    const count = Math.ceil((5 * GiB) / SEGMENT);
    const holes = [Math.floor((3 * GiB) / SEGMENT), Math.floor((4.5 * GiB) / SEGMENT)];
    for (let i = 0; i < count; i++) {
      recordSegment(all, segment(START + i * SEGMENT, SEGMENT), false);
      if (!holes.includes(i)) recordSegment(holed, segment(START + i * SEGMENT, SEGMENT), false);
    }
    // A retransmission far past 4 GiB: seen again, placed where it belongs.
    const again = holes[1] as number;
    recordSegment(all, segment(START + (again + 3) * SEGMENT, SEGMENT), false);
    expect(coverageFrom(all, START)).toEqual([0, count * SEGMENT]);
    const gone = missing(coverageFrom(all, START), coverageFrom(holed, START));
    expect(gone).toEqual(holes.map((h) => [h * SEGMENT, (h + 1) * SEGMENT]));
    expect(repeatedFrom(all, START)).toEqual([(again + 3) * SEGMENT, (again + 4) * SEGMENT]);
    expect(all.repeats).toBe(1);
    // A hop whose capture starts later (its base past the origin) lines up with the first.
    const late = createDirectionTrace();
    for (let i = 10; i < 20; i++) recordSegment(late, segment(START + i * SEGMENT, SEGMENT), false);
    expect(coverageFrom(late, START)).toEqual([10 * SEGMENT, 20 * SEGMENT]);
  });
});

// --- the same through analyze: three pcap files ------------------------------------------------

const scratch = mkdtempSync(join(tmpdir(), 'hopscope-long-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

function ipChecksum(b: Buffer, at: number): number {
  let sum = 0;
  for (let i = 0; i < 20; i += 2) sum += b.readUInt16BE(at + i);
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return ~sum & 0xffff;
}

/** A pcap of one TCP flow 10.0.0.1:40000 -> 10.0.0.2:80: SYN, SYN/ACK, then data headers only. */
function writeHop(path: string, segments: number[], segmentBytes: number): void {
  const frames: Buffer[] = [];
  const header = Buffer.alloc(24);
  header.writeUInt32LE(0xa1b2c3d4, 0);
  header.writeUInt16LE(2, 4);
  header.writeUInt16LE(4, 6);
  header.writeUInt32LE(128, 16);
  header.writeUInt32LE(1, 20);
  frames.push(header);
  let usec = 0;
  const frame = (
    fromClient: boolean,
    seq: number,
    ack: number,
    flags: number,
    payload: number,
    mss: boolean,
  ) => {
    const tcpLen = mss ? 24 : 20;
    const caplen = 14 + 20 + tcpLen;
    const rec = Buffer.alloc(16 + caplen);
    usec += 10;
    rec.writeUInt32LE(1_700_000_000 + Math.floor(usec / 1e6), 0);
    rec.writeUInt32LE(usec % 1e6, 4);
    rec.writeUInt32LE(caplen, 8);
    rec.writeUInt32LE(caplen + payload, 12);
    const e = 16;
    rec.writeUInt16BE(0x0800, e + 12);
    const ip = e + 14;
    rec.writeUInt8(0x45, ip);
    rec.writeUInt16BE(20 + tcpLen + payload, ip + 2);
    rec.writeUInt16BE(0x4000, ip + 6);
    rec.writeUInt8(64, ip + 8);
    rec.writeUInt8(6, ip + 9);
    const [src, dst] = fromClient ? [1, 2] : [2, 1];
    rec.writeUInt32BE((10 << 24) | src, ip + 12);
    rec.writeUInt32BE((10 << 24) | dst, ip + 16);
    rec.writeUInt16BE(ipChecksum(rec, ip), ip + 10);
    const tcp = ip + 20;
    rec.writeUInt16BE(fromClient ? 40000 : 80, tcp);
    rec.writeUInt16BE(fromClient ? 80 : 40000, tcp + 2);
    rec.writeUInt32BE(seq >>> 0, tcp + 4);
    rec.writeUInt32BE(ack >>> 0, tcp + 8);
    rec.writeUInt8((tcpLen / 4) << 4, tcp + 12);
    rec.writeUInt8(flags, tcp + 13);
    rec.writeUInt16BE(65535, tcp + 14);
    if (mss) rec.writeUInt32BE(0x020405b4, tcp + 20);
    frames.push(rec);
  };
  frame(true, START - 1, 0, 0x02, 0, true);
  frame(false, 1000, START, 0x12, 0, true);
  for (const i of segments) frame(true, START + i * segmentBytes, 1001, 0x10, segmentBytes, false);
  writeFileSync(path, Buffer.concat(frames));
}

describe('loss past 2 GiB and past 4 GiB, through analyze', () => {
  it('is found between the hops where it happened', async () => {
    const count = Math.ceil((5 * GiB) / SEGMENT);
    const holes = [Math.floor((3 * GiB) / SEGMENT), Math.floor((4.5 * GiB) / SEGMENT)];
    const every = Array.from({ length: count }, (_, i) => i);
    const holed = every.filter((i) => !holes.includes(i));
    const names = ['a-sender', 'b-middle', 'c-receiver'];
    writeHop(join(scratch, `${names[0]}.pcap`), every, SEGMENT);
    writeHop(join(scratch, `${names[1]}.pcap`), holed, SEGMENT);
    writeHop(join(scratch, `${names[2]}.pcap`), holed, SEGMENT);
    const { report } = await analyzeJson([
      '--path',
      names.join(','),
      ...names.map((n) => join(scratch, `${n}.pcap`)),
    ]);
    const path = report.paths[0];
    expect(path?.hops.map((h) => h.bytes)).toEqual([
      count * SEGMENT,
      holed.length * SEGMENT,
      holed.length * SEGMENT,
    ]);
    expect(path?.lostAt).toMatchObject({ from: names[0], to: names[1], bytes: holes.length * SEGMENT });
    expect(path?.gaps).toEqual([]);
  }, 60_000);
});
