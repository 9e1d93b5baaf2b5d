// The classic pcap reader against pcap-parser as an independent oracle (same frames, timestamps,
// lengths, bytes) on every committed lab capture, and on hand-built files for what tcpdump here
// never writes: big-endian, nanosecond, a record cut off by the end of the file, not a pcap.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
// @ts-expect-error pcap-parser ships no types
import pcapParser from 'pcap-parser';
import { describe, expect, it } from 'vitest';
import { NotPcapError, parsePcap } from '../src/capture/pcap.js';

const samples = join(import.meta.dirname, '..', 'samples');
const captures = readdirSync(samples, { recursive: true, encoding: 'utf8' })
  .filter((f) => f.endsWith('.pcap'))
  .map((f) => join(samples, f));

interface OracleRecord {
  sec: number;
  usec: number;
  incl: number;
  orig: number;
  data: Buffer;
}

function oracle(path: string): Promise<OracleRecord[]> {
  return new Promise((resolve, reject) => {
    const out: OracleRecord[] = [];
    const p = pcapParser.parse(path);
    p.on('packet', (pkt: { header: Record<string, number>; data: Buffer }) =>
      out.push({
        sec: pkt.header.timestampSeconds ?? 0,
        usec: pkt.header.timestampMicroseconds ?? 0,
        incl: pkt.header.capturedLength ?? 0,
        orig: pkt.header.originalLength ?? 0,
        data: pkt.data,
      }),
    );
    p.on('end', () => resolve(out));
    p.on('error', reject);
  });
}

describe('classic pcap reader', () => {
  it('finds the lab captures', () => {
    expect(captures.length).toBeGreaterThanOrEqual(70);
  });

  it.each(captures.map((c) => [c.slice(samples.length + 1), c]))(
    'matches pcap-parser on %s',
    async (_n, path) => {
      const ours = parsePcap(readFileSync(path), path);
      const theirs = await oracle(path);
      expect(ours.truncatedAt).toBeNull();
      expect(ours.linkType).toBe(1);
      expect(ours.records).toHaveLength(theirs.length);
      ours.records.forEach((r, i) => {
        const t = theirs[i] as OracleRecord;
        expect(r.frame).toBe(i + 1);
        expect(r.timeNs).toBe(BigInt(t.sec) * 1_000_000_000n + BigInt(t.usec) * 1000n);
        expect([r.capturedLength, r.originalLength]).toEqual([t.incl, t.orig]);
        expect(Buffer.from(r.data).equals(t.data)).toBe(true);
      });
    },
  );

  function build(littleEndian: boolean, magic: number, records: Array<[number, number, number[]]>): Buffer {
    const parts: Buffer[] = [];
    const h = Buffer.alloc(24);
    const w32 = (b: Buffer, v: number, o: number) =>
      littleEndian ? b.writeUInt32LE(v, o) : b.writeUInt32BE(v, o);
    w32(h, magic, 0);
    littleEndian ? h.writeUInt16LE(2, 4) : h.writeUInt16BE(2, 4);
    littleEndian ? h.writeUInt16LE(4, 6) : h.writeUInt16BE(4, 6);
    w32(h, 65535, 16);
    w32(h, 1, 20);
    parts.push(h);
    for (const [sec, frac, bytes] of records) {
      const r = Buffer.alloc(16);
      w32(r, sec, 0);
      w32(r, frac, 4);
      w32(r, bytes.length, 8);
      w32(r, bytes.length + 100, 12);
      parts.push(r, Buffer.from(bytes));
    }
    return Buffer.concat(parts);
  }

  it('reads big-endian nanosecond files', () => {
    const f = parsePcap(build(false, 0xa1b23c4d, [[1700000000, 123456789, [1, 2, 3]]]));
    expect(f.littleEndian).toBe(false);
    expect(f.nanosecond).toBe(true);
    expect(f.records[0]?.timeNs).toBe(1700000000123456789n);
    expect(f.records[0]?.originalLength).toBe(103);
    expect([...(f.records[0]?.data ?? [])]).toEqual([1, 2, 3]);
  });

  it('reports a record cut off by the end of the file, keeping the frames before it', () => {
    const whole = build(true, 0xa1b2c3d4, [
      [1, 5, [9, 9, 9, 9]],
      [2, 6, [8, 8, 8, 8]],
    ]);
    const cut = whole.subarray(0, whole.length - 2);
    const f = parsePcap(cut);
    expect(f.records).toHaveLength(1);
    expect(f.records[0]?.timeNs).toBe(1_000_005_000n);
    expect(f.truncatedAt).toBe(24 + 16 + 4);
  });

  it('rejects what is not a pcap with the file name and the magic it found', () => {
    expect(() => parsePcap(Buffer.from('hello, this is not a capture file'), 'notes.txt')).toThrow(
      NotPcapError,
    );
    expect(() => parsePcap(Buffer.from('hello, this is not a capture file'), 'notes.txt')).toThrow(
      /notes\.txt: not a classic pcap file \(magic 0x68656c6c\)/,
    );
    expect(() => parsePcap(Buffer.alloc(10), 'short.pcap')).toThrow(/short\.pcap: 10 bytes/);
  });
});
