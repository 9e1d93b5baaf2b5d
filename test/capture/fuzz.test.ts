// Seeded fuzzing of both parsers and of readCapture: lab captures and the pcapng fixture mutated
// at random (byte flips, truncations, splices of two files, length fields set to huge values),
// pushed in random chunk sizes. Whatever the bytes, no exception may escape push/end, frame
// counts stay <= bytes/16, and every frame's data is exactly capturedLength bytes lying inside
// its buffer. readCapture on mutated gzip files either resolves or throws a CaptureOpenError.
// And the bound on damage: a capture with k damaged records (lengths off by a few bytes, above the
// snaplen, impossible, zeroed headers; pcapng block lengths that lie, in any block) gives at least
// frames - 2k frames, and every damaged spot is named in one line with the file and byte offset.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { pino } from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import type { CaptureSink, Frame } from '../../src/capture/frame.js';
import { createPcapParser } from '../../src/capture/pcap.js';
import { createPcapngParser } from '../../src/capture/pcapng.js';
import { readCapture } from '../../src/capture/read.js';
import { CaptureOpenError } from '../../src/errors.js';
import { analyzeCaptures } from '../../src/pipeline/analyze.js';
import { emptyOverrides } from '../../src/pipeline/hops.js';
import { collect, prng, pushChunked, root, samplePaths } from './helpers.js';

const ng = readFileSync(join(root, 'test/fixtures/pmtu-guest1-eth0.pcapng'));
// The smaller samples keep the run short; every kind of scenario is among them.
const pcaps = samplePaths.map((p) => readFileSync(p)).filter((b) => b.length < 200_000);

function mutate(random: () => number, base: Buffer, other: Buffer): Buffer {
  const out = Buffer.from(base);
  const pick = (n: number) => Math.floor(random() * n);
  switch (pick(5)) {
    case 0: // byte flips
      for (let i = 1 + pick(20); i > 0; i--) out[pick(out.length)] = pick(256);
      return out;
    case 1: // truncation
      return out.subarray(0, pick(out.length));
    case 2: // splice: a head of this file and a tail of another
      return Buffer.concat([out.subarray(0, pick(out.length)), other.subarray(pick(other.length))]);
    case 3: {
      // a 32-bit field at a 4-byte boundary (record/block lengths among them) set to a huge value
      for (let i = 1 + pick(3); i > 0; i--) {
        const at = pick(Math.floor(out.length / 4)) * 4;
        out.writeUInt32LE([0xffffffff, 0x7fffffff, 0x00040001, 0x10000000][pick(4)] as number, at);
      }
      return out;
    }
    default: // a length field of the first records or blocks
      out.writeUInt32LE(pick(2 ** 32), [8, 12, 32, 36, 48, 52, 56, 68][pick(8)] as number);
      return out;
  }
}

/** A sink checking each frame as it comes. */
function checkingSink(failures: string[]): CaptureSink & { frames: number } {
  const sink = {
    frames: 0,
    last: 0,
    onInterface() {},
    onProblem() {},
    onFrame(f: Frame) {
      // numbers only grow (a pcapng custom block takes one, as in Wireshark)
      if (f.number <= sink.last) failures.push(`frame number ${f.number} after ${sink.last}`);
      sink.frames++;
      sink.last = f.number;
      if (f.data.length !== f.capturedLength) failures.push(`frame ${f.number}: data ${f.data.length} bytes`);
      if (f.data.byteOffset + f.data.length > f.data.buffer.byteLength)
        failures.push(`frame ${f.number} out of bounds`);
      if (!Number.isInteger(f.timeSec) || !Number.isInteger(f.timeNs) || f.timeNs < 0 || f.timeNs >= 1e9) {
        failures.push(`frame ${f.number}: time ${f.timeSec}.${f.timeNs}`);
      }
    },
  };
  return sink;
}

describe('fuzzing the capture parsers', () => {
  it('survives 400 mutated files pushed in random chunks', () => {
    const random = prng(20261127);
    const failures: string[] = [];
    for (let i = 0; i < 400; i++) {
      const pcapng = i % 3 === 0;
      const base = pcapng ? ng : (pcaps[Math.floor(random() * pcaps.length)] as Buffer);
      const other = random() < 0.5 ? ng : (pcaps[Math.floor(random() * pcaps.length)] as Buffer);
      const bytes = mutate(random, base, other);
      const sink = checkingSink(failures);
      const parser = pcapng ? createPcapngParser(sink) : createPcapParser(sink);
      const maxChunk = [1, 13, 4096, 1 << 20][Math.floor(random() * 4)] as number;
      try {
        pushChunked(parser, bytes, () => 1 + Math.floor(random() * maxChunk));
      } catch (err) {
        failures.push(`iteration ${i}: ${String(err)}`);
      }
      if (sink.frames > bytes.length / 16)
        failures.push(`iteration ${i}: ${sink.frames} frames in ${bytes.length} bytes`);
      // the largest record, plus the next record's header looked at while judging it
      if (parser.carryCapacity > (1 << 24) + 32)
        failures.push(`iteration ${i}: carry ${parser.carryCapacity}`);
    }
    expect(failures.slice(0, 10)).toEqual([]);
  });

  const dir = mkdtempSync(join(tmpdir(), 'hopscope-fuzz-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('readCapture on mutated gzip files resolves or throws a CaptureOpenError', async () => {
    const random = prng(7);
    const gz = [gzipSync(pcaps[0] as Buffer), gzipSync(ng)];
    const failures: string[] = [];
    for (let i = 0; i < 40; i++) {
      const bytes = mutate(random, gz[i % 2] as Buffer, gz[(i + 1) % 2] as Buffer);
      const path = join(dir, `m${i}.gz`);
      writeFileSync(path, bytes);
      const sink = checkingSink(failures);
      try {
        const summary = await readCapture(path, sink, { chunkSize: 1 + Math.floor(random() * 5000) });
        if (summary.frames !== sink.frames) failures.push(`iteration ${i}: summary says ${summary.frames}`);
      } catch (err) {
        if (!(err instanceof CaptureOpenError)) failures.push(`iteration ${i}: ${String(err)}`);
      }
    }
    expect(failures.slice(0, 10)).toEqual([]);
  });
});

