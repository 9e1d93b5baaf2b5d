/**
 * The latest frames of one capture source, kept so that the frames behind a new finding can be
 * written out after the analysis noticed it (findings keep frame numbers, not bytes). One
 * preallocated byte buffer and fixed metadata arrays: pushing a frame copies its bytes and writes
 * a few numbers. The only allocation is the short-lived view the bytes are copied through
 * (TypedArray.set needs one; Buffer.copy makes one too), which the young generation collects for
 * next to nothing: a byte loop that allocates nothing is slower even for a 66-byte ACK (measured:
 * 125 ns against 60 ns a frame; bench/service-costs.mjs measures the tap as a whole). Frames are
 * kept oldest-out: a new frame overwrites the bytes
 * of the oldest ones, whose entries are dropped with them.
 */

import type { CaptureInterface, Frame } from '../capture/frame.js';

export interface RingFrame {
  number: number;
  interfaceId: number;
  linkType: number;
  timeSec: number;
  timeNs: number;
  originalLength: number;
  direction: number;
  /** A copy of the bytes (the ring's own are overwritten later). */
  data: Uint8Array;
}

export interface FrameRing {
  readonly bytes: Uint8Array;
  /** The source's interfaces (pcapng IDBs or the single pcap one), by id. */
  interfaces: CaptureInterface[];
  /** Index of the oldest entry and how many there are. */
  head: number;
  count: number;
  /** Next byte offset to write at. */
  writeAt: number;
  numbers: Float64Array;
  timeSecs: Float64Array;
  /** Per entry: offset, captured length, original length, time ns, link type, interface, direction. */
  fields: Int32Array;
  /** Frames too large for the ring (not kept). */
  skipped: number;
}

const FIELDS = 7;
const OFFSET = 0;
const LENGTH = 1;
const ORIGINAL = 2;
const NS = 3;
const LINK = 4;
const IFACE = 5;
const DIRECTION = 6;

export function createFrameRing(byteSize: number, maxFrames: number): FrameRing {
  return {
    bytes: new Uint8Array(byteSize),
    interfaces: [],
    head: 0,
    count: 0,
    writeAt: 0,
    numbers: new Float64Array(maxFrames),
    timeSecs: new Float64Array(maxFrames),
    fields: new Int32Array(maxFrames * FIELDS),
    skipped: 0,
  };
}

function dropOldest(ring: FrameRing): void {
  ring.head = (ring.head + 1) % ring.numbers.length;
  ring.count--;
}

/** Keeps one frame (per frame: only the short-lived view the bytes are copied through, see above). */
export function pushFrame(ring: FrameRing, frame: Frame): void {
  const length = frame.capturedLength;
  const size = ring.bytes.length;
  if (length > size) {
    ring.skipped++;
    return;
  }
  let at = ring.writeAt;
  if (at + length > size) at = 0;
  // Entries whose bytes this frame overwrites go, oldest first (bytes are laid down in entry order).
  const fields = ring.fields;
  while (ring.count > 0) {
    const f = ring.head * FIELDS;
    const start = fields[f + OFFSET] as number;
    const end = start + (fields[f + LENGTH] as number);
    if (start < at + length && at < end) dropOldest(ring);
    else break;
  }
  if (ring.count === ring.numbers.length) dropOldest(ring);
  const slot = (ring.head + ring.count) % ring.numbers.length;
  const from = frame.dataOffset;
  ring.bytes.set(frame.buffer.subarray(from, from + length), at);
  ring.numbers[slot] = frame.number;
  ring.timeSecs[slot] = frame.timeSec;
  const f = slot * FIELDS;
  fields[f + OFFSET] = at;
  fields[f + LENGTH] = length;
  fields[f + ORIGINAL] = frame.originalLength;
  fields[f + NS] = frame.timeNs;
  fields[f + LINK] = frame.linkType;
  fields[f + IFACE] = frame.interfaceId;
  fields[f + DIRECTION] = frame.direction;
  ring.count++;
  ring.writeAt = at + length;
}

/** The frame with this number while the ring still holds it (a copy), else null. */
export function findFrame(ring: FrameRing, number: number): RingFrame | null {
  const cap = ring.numbers.length;
  // Numbers grow with each frame of a source: binary search over the entries in age order.
  let lo = 0;
  let hi = ring.count - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const slot = (ring.head + mid) % cap;
    const n = ring.numbers[slot] as number;
    if (n === number) {
      const f = slot * FIELDS;
      const offset = ring.fields[f + OFFSET] as number;
      return {
        number,
        interfaceId: ring.fields[f + IFACE] as number,
        linkType: ring.fields[f + LINK] as number,
        timeSec: ring.timeSecs[slot] as number,
        timeNs: ring.fields[f + NS] as number,
        originalLength: ring.fields[f + ORIGINAL] as number,
        direction: ring.fields[f + DIRECTION] as number,
        data: ring.bytes.slice(offset, offset + (ring.fields[f + LENGTH] as number)),
      };
    }
    if (n < number) lo = mid + 1;
    else hi = mid - 1;
  }
  return null;
}

/** The frame numbers the ring holds now: the oldest and the newest (or null when empty). */
export function ringSpan(ring: FrameRing): { oldest: number; newest: number } | null {
  if (ring.count === 0) return null;
  const cap = ring.numbers.length;
  return {
    oldest: ring.numbers[ring.head] as number,
    newest: ring.numbers[(ring.head + ring.count - 1) % cap] as number,
  };
}
