// Damaged classic pcap files: one bad record costs that record, not the rest of the file, and the
// damaged spot is named in one line with its byte offset. Real lab captures with one length field
// off by a byte (either way), a length above the snaplen, a zero-filled tail (preallocated file,
// crashed writer); hand-built files for global header fields tshark and libpcap refuse.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { createPcapParser, PCAP_MAGIC_MICRO } from '../../src/capture/pcap.js';
import { buildPcap, collect, frameDifference, prng, pushChunked, samplePaths } from './helpers.js';

/** Every record's header offset in a well-formed little- or big-endian classic pcap. */
function recordOffsets(bytes: Buffer): number[] {
  const le = bytes.readUInt32LE(0) === 0xa1b2c3d4 || bytes.readUInt32LE(0) === 0xa1b23c4d;
  const offsets: number[] = [];
  for (let p = 24; p + 16 <= bytes.length; ) {
    offsets.push(p);
    p += 16 + (le ? bytes.readUInt32LE(p + 8) : bytes.readUInt32BE(p + 8));
  }
  return offsets;
}

function parse(bytes: Buffer, chunk: () => number = () => bytes.length) {
  const c = collect();
  pushChunked(createPcapParser(c.sink), bytes, chunk);
  return c;
}

// The largest lab captures: enough records after the damage to see whether reading goes on.
const lab = samplePaths
  .map((p) => readFileSync(p))
  .sort((a, b) => b.length - a.length)
  .slice(0, 3);