/** Offsets of the records (classic pcap) or blocks (pcapng) of a well-formed little-endian file. */
function units(bytes: Buffer, pcapng: boolean): number[] {
  const out: number[] = [];
  for (let p = pcapng ? 0 : 24; p + 16 <= bytes.length; ) {
    out.push(p);
    p += pcapng ? bytes.readUInt32LE(p + 4) : 16 + bytes.readUInt32LE(p + 8);
  }
  return out;
}

/** Damages k records or blocks at least 3 apart; returns the damaged bytes and their offsets. */
function damage(
  random: () => number,
  base: Buffer,
  pcapng: boolean,
): { bytes: Buffer; spots: number[]; all: number[] } {
  const all = units(base, pcapng);
  const out = Buffer.from(base);
  const pick = (n: number) => Math.floor(random() * n);
  const k = 1 + pick(4);
  const spots: number[] = [];
  for (let i = 1 + pick(3); spots.length < k && i < all.length - 1; i += 3 + pick(20)) {
    const at = all[i] as number;
    spots.push(at);
    if (pcapng) {
      const length = out.readUInt32LE(at + 4);
      const lie = [length + 4, length - 4, length + 8, length + 2, 7, 0x10000000, length * 3][
        pick(7)
      ] as number;
      if (pick(4) === 0)
        out.writeUInt32LE(lie >>> 0, at + length - 4); // the trailing copy lies instead
      else out.writeUInt32LE(lie >>> 0, at + 4);
      continue;
    }
    const caplen = out.readUInt32LE(at + 8);
    switch (pick(5)) {
      case 0: // off by a few bytes either way
        out.writeUInt32LE(Math.max(0, caplen + ([-3, -2, -1, 1, 2, 5][pick(6)] as number)), at + 8);
        break;
      case 1: // above the snaplen, under 256 KiB
        out.writeUInt32LE(out.readUInt32LE(16) + 1 + pick(100_000), at + 8);
        out.writeUInt32LE(0xffff0, at + 12);
        break;
      case 2: // impossible
        out.writeUInt32LE(0x10000000 + pick(1 << 20), at + 8);
        break;
      case 3: // fewer original than captured bytes
        out.writeUInt32LE(0, at + 12);
        break;
      default: // a zeroed header
        out.fill(0, at, at + 16);
    }
  }
  return { bytes: out, spots, all };
}

describe('damage stays bounded', () => {
  const dir = mkdtempSync(join(tmpdir(), 'hopscope-damage-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('k damaged records cost at most 2k frames, and each spot is named once with its offset', () => {
    const random = prng(12);
    const failures: string[] = [];
    for (let i = 0; i < 240; i++) {
      const pcapng = i % 4 === 0;
      const base = pcapng ? ng : (pcaps[Math.floor(random() * pcaps.length)] as Buffer);
      const whole = collect();
      const make = () => (pcapng ? createPcapngParser : createPcapParser);
      pushChunked(make()(whole.sink), base, () => base.length);
      const { bytes, spots, all } = damage(random, base, pcapng);
      const c = collect();
      const maxChunk = [13, 4096, 1 << 20][Math.floor(random() * 3)] as number;
      pushChunked(make()(c.sink), bytes, () => 1 + Math.floor(random() * maxChunk));
      const k = spots.length;
      if (c.frames.length < whole.frames.length - 2 * k)
        failures.push(
          `iteration ${i}: ${c.frames.length} of ${whole.frames.length} frames with ${k} damaged`,
        );
      if (c.problems.length > k) failures.push(`iteration ${i}: ${c.problems.length} lines for ${k} spots`);
      for (const at of spots) {
        const next = all[all.indexOf(at) + 2] ?? bytes.length;
        const named = c.problems.some(
          (p) => p.offset >= at && p.offset < next && p.message.includes(`offset ${p.offset}`),
        );
        if (!named)
          failures.push(`iteration ${i}: spot at ${at} not named (${c.problems.map((p) => p.offset)})`);
      }
    }
    expect(failures.slice(0, 10)).toEqual([]);
  });

  it('the analysis names each damaged spot in one line with the file and the offset', async () => {
    const random = prng(99);
    const logger = pino({ level: 'silent' });
    for (let i = 0; i < 8; i++) {
      const pcapng = i % 2 === 0;
      const base = pcapng ? ng : (pcaps[i % pcaps.length] as Buffer);
      const { bytes, spots } = damage(random, base, pcapng);
      const path = join(dir, `damaged${i}.${pcapng ? 'pcapng' : 'pcap'}`);
      writeFileSync(path, bytes);
      const result = await analyzeCaptures([path], { overrides: emptyOverrides(), logger, jobs: 1 });
      const errors = result.captures[0]?.errors ?? [];
      expect(errors.length).toBeLessThanOrEqual(spots.length);
      for (const line of errors) expect(line).toMatch(new RegExp(`^${path}: .*offset \\d+`));
      expect(errors.length).toBeGreaterThan(0);
    }
  });
});
