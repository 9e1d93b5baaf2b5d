// Seeded fuzzing of both parsers and of readCapture: lab captures and the pcapng fixture mutated
// at random (byte flips, truncations, splices of two files, length fields set to huge values),
// pushed in random chunk sizes. Whatever the bytes, no exception may escape push/end, frame
// counts stay <= bytes/16, and every frame's data is exactly capturedLength bytes lying inside
// its buffer. readCapture on mutated gzip files either resolves or throws a CaptureOpenError.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import type { CaptureSink, Frame } from '../../src/capture/frame.js';
import { createPcapParser } from '../../src/capture/pcap.js';
import { createPcapngParser } from '../../src/capture/pcapng.js';
import { readCapture } from '../../src/capture/read.js';
import { CaptureOpenError } from '../../src/errors.js';
import { prng, pushChunked, root, samplePaths } from './helpers.js';

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
    onInterface() {},
    onProblem() {},
    onFrame(f: Frame) {
      sink.frames++;
      if (f.number !== sink.frames) failures.push(`frame number ${f.number} after ${sink.frames - 1}`);
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
      if (parser.carryCapacity > (1 << 24) + 16)
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
