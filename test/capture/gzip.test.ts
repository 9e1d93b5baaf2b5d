// gzip around a capture, damaged the ways zcat shrugs off: junk or zero bytes after the data, a
// bad CRC-32 or length in the trailer (the deflate data intact), several members concatenated.
// zcat keeps every byte and warns; so must readCapture: every frame of the uncompressed capture
// read, and one warning line naming the spot. Small captures (under 16 KiB decompressed) too.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { readCapture } from '../../src/capture/read.js';
import { collect, frameDifference, root, samplePaths } from './helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'hopscope-gz-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** The first records of a lab capture, cut at a record boundary below `max` bytes. */
function smallCapture(max: number): Buffer {
  const bytes = readFileSync(samplePaths[0] as string);
  let end = 24;
  while (end + 16 <= bytes.length) {
    const next = end + 16 + bytes.readUInt32LE(end + 8);
    if (next > max) break;
    end = next;
  }
  return bytes.subarray(0, end);
}

let n = 0;
async function read(bytes: Buffer, chunkSize?: number) {
  const path = join(dir, `c${n++}.pcap.gz`);
  writeFileSync(path, bytes);
  const c = collect();
  const summary = await readCapture(path, c.sink, chunkSize ? { chunkSize } : {});
  return { c, summary, path };
}

const ng = readFileSync(join(root, 'test/fixtures/pmtu-guest1-eth0.pcapng'));

describe('gzip damage zcat shrugs off', () => {
  for (const [name, plain] of [
    ['a capture under 16 KiB', smallCapture(12_000)],
    ['a larger capture', readFileSync(samplePaths[0] as string)],
    ['a pcapng', ng],
  ] as const) {
    describe(name, async () => {
      const whole = (await read(gzipSync(plain))).c;
      const gz = gzipSync(plain);

      it('reads the plain gzip file without a problem', () => {
        expect(whole.problems).toEqual([]);
        expect(whole.frames.length).toBeGreaterThan(3);
      });

      it.each([
        [
          'trailing junk',
          Buffer.concat([gz, Buffer.from('this is not gzip data\n')]),
          /22 bytes of trailing junk after the gzip data at compressed offset (\d+)/,
        ],
        [
          'trailing zero bytes',
          Buffer.concat([gz, Buffer.alloc(512)]),
          /512 zero bytes after the gzip data at compressed offset (\d+)/,
        ],
        [
          'a bad CRC-32',
          (() => {
            const b = Buffer.from(gz);
            b[b.length - 7] = (b[b.length - 7] as number) ^ 0x55;
            return b;
          })(),
          /the gzip trailer at compressed offset (\d+) does not match the data \(CRC-32/,
        ],
        [
          'a bad length',
          (() => {
            const b = Buffer.from(gz);
            b[b.length - 1] = (b[b.length - 1] as number) ^ 0x01;
            return b;
          })(),
          /the gzip trailer at compressed offset (\d+) does not match the data/,
        ],
      ])('%s: every frame kept, one warning with the offset', async (_what, bytes, message) => {
        for (const chunkSize of [undefined, 7, 1000]) {
          const { c, summary } = await read(bytes, chunkSize);
          expect(frameDifference(c.frames, whole.frames)).toBeNull();
          expect(summary.frames).toBe(whole.frames.length);
          expect(c.problems).toHaveLength(1);
          const match = c.problems[0]?.message.match(message);
          expect(match).not.toBeNull();
          // the offset named is where the trailer starts (bad trailer) or ends (junk)
          expect([gz.length - 8, gz.length]).toContain(Number(match?.[1]));
        }
      });

      it('reads concatenated members one after the other, like zcat', async () => {
        const half = Math.floor(plain.length / 2);
        const bytes = Buffer.concat([gzipSync(plain.subarray(0, half)), gzipSync(plain.subarray(half))]);
        const { c } = await read(bytes, 333);
        expect(c.problems).toEqual([]);
        expect(frameDifference(c.frames, whole.frames)).toBeNull();
        const zcat = execFileSync('zcat', { input: bytes });
        expect(zcat.equals(plain)).toBe(true);
      });
    });
  }
});
