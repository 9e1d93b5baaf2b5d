// The incremental classic pcap parser: pcap-parser as an independent oracle on every lab capture
// (frames, timestamps, lengths, bytes); the same file pushed in random chunk sizes (1 byte
// included) gives identical frames; hand-built files for what tcpdump here never writes
// (big-endian, nanoseconds), a record cut off by the end, impossible lengths; parsePcap compat.
import { readFileSync } from 'node:fs';
// @ts-expect-error pcap-parser ships no types
import pcapParser from 'pcap-parser';
import { describe, expect, it } from 'vitest';
import { createPcapParser, PCAP_MAGIC_MICRO, PCAP_MAGIC_NANO } from '../../src/capture/pcap.js';
import { parsePcap } from '../helpers/parse-pcap.js';
import {
  buildPcap,
  collect,
  frameDifference,
  prng,
  pushChunked,
  samplePaths,
  samplesDir,
} from './helpers.js';

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

function parseWhole(bytes: Uint8Array) {
  const c = collect();
  const parser = createPcapParser(c.sink);
  parser.push(bytes);
  parser.end();
  return { ...c, parser };
}

describe('classic pcap parser', () => {
  it('finds the lab captures', () => {
    expect(samplePaths.length).toBeGreaterThanOrEqual(70);
  });

  it.each(samplePaths.map((p) => [p.slice(samplesDir.length + 1), p]))(
    'matches pcap-parser on %s, whole and in random chunks',
    async (_name, path) => {
      const bytes = readFileSync(path);
      const ours = parseWhole(bytes);
      const theirs = await oracle(path);
      expect(ours.problems).toEqual([]);
      expect(ours.interfaces).toEqual([
        { interfaceId: 0, linkType: 1, snaplen: 256, name: null, description: null },
      ]);
      expect(ours.frames).toHaveLength(theirs.length);
      const mismatches: string[] = [];
      let offset = 24;
      ours.frames.forEach((f, i) => {
        const t = theirs[i] as OracleRecord;
        const want = [i + 1, t.sec, t.usec * 1000, t.incl, t.orig, offset, 0, 1, 0, null];
        const got: Array<number | string | null> = [f.number, f.timeSec, f.timeNs, f.capturedLength];
        got.push(f.originalLength, f.fileOffset, f.interfaceId, f.linkType, f.direction, f.comment);
        if (got.some((v, k) => v !== want[k]) || !f.data.equals(t.data)) mismatches.push(`frame ${i + 1}`);
        offset += 16 + f.capturedLength;
      });
      expect(mismatches).toEqual([]);
      const random = prng(path.length * 7919);
      const chunked = collect();
      pushChunked(createPcapParser(chunked.sink), bytes, () => 1 + Math.floor(random() ** 3 * 4000));
      expect(frameDifference(chunked.frames, ours.frames)).toBeNull();
      expect(chunked.problems).toEqual([]);
    },
  );

  it('gives the same frames when fed one byte at a time', () => {
    const bytes = readFileSync(samplePaths[0] as string);
    const whole = parseWhole(bytes);
    const c = collect();
    const parser = createPcapParser(c.sink);
    pushChunked(parser, bytes, () => 1);
    expect(frameDifference(c.frames, whole.frames)).toBeNull();
    expect(c.frames.length).toBeGreaterThan(0);
    expect(parser.bytes).toBe(bytes.length);
    expect(parser.carryCapacity).toBeLessThanOrEqual(65536);
  });

  it.each([
    [true, PCAP_MAGIC_NANO],
    [false, PCAP_MAGIC_NANO],
    [false, PCAP_MAGIC_MICRO],
  ])('reads little-endian=%s magic 0x%s by hand', (le, magic) => {
    const ns = magic === PCAP_MAGIC_NANO;
    const bytes = buildPcap(le, magic, [
      [1700000000, ns ? 123456789 : 123456, [1, 2, 3]],
      [1700000001, ns ? 999999999 : 999999, [4]],
    ]);
    const r = parseWhole(bytes);
    expect(r.parser.header).toMatchObject({ littleEndian: le, nanosecond: ns, snaplen: 65535, linkType: 1 });
    expect(
      r.frames.map((f) => [f.timeSec, f.timeNs, f.capturedLength, f.originalLength, [...f.data]]),
    ).toEqual([
      [1700000000, ns ? 123456789 : 123456000, 3, 103, [1, 2, 3]],
      [1700000001, 999999999 - (ns ? 0 : 999), 1, 101, [4]],
    ]);
    expect(r.problems).toEqual([]);
  });

  it('reports a record cut off by the end of the file, keeping the frames before it', () => {
    const whole = buildPcap(true, PCAP_MAGIC_MICRO, [
      [1, 5, [9, 9, 9, 9]],
      [2, 6, [8, 8, 8, 8]],
    ]);
    for (const size of [1, 3, 1000]) {
      const c = collect();
      pushChunked(createPcapParser(c.sink), whole.subarray(0, whole.length - 2), () => size);
      expect(c.frames.map((f) => [f.timeSec, f.timeNs])).toEqual([[1, 5000]]);
      expect(c.problems).toHaveLength(1);
      expect(c.problems[0]).toMatchObject({ code: 'capture.truncated-file', frame: 2, offset: 44 });
      expect(c.problems[0]?.message).toMatch(/frame 2 at offset 44 .*cut off.*18 of 20 bytes/);
    }
  });

  it('reports a file that ends inside the global header', () => {
    const c = collect();
    const parser = createPcapParser(c.sink);
    pushChunked(parser, buildPcap(true, PCAP_MAGIC_MICRO, []).subarray(0, 10), () => 3);
    expect(parser.header).toBeNull();
    expect(c.problems[0]).toMatchObject({ code: 'capture.truncated-file', offset: 0 });
  });

  it('reports a record longer than max(snaplen, 256 KiB), then resumes at the next plausible record', () => {
    const big = Buffer.alloc(300_000, 7);
    const t = 1_700_000_000;
    const bytes = buildPcap(false, PCAP_MAGIC_MICRO, [
      [t, 0, [1]],
      [t + 1, 0, big, 300_000],
      [t + 2, 0, [3]],
    ]);
    for (const chunk of [bytes.length, 1000, 1]) {
      const c = collect();
      const parser = createPcapParser(c.sink);
      pushChunked(parser, bytes, () => chunk);
      expect(c.frames.map((f) => [f.number, f.timeSec, f.fileOffset, [...f.data]])).toEqual([
        [1, t, 24, [1]],
        [2, t + 2, bytes.length - 17, [3]],
      ]);
      // one line for the damaged spot: where it is, what was wrong, where reading resumes
      expect(c.problems).toEqual([
        expect.objectContaining({ code: 'capture.malformed', frame: 2, offset: 41 }),
      ]);
      expect(c.problems[0]?.message).toMatch(
        new RegExp(
          `frame 2 at offset 41: damaged record header \\(captured length 300000 is above the limit 262144 \\(snaplen 65535.*skipped 300016 bytes, reading resumes at offset ${bytes.length - 17} with frame 2`,
        ),
      );
    }
    // a snaplen above 256 KiB raises the limit: the same record is then legal
    const c = collect();
    const p = createPcapParser(c.sink);
    pushChunked(p, buildPcap(false, PCAP_MAGIC_MICRO, [[2, 0, big, 300_000]], 400_000), () => 65536);
    expect(c.frames.map((f) => f.capturedLength)).toEqual([300_000]);
    expect(c.frames[0]?.data.equals(big)).toBe(true);
    expect(p.carryCapacity).toBeLessThanOrEqual(2 * 300_016);
  });

  it('resynchronises past garbage in the middle of a lab capture', () => {
    const bytes = readFileSync(samplePaths[0] as string);
    const whole = parseWhole(bytes);
    const f3 = whole.frames[2]?.fileOffset as number;
    const broken = Buffer.concat([bytes.subarray(0, f3), Buffer.alloc(53, 0xff), bytes.subarray(f3)]);
    const random = prng(3);
    const c = collect();
    pushChunked(createPcapParser(c.sink), broken, () => 1 + Math.floor(random() * 100));
    const unshift = (f: (typeof c.frames)[number]) => ({
      ...f,
      fileOffset: f.fileOffset - (f.number > 2 ? 53 : 0),
    });
    expect(frameDifference(c.frames.map(unshift), whole.frames)).toBeNull();
    expect(c.problems.map((p) => [p.frame, p.offset])).toEqual([[3, f3]]);
    expect(c.problems[0]?.message).toMatch(
      new RegExp(`skipped 53 bytes, reading resumes at offset ${f3 + 53}`),
    );
  });

  it('reports the end of the file reached while looking for a plausible record', () => {
    const bytes = buildPcap(true, PCAP_MAGIC_MICRO, [[1_700_000_000, 0, [1]]]);
    const r = parseWhole(Buffer.concat([bytes, Buffer.alloc(40, 0xff)]));
    expect(r.frames).toHaveLength(1);
    expect(r.problems.map((p) => p.offset)).toEqual([41]);
    expect(r.problems[0]?.message).toMatch(
      /frame 2 at offset 41: damaged record header .*no plausible record after it up to the end of the file \(81 bytes\)/,
    );
  });

  it('stops at a record claiming more captured than original bytes', () => {
    const r = parseWhole(buildPcap(true, PCAP_MAGIC_MICRO, [[1, 0, [1, 2, 3, 4], 2]]));
    expect(r.frames).toHaveLength(0);
    expect(r.problems[0]?.message).toMatch(/captured length 4 is more than the original length 2/);
  });

  it('reports what is not a pcap as malformed instead of throwing', () => {
    const r = parseWhole(Buffer.from('hello, this is not a capture file'));
    expect(r.parser.header).toBeNull();
    expect(r.problems[0]?.message).toMatch(/not a classic pcap file \(first bytes 68 65 6c 6c\)/);
  });

  it('reads a whole capture into records for the test helpers (parse-pcap.ts), same shape as before', () => {
    const path = samplePaths[0] as string;
    const f = parsePcap(readFileSync(path), path);
    const r = parseWhole(readFileSync(path));
    expect(f).toMatchObject({
      linkType: 1,
      snaplen: 256,
      nanosecond: false,
      littleEndian: true,
      truncatedAt: null,
    });
    expect(f.records.map((x) => x.timeNs)).toEqual(
      r.frames.map((x) => BigInt(x.timeSec) * 1_000_000_000n + BigInt(x.timeNs)),
    );
    expect(Buffer.from(f.records[0]?.data ?? []).equals(r.frames[0]?.data ?? Buffer.alloc(0))).toBe(true);
    const cut = parsePcap(buildPcap(true, PCAP_MAGIC_MICRO, [[1, 0, [1, 2]]]).subarray(0, 41));
    expect(cut.truncatedAt).toBe(24);
    expect(() => parsePcap(Buffer.from('not a pcap at all'), 'notes.txt')).toThrow(
      /notes\.txt: not a classic/,
    );
    expect(() => parsePcap(Buffer.alloc(10), 'short.pcap')).toThrow(/short\.pcap: /);
  });
});