describe('damaged classic pcap records', () => {
  for (const delta of [-1, +1, -3, +7]) {
    it(`a captured length ${delta > 0 ? '+' : ''}${delta} costs that record, not the rest`, () => {
      for (const bytes of lab) {
        const whole = parse(bytes);
        const offsets = recordOffsets(bytes);
        const k = Math.floor(offsets.length / 3);
        const at = offsets[k] as number;
        const broken = Buffer.from(bytes);
        broken.writeUInt32LE(broken.readUInt32LE(at + 8) + delta, at + 8);
        const random = prng(k);
        for (const chunk of [() => broken.length, () => 1 + Math.floor(random() * 3000)]) {
          const c = parse(broken, chunk);
          expect(c.frames.length).toBeGreaterThanOrEqual(whole.frames.length - 2);
          // every frame after the damaged spot is read, with its own bytes (numbers shift by the one lost)
          const after = whole.frames.length - k - 2;
          const unnumbered = (fs: typeof c.frames) => fs.slice(-after).map((f) => ({ ...f, number: 0 }));
          expect(frameDifference(unnumbered(c.frames), unnumbered(whole.frames))).toBeNull();
          expect(c.problems).toHaveLength(1);
          const problem = c.problems[0];
          expect(problem?.code).toBe('capture.malformed');
          // named where the damage shows: the damaged record or the header right after it
          expect(problem?.offset).toBeGreaterThanOrEqual(at);
          expect(problem?.offset).toBeLessThan(offsets[k + 2] as number);
          expect(problem?.message).toContain(`offset ${problem?.offset}`);
        }
      }
    });
  }

  it('a captured length above the snaplen (under 256 KiB) is a damaged header, resynchronised right there', () => {
    for (const bytes of lab) {
      const whole = parse(bytes);
      const snaplen = bytes.readUInt32LE(16);
      const offsets = recordOffsets(bytes);
      for (const k of [Math.floor(offsets.length / 2), offsets.length - 2]) {
        const at = offsets[k] as number;
        const broken = Buffer.from(bytes);
        broken.writeUInt32LE(snaplen + 5000, at + 8);
        broken.writeUInt32LE(snaplen + 6000, at + 12);
        const c = parse(broken);
        // not "cut off by the end of the file", and no good record after it skipped
        expect(c.problems.map((p) => [p.code, p.offset])).toEqual([['capture.malformed', at]]);
        expect(c.frames.length).toBe(whole.frames.length - 1);
        expect(c.frames.at(-1)?.fileOffset).toBe(whole.frames.at(-1)?.fileOffset);
      }
    }
  });

  it('a record longer than the snaplen is believed when the record after it is plausible', () => {
    // libpcap reads such files (tcpdump's own test captures have them)
    const t = 1_700_000_000;
    const bytes = buildPcap(
      true,
      PCAP_MAGIC_MICRO,
      [
        [t, 0, Buffer.alloc(60, 1)],
        [t, 5, Buffer.alloc(64, 2)],
        [t, 9, Buffer.alloc(64, 3)],
      ],
      37,
    );
    const c = parse(bytes);
    expect(c.frames.map((f) => f.capturedLength)).toEqual([60, 64, 64]);
    expect(c.problems).toEqual([]);
  });

  it('a header snaplen below the records costs nothing after a clock step or a damaged record', () => {
    // Every record is above the snaplen the header claims: once one is believed, the longest record
    // believed is the limit. Judged against the header's, a clock step of three days (or a damaged
    // record) left no record plausible again, and the rest of the file was lost.
    const t = 1_700_000_000;
    const records: Array<[number, number, Buffer]> = [];
    for (let i = 0; i < 12; i++) records.push([t + (i >= 6 ? 3 * 86400 : 0), i * 1000, Buffer.alloc(90, i)]);
    for (const snaplen of [1, 64]) {
      const bytes = buildPcap(true, PCAP_MAGIC_MICRO, records, snaplen);
      const c = parse(bytes);
      expect(c.frames.length).toBe(12);
      expect(c.problems).toEqual([]);
      // one record's length off by 3: that record (and at most the next) lost, not the rest
      const broken = Buffer.from(bytes);
      const at = recordOffsets(bytes)[3] as number;
      broken.writeUInt32LE(93, at + 8);
      for (const size of [broken.length, 7]) {
        const d = parse(broken, () => size);
        expect(d.frames.length).toBeGreaterThanOrEqual(10);
        expect(d.frames.at(-1)?.data.equals(Buffer.alloc(90, 11))).toBe(true);
        expect(d.problems).toHaveLength(1);
        expect(d.problems[0]?.offset).toBe(at);
      }
    }
  });

  it('a file that leaves its time for a few frames and comes back keeps every frame', () => {
    // Three frames three years back (another capture merged in, a clock stepped and stepped back),
    // the last of them three days later still: its successor, back at the file's own time, is far
    // from it and from the frame before, but within a day of the frames before the excursion. It
    // used to make that intact record "damaged", and nothing after it near enough to resume at.
    const t = 1_795_000_000;
    const back = t - 3 * 365 * 86400;
    const times = [t, t, t, t, back, back, back, back + 3 * 86400, t + 1, t + 1, t + 2, t + 2];
    const records = times.map((sec, i): [number, number, Buffer] => [sec, i * 1000, Buffer.alloc(80, i)]);
    const bytes = buildPcap(true, PCAP_MAGIC_MICRO, records);
    for (const size of [bytes.length, 5]) {
      const c = parse(bytes, () => size);
      expect(c.problems).toEqual([]);
      expect(c.frames.map((f) => f.timeSec)).toEqual(times);
    }
    // A frame whose time jumps, followed by frames that jump again (three times in a row).
    const twice = [t, t, t, t, t + 10 * 86400, t + 20 * 86400, t + 20 * 86400, t + 20 * 86400, t + 1, t + 1];
    const jumping = buildPcap(
      true,
      PCAP_MAGIC_MICRO,
      twice.map((sec, i): [number, number, Buffer] => [sec, i * 1000, Buffer.alloc(80, i)]),
    );
    for (const size of [jumping.length, 3]) {
      const c = parse(jumping, () => size);
      expect(c.problems).toEqual([]);
      expect(c.frames.map((f) => f.timeSec)).toEqual(twice);
    }
    // A record damaged where the excursion ends: reading resumes back at the file's own time.
    const again = [t, t, t, t, back, back, back, t + 1, t + 1, t + 2, t + 2];
    const clean = buildPcap(
      true,
      PCAP_MAGIC_MICRO,
      again.map((sec, i): [number, number, Buffer] => [sec, i * 1000, Buffer.alloc(80, i)]),
    );
    const broken = Buffer.from(clean);
    const at = recordOffsets(clean)[6] as number;
    broken.writeUInt32LE(0xffffff, at + 8);
    const c = parse(broken);
    expect(c.problems).toHaveLength(1);
    expect(c.problems[0]?.offset).toBe(at);
    expect(c.frames.map((f) => f.timeSec)).toEqual([...again.slice(0, 6), ...again.slice(7)]);
  });

  it('a record damaged right at a clock step of days costs that record, not the rest of the file', () => {
    // The time steps forward four days at frame 7 (a host's clock set, captures concatenated), and
    // frame 6's header is damaged: no record after it is within a day of the last good frame. Three
    // records in a row that agree with each other are believed instead of none at all.
    const t = 1_795_000_000;
    const times = [t, t, t, t + 1, t + 1, t + 2, ...Array.from({ length: 10 }, (_, i) => t + 4 * 86400 + i)];
    const clean = buildPcap(
      true,
      PCAP_MAGIC_MICRO,
      times.map((sec, i): [number, number, Buffer] => [sec, i * 1000, Buffer.alloc(70 + i, i)]),
    );
    const broken = Buffer.from(clean);
    const at = recordOffsets(clean)[5] as number;
    broken.writeUInt32LE(0xffffff, at + 8);
    for (const size of [broken.length, 5, 33]) {
      const c = parse(broken, () => size);
      expect(c.problems).toHaveLength(1);
      expect(c.problems[0]?.offset).toBe(at);
      expect(c.problems[0]?.message).toMatch(/reading resumes at offset \d+ with frame 6/);
      expect(c.frames.map((f) => f.timeSec)).toEqual([...times.slice(0, 5), ...times.slice(6)]);
    }
    // A length off by a few bytes: read four bytes off, the intact records after it chain on (their
    // captured and original lengths agree), their fractions of a second stepping like a clock. That
    // view must not be believed: the next real record is.
    // Each payload starts with bytes that, read as an original length, are possible (128).
    const payload = (i: number) => Buffer.concat([Buffer.from([0x80, 0, 0, 0]), Buffer.alloc(66 + i, i + 1)]);
    for (const step of [false, true]) {
      const steady = step ? times : times.map((_, i) => t + i);
      const records = buildPcap(
        true,
        PCAP_MAGIC_MICRO,
        steady.map((sec, i): [number, number, Buffer, number] => [sec, i * 1000, payload(i), 70 + i]),
      );
      const off = Buffer.from(records);
      off.writeUInt32LE(off.readUInt32LE(at + 8) + 5, at + 8);
      const d = parse(off);
      expect(d.problems).toHaveLength(1);
      expect(d.frames.map((f) => f.timeSec)).toEqual([...steady.slice(0, 5), ...steady.slice(6)]);
      expect(d.frames.at(-1)?.data.equals(payload(15))).toBe(true);
    }
    // Random bytes after the damage that merely look like one record far in time are not believed.
    const noise = Buffer.concat([broken.subarray(0, at + 16), Buffer.alloc(64, 0x5a)]);
    const n = parse(noise);
    expect(n.frames).toHaveLength(5);
    expect(n.problems).toHaveLength(1);
  });

  it('a zero-filled tail is said once with its offset, not read as zero-length frames', () => {
    for (const bytes of lab) {
      const whole = parse(bytes);
      const broken = Buffer.concat([bytes, Buffer.alloc(1 << 20)]);
      const random = prng(5);
      for (const chunk of [() => broken.length, () => 1 + Math.floor(random() * 70000)]) {
        const c = parse(broken, chunk);
        expect(frameDifference(c.frames, whole.frames)).toBeNull();
        expect(c.problems).toHaveLength(1);
        expect(c.problems[0]).toMatchObject({ code: 'capture.malformed', offset: bytes.length });
        expect(c.problems[0]?.message).toMatch(
          new RegExp(`from offset ${bytes.length} to the end of the file the records are all zero bytes`),
        );
      }
    }
  });

  it('zero bytes in the middle (a crashed writer restarted) are skipped to the next record', () => {
    const bytes = lab[0] as Buffer;
    const whole = parse(bytes);
    const offsets = recordOffsets(bytes);
    const at = offsets[10] as number;
    const broken = Buffer.concat([bytes.subarray(0, at), Buffer.alloc(4096), bytes.subarray(at)]);
    const c = parse(broken);
    expect(c.frames).toHaveLength(whole.frames.length);
    expect(c.problems).toHaveLength(1);
    expect(c.problems[0]?.message).toMatch(
      new RegExp(
        `from offset ${at} the file holds 4096 zero bytes instead of records.*resumes at offset ${at + 4096}`,
      ),
    );
  });

  it('a pcap version other than 2.4 and reserved link-type bits: one warning each, frames read on', () => {
    const t = 1_700_000_000;
    const bytes = buildPcap(true, PCAP_MAGIC_MICRO, [
      [t, 0, [1, 2, 3]],
      [t, 1, [4, 5]],
    ]);
    bytes.writeUInt16LE(3, 6); // version 2.3
    bytes.writeUInt32LE(0x00050001, 20); // reserved bits 16-25 set, link type 1
    const c = parse(bytes);
    expect(c.frames).toHaveLength(2);
    expect(c.frames[0]?.linkType).toBe(1);
    expect(c.problems.map((p) => p.message)).toEqual([
      expect.stringMatching(/field at offset 4: pcap version 2\.3/),
      expect.stringMatching(/field at offset 20: link type field 0x00050001 has reserved bits set/),
    ]);
  });
});
