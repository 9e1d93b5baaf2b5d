// The decoder allocates nothing per frame once V8 has compiled it. A 32-bit field of 2^31 or more
// (half of all TCP sequence numbers, most Linux timestamps) is no small integer for V8: a read that
// V8 left as a call returned it as a new heap number, one per frame, and that was most of what a
// whole analysis allocated. Checked on the built decoder (dist/, built by test/global-setup.ts) in a
// child process, with V8's sampling heap profiler counting what decoding a real lab capture's
// frames allocates, over and over, after a warm-up.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { ALLOCATED_WARM } from '../helpers/warm-allocation.js';

const root = join(import.meta.dirname, '..', '..');
const dist = (path: string) => JSON.stringify(pathToFileURL(join(root, 'dist', path)).href);
// A NIC's capture of VXLAN-tunnelled TCP: what V8 inlines depends on the frames it has seen, and on
// these frames alone the old decoder left a 32-bit read standing (with a guest's frames mixed in, it
// happened to inline them all).
const captures = [join(root, 'samples', 'jumbo-underlay', 'host1-phy0.pcap')];

const script = `${ALLOCATED_WARM}
import { readFileSync } from 'node:fs';
import { decodeFrameAt } from ${dist('decode/decode.js')};
import { createPacket, MAX_LEVELS } from ${dist('decode/packet.js')};
const frames = [];
for (const path of ${JSON.stringify(captures)}) {
  const file = readFileSync(path);
  const data = new Uint8Array(file.buffer, file.byteOffset, file.length);
  for (let at = 24; at + 16 <= file.length; ) {
    const captured = file.readUInt32LE(at + 8);
    frames.push({ data, start: at + 16, captured, original: file.readUInt32LE(at + 12) });
    at += 16 + captured;
  }
}
const packet = createPacket();
const decodeAll = () => {
  for (const f of frames) decodeFrameAt(1, f.data, f.start, f.captured, f.original, packet);
};
// Frames whose TCP numbers are not small integers: without them this test would check nothing.
let large = 0;
for (const f of frames) {
  decodeFrameAt(1, f.data, f.start, f.captured, f.original, packet);
  for (let i = 0; i < packet.levelCount && i < MAX_LEVELS; i++) {
    const l = packet.levels[i];
    if (l.protocol === 6 && (l.tcpSeq >= 2 ** 31 || l.tcpAck >= 2 ** 31 || l.tcpTsVal >= 2 ** 31)) large++;
  }
}
const { bytes, frames: decoded } = await allocatedWarm(decodeAll, frames.length, 200000);
console.log(JSON.stringify({ frames: decoded, large, bytes }));
`;

describe('decoding', () => {
  it('allocates nothing per frame, 32-bit fields of 2^31 and more included', () => {
    const child = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' });
    expect(child.stderr).toBe('');
    expect(child.status).toBe(0);
    const { frames, large, bytes } = JSON.parse(child.stdout) as {
      frames: number;
      large: number;
      bytes: number;
    };
    expect(frames).toBeGreaterThanOrEqual(200_000);
    expect(large).toBeGreaterThan(0);
    // A heap number per frame is 16 bytes a frame. What is left (well under a byte a frame) is the
    // odd frame off the common path, and the sampling's own noise.
    expect(bytes / frames).toBeLessThan(1);
  });
});
