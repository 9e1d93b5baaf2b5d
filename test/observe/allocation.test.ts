// Observing a frame at a hop allocates nothing once V8 has compiled it, beyond the samples a hop
// keeps for correlation (bounded per flow, and switched off here by spending the hop's sample
// budget first). A double handed to a call V8 did not inline is boxed: checksum bookkeeping passed
// the frame's time to a helper and allocated a heap number for every frame of a notable class (a
// NIC's partial checksums), a byte a frame in all; the reassembler was handed the time of every
// fragment, 32 bytes a frame of a fragmenting underlay. Checked on the built code (dist/, built by
// test/global-setup.ts) in a child process with V8's sampling heap profiler, over a real lab
// capture's frames observed again and again at one hop, after a warm-up.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { ALLOCATED_WARM } from '../helpers/warm-allocation.js';

const root = join(import.meta.dirname, '..', '..');
const dist = (path: string) => JSON.stringify(pathToFileURL(join(root, 'dist', path)).href);
const sample = (dir: string) => join(root, 'samples', dir, 'host1-phy0.pcap');

/**
 * Observes `capture`'s frames again and again at one warm hop, then prints the bytes allocated per
 * frame. With `renumber`, each round gives the IPv4 fragments' datagrams new ids (the same frames
 * again would be duplicates to the reassembler, not new datagrams).
 */
const script = (capture: string, renumber: boolean) => `${ALLOCATED_WARM}
import { readFileSync } from 'node:fs';
import { decodeFrameAt } from ${dist('decode/decode.js')};
import { createPacket } from ${dist('decode/packet.js')};
import { createHopState, observeFrame } from ${dist('observe/hop.js')};
import { SAMPLE_BUDGET } from ${dist('observe/tcp.js')};
const file = Buffer.from(readFileSync(${JSON.stringify(capture)}));
const data = new Uint8Array(file.buffer, file.byteOffset, file.length);
const packet = createPacket();
const frames = [];
const ids = [];
for (let at = 24; at + 16 <= file.length; ) {
  const captured = file.readUInt32LE(at + 8);
  frames.push({
    number: 0, interfaceId: 0, linkType: 1,
    timeSec: file.readUInt32LE(at), timeNs: file.readUInt32LE(at + 4) * 1000,
    capturedLength: captured, originalLength: file.readUInt32LE(at + 12),
    direction: 0, comment: null, fileOffset: at, buffer: data, dataOffset: at + 16,
  });
  decodeFrameAt(1, data, at + 16, captured, file.readUInt32LE(at + 12), packet);
  let idAt = -1;
  for (let i = 0; i < packet.levelCount; i++) {
    const l = packet.levels[i];
    if (${renumber} && l.isFragment && l.ipVersion === 4) idAt = l.ipOffset + 4;
  }
  ids.push(idAt >= 0 ? [idAt, (data[idAt] << 8) | data[idAt + 1]] : null);
  at += 16 + captured;
}
const hop = createHopState({ name: 'nic', kind: 'physical', kindSource: 'option', mtu: null, mtuSource: null, snaplen: 262144 });
hop.samplesKept = SAMPLE_BUDGET;
let number = 0;
let round = 0;
const observeAll = () => {
  round++;
  for (let i = 0; i < frames.length; i++) {
    const f = frames[i];
    const id = ids[i];
    if (id !== null) {
      const v = (id[1] + round * 7) & 0xffff;
      data[id[0]] = v >> 8;
      data[id[0] + 1] = v & 0xff;
    }
    f.number = ++number;
    decodeFrameAt(1, data, f.dataOffset, f.capturedLength, f.originalLength, packet);
    observeFrame(hop, f, packet, data);
  }
};
const { bytes, frames: observed } = await allocatedWarm(observeAll, frames.length, 200000);
const c = hop.checksums.counts;
console.log(JSON.stringify({
  frames: observed,
  notable: c.partial + c.bad + c.unverifiable + c.lco,
  reassembled: hop.fragments.reassembled,
  bytes,
}));
`;

function run(capture: string, renumber: boolean) {
  const child = spawnSync(process.execPath, ['--input-type=module', '-e', script(capture, renumber)], {
    encoding: 'utf8',
  });
  expect(child.stderr).toBe('');
  expect(child.status).toBe(0);
  return JSON.parse(child.stdout) as { frames: number; notable: number; reassembled: number; bytes: number };
}

describe('observing', () => {
  it('allocates nothing per frame at a hop, its correlation samples apart', () => {
    const { frames, notable, bytes } = run(sample('jumbo-underlay'), false);
    expect(frames).toBeGreaterThanOrEqual(200_000);
    // Frames of a class whose first frames and times are kept: without them this checks less.
    expect(notable).toBeGreaterThan(frames / 4);
    // The boxed time was ~0.9 bytes a frame of its own (a heap number every ~18 frames).
    expect(bytes / frames).toBeLessThan(0.5);
  });

  it('allocates nothing per fragment either, as datagrams are rebuilt and observed', () => {
    // A fragmenting underlay: nearly every frame is an IPv4 fragment of a VXLAN datagram.
    const { frames, reassembled, bytes } = run(sample('fragmenting-underlay'), true);
    expect(frames).toBeGreaterThanOrEqual(200_000);
    expect(reassembled).toBeGreaterThan(frames / 4);
    // The time handed to the reassembler, and by it to its timeout check, was boxed for every
    // fragment: 32 bytes a frame. Under 1 now (the ACK path's leftovers).
    expect(bytes / frames).toBeLessThan(4);
  });
});
