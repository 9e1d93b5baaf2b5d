/**
 * What one hop remembers of one TCP flow so that the same bytes can be found at other hops later:
 * per direction, counters (frames, bytes, payload sizes, checksum classes, fragments), the
 * sequence space covered, and a bounded sample of segments (sequence number -> time, frame, and
 * how long the hop waited for the ACK that covered it) and of pure ACKs.
 *
 * Samples are chosen by a hash of the sequence number (of the ACK key for ACKs), the same
 * choice at every hop: a segment sampled at one hop is sampled wherever it is seen, so the hops'
 * samples still match after thinning. When a direction's sample is full, the hash threshold is
 * halved and the samples that no longer pass are dropped (Flajolet's adaptive sampling): the
 * sample then spans the flow's whole life, not its first seconds, in constant memory. Samples
 * older than WINDOW_SEC before the newest are dropped too, so a flow that runs for a week is
 * sampled over its last hour.
 *
 * The wait for the ACK is measured here, as the ACKs pass, not later: near the sender it is the
 * whole round trip, near the receiver almost nothing (see correlate/order.ts).
 *
 * The flow is identified across hops by its inner endpoints only (after tunnels are stripped and
 * fragments reassembled): a VNI is visible on the underlay and not in the guest.
 */

import { truncate } from '../arrays.js';
import { DOUBLE_FIELD } from '../doubles.js';
import type { FlowKey } from './flow-key.js';

/** Segments (and, apart, ACKs) sampled per direction at most. */
export const MAX_SAMPLES = 2048;
/** Disjoint covered ranges per direction; beyond it the closest two are merged (coverage turns approximate). */
export const MAX_INTERVALS = 256;
/** Distinct payload sizes counted per direction; others are counted together. */
export const MAX_SIZES = 64;
/** Samples older than this before a direction's newest are dropped when it is thinned (seconds). */
export const WINDOW_SEC = 3600;

export interface DirectionTrace {
  /** Data segments and their payload bytes. */
  frames: number;
  bytes: number;
  /**
   * Payload sizes and their frames as pairs [size, frames, size, frames, ...] (created with the
   * first segment; a Map costs four times as much, and a flow has few sizes: the first pair
   * matches almost every segment of a bulk transfer).
   */
  sizes: number[] | null;
  otherSizes: number;
  maxPayload: number;
  /** Frames larger than the flow's MSS at this hop, the first of them and its sequence number. */
  superFrames: number;
  firstSuperFrame: number;
  firstSuperSeq: number;
  /** MSS this side announced in its SYN (-1 when not seen). */
  mss: number;
  /** First sequence number seen; coverage is relative to it (mod 2^32). */
  base: number;
  /**
   * The highest segment start seen (absolute, 32 bits) and where it lies from base, unwrapped:
   * sequence numbers wrap every 4 GiB, coverage does not (a long transfer is covered whole).
   */
  top: number;
  topAt: number;
  /**
   * Covered [start, end) pairs in bytes from base (unwrapped, so beyond 2^32 for a long flow,
   * negative for data from before base), sorted and merged.
   */
  intervals: number[] | null;
  /** Segments whose bytes were all seen before at this hop (retransmissions or duplicates). */
  repeats: number;
  /**
   * Bytes seen more than once at this hop, as `intervals` (null until the first repeat): with
   * the coverage of the next hop, what was sent again because a copy was lost between them.
   */
  repeated: number[] | null;
  /**
   * Below this (bytes from base, as `repeated`), `repeated` no longer lists every range: past
   * MAX_INTERVALS ranges the lowest is dropped, where coverage merges the closest two (merged, two
   * repeats 67 KB apart would claim every byte between them seen twice). -Infinity while whole.
   */
  repeatedFloor: number;
  /**
   * Sampled segments, SEGMENT_STRIDE numbers each (one array per direction, created with the first
   * sample: a hop follows thousands of short flows): sequence number (absolute), payload, time
   * (s, this capture's clock), frame, and the seconds until the first ACK that covered the
   * segment's first byte at this hop (NaN until then). Read them with the accessors below.
   */
  samples: number[] | null;
  /** Sampled segments from this index on still wait for their ACK. */
  pendingFrom: number;
  /** Sampling level: a key is kept when the top `level` bits of its hash are zero. */
  level: number;
  /** Sampled pure ACKs from this side, ACK_STRIDE numbers each: key of (ack, TCP timestamp or window), time. */
  acks: number[] | null;
  ackLevel: number;
  /** TCP checksum classes of this side's segments. */
  checksumPartial: number;
  checksumGood: number;
  checksumBad: number;
  checksumOther: number;
  firstPartialFrame: number;
  firstBadFrame: number;
  /** Segments that arrived in IP fragments (reassembled at this hop), and the first frame. */
  fragmented: number;
  firstFragmentedFrame: number;
  /** Tunnel overhead seen at this hop: outer IP length - inner IP length (-1: not tunnelled here). */
  overhead: number;
  /** Largest inner IP packet of this side (the guest/overlay MTU at least). */
  maxIpLength: number;
  /** Capture time of the first and the last data segment (-1: none). */
  firstTime: number;
  lastTime: number;
}

export interface FlowTrace {
  /**
   * "TCP 10.0.0.1:1234 <-> 10.0.0.2:80": the same at every hop, for matching; and the flow from
   * endpoint A (sorting first) to B, without a tunnel id. Both made only when correlating
   * (flows.ts namedTrace): most flows of a busy hop are short and never correlated.
   */
  key: string;
  flow: FlowKey | null;
  /** The tunnel id this hop saw the flow in (-1: none, an overlay hop): tells tenants apart. */
  vni: number;
  fromA: DirectionTrace;
  fromB: DirectionTrace;
}

export const SEGMENT_STRIDE = 5;
export const ACK_STRIDE = 2;
/** Where each number of a sampled segment sits (payload at 1). */
const SEQ = 0;
const TIME = 2;
const FRAME = 3;
const WAIT = 4;
/** Where a sampled segment's wait for its ACK sits among its SEGMENT_STRIDE numbers. */
export const SAMPLE_WAIT_AT = WAIT;
/** Where a sampled segment's capture time sits among its SEGMENT_STRIDE numbers. */
export const SAMPLE_TIME_AT = TIME;

/** Sampled segments of a direction. */
export function sampleCount(d: DirectionTrace): number {
  return d.samples === null ? 0 : d.samples.length / SEGMENT_STRIDE;
}
export function sampleSeq(d: DirectionTrace, i: number): number {
  return (d.samples as number[])[i * SEGMENT_STRIDE + SEQ] as number;
}
export function sampleTime(d: DirectionTrace, i: number): number {
  return (d.samples as number[])[i * SEGMENT_STRIDE + TIME] as number;
}
export function sampleFrame(d: DirectionTrace, i: number): number {
  return (d.samples as number[])[i * SEGMENT_STRIDE + FRAME] as number;
}
export function sampleWait(d: DirectionTrace, i: number): number {
  return (d.samples as number[])[i * SEGMENT_STRIDE + WAIT] as number;
}
/** Sampled ACKs of a direction. */
export function ackCount(d: DirectionTrace): number {
  return d.acks === null ? 0 : d.acks.length / ACK_STRIDE;
}
export function ackKey(d: DirectionTrace, i: number): number {
  return (d.acks as number[])[i * ACK_STRIDE] as number;
}
export function ackTime(d: DirectionTrace, i: number): number {
  return (d.acks as number[])[i * ACK_STRIDE + 1] as number;
}
/** Samples (segments and ACKs) a trace holds, for the hop's budget. */
export function traceSamples(t: FlowTrace): number {
  return sampleCount(t.fromA) + sampleCount(t.fromB) + ackCount(t.fromA) + ackCount(t.fromB);
}

export function createDirectionTrace(): DirectionTrace {
  // Byte counts, sequence numbers and times: doubles from the start (see doubles.ts).
  const t: DirectionTrace = {
    frames: 0,
    bytes: DOUBLE_FIELD,
    sizes: null,
    otherSizes: 0,
    maxPayload: 0,
    superFrames: 0,
    firstSuperFrame: 0,
    firstSuperSeq: DOUBLE_FIELD,
    mss: -1,
    base: DOUBLE_FIELD,
    top: DOUBLE_FIELD,
    topAt: DOUBLE_FIELD,
    intervals: null,
    repeats: 0,
    repeated: null,
    repeatedFloor: DOUBLE_FIELD,
    samples: null,
    pendingFrom: 0,
    level: 0,
    acks: null,
    ackLevel: 0,
    checksumPartial: 0,
    checksumGood: 0,
    checksumBad: 0,
    checksumOther: 0,
    firstPartialFrame: 0,
    firstBadFrame: 0,
    fragmented: 0,
    firstFragmentedFrame: 0,
    overhead: -1,
    maxIpLength: 0,
    firstTime: DOUBLE_FIELD,
    lastTime: DOUBLE_FIELD,
  };
  t.bytes = 0;
  t.firstSuperSeq = -1;
  t.base = -1;
  t.top = 0;
  t.topAt = 0;
  t.firstTime = -1;
  t.lastTime = -1;
  t.repeatedFloor = Number.NEGATIVE_INFINITY;
  return t;
}

export function createFlowTrace(key = '', flow: FlowKey | null = null): FlowTrace {
  return { key, flow, vni: -1, fromA: createDirectionTrace(), fromB: createDirectionTrace() };
}

/** murmur3's finaliser: spreads sequence numbers (arithmetic progressions) over all 32 bits. */
export function mix32(x: number): number {
  let h = x >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

/**
 * True when `key` is sampled at `level` (the same answer at every hop). mix32's steps are written
 * out here: this runs for every segment, and where V8 had spent its inlining budget on the rest of
 * the per-frame path it left the mix32 call standing (5 ms of the bench's ten hops).
 */
export function sampled(key: number, level: number): boolean {
  if (level === 0) return true;
  let h = key >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> (32 - level) === 0;
}

/**
 * The range being covered, handed over in place: positions past 2^30 are doubles, and doubles
 * passed as arguments to a call that is not inlined are boxed (allocated) per frame.
 */
const RANGE = new Float64Array(2);

/**
 * [a, b] as an array of doubles from the start. A literal of two small integers is an array of
 * small integers, which turns into one of doubles once positions pass 2^31 (a long flow): V8's code
 * compiled for the doubles of the first hop's flows is then thrown away at the next hop's first
 * flow, whose array starts as integers again.
 */
function doublePair(a: number, b: number): number[] {
  const pair = [0.5, 0.5];
  pair[0] = a;
  pair[1] = b;
  return pair;
}

/** Adds [start, end) to a sorted, merged interval list; keeps at most MAX_INTERVALS ranges. */
export function cover(intervals: number[], start: number, end: number): boolean {
  RANGE[0] = start;
  RANGE[1] = end;
  return coverRange(intervals);
}

/** Adds RANGE to `intervals`; true when the range was already covered entirely (a repeat). */
function coverRange(intervals: number[]): boolean {
  const start = RANGE[0] as number;
  const end = RANGE[1] as number;
  const n = intervals.length;
  if (n >= 2) {
    // The common case, in order data: it continues (or repeats inside) the last range. No splice.
    const lastStart = intervals[n - 2] as number;
    const lastEnd = intervals[n - 1] as number;
    if (start >= lastStart && start <= lastEnd) {
      if (end <= lastEnd) return true;
      intervals[n - 1] = end;
      return false;
    }
  } else if (n === 0) {
    intervals.push(start, end);
    return false;
  }
  let i = 0;
  while (i < intervals.length && (intervals[i + 1] as number) < start) i += 2;
  if (i < intervals.length && (intervals[i] as number) <= start && (intervals[i + 1] as number) >= end)
    return true;
  let s = start;
  let e = end;
  let j = i;
  while (j < intervals.length && (intervals[j] as number) <= e) {
    s = Math.min(s, intervals[j] as number);
    e = Math.max(e, intervals[j + 1] as number);
    j += 2;
  }
  intervals.splice(i, j - i, s, e);
  if (intervals.length > MAX_INTERVALS * 2) {
    // Merge across the smallest gap: coverage becomes approximate rather than unbounded.
    let best = 1;
    let bestGap = Number.POSITIVE_INFINITY;
    for (let k = 1; k + 1 < intervals.length; k += 2) {
      const gap = (intervals[k + 1] as number) - (intervals[k] as number);
      if (gap < bestGap) {
        bestGap = gap;
        best = k;
      }
    }
    intervals.splice(best, 2);
  }
  return false;
}

/**
 * Covers RANGE in the direction's coverage, and the part of it already covered in its repeated
 * coverage. True when all of it was covered before.
 */
function coverSegment(t: DirectionTrace): boolean {
  const intervals = t.intervals as number[];
  const start = RANGE[0] as number;
  const end = RANGE[1] as number;
  const n = intervals.length;
  // In order (the common case) the segment starts where the last range ends: nothing repeated.
  if (n === 0 || start !== intervals[n - 1]) {
    for (let i = 0; i < n && (intervals[i] as number) < end; i += 2) {
      const s = Math.max(start, intervals[i] as number);
      const e = Math.min(end, intervals[i + 1] as number);
      if (e <= s) continue;
      RANGE[0] = s;
      RANGE[1] = e;
      if (t.repeated === null) t.repeated = doublePair(s, e);
      else {
        // Room for one more range first, so that coverRange never merges two (see repeatedFloor).
        const repeated = t.repeated;
        if (repeated.length >= MAX_INTERVALS * 2) {
          t.repeatedFloor = repeated[1] as number;
          repeated.splice(0, 2);
        }
        coverRange(repeated);
      }
    }
    RANGE[0] = start;
    RANGE[1] = end;
  }
  return coverRange(intervals);
}

export interface SegmentFacts {
  seq: number;
  payload: number;
  time: number;
  frame: number;
  isSuper: boolean;
  checksum: 'good' | 'partial' | 'lco' | 'zero' | 'bad' | 'unverifiable' | null;
  fragmented: boolean;
  overhead: number;
  ipLength: number;
}

/**
 * Facts an observer reuses for every segment or datagram it hands to the trace (made once). `seq`:
 * datagrams have none and keep -1 (what firstSuperSeq then says).
 */
export function newSegmentFacts(seq = 0): SegmentFacts {
  // Sequence numbers and times: doubles from the start (see doubles.ts).
  const facts: SegmentFacts = {
    seq: DOUBLE_FIELD,
    payload: 0,
    time: DOUBLE_FIELD,
    frame: 0,
    isSuper: false,
    checksum: null,
    fragmented: false,
    overhead: -1,
    ipLength: 0,
  };
  facts.seq = seq;
  facts.time = 0;
  return facts;
}

/**
 * Thins a full sample of `stride` numbers per entry (key first, time at `timeAt`): raises the
 * level until at most half remains, dropping what is older than the window too. Returns the new
 * level; the array is compacted in place. `pending` (segments only) is moved along. ACK keys
 * (`ackKeys`) are hashed with ackHashKey, segment keys are their own hash. (A flag, not a hash
 * function and a closure: a call target that changes between calls makes V8 throw the compiled
 * code of thin and its callers away, mid-capture.)
 *
 * An entry is sampled at every level up to its hash's leading zero bits, so one pass counts how
 * many each level keeps and a second compacts. It hashed every entry again for each level it
 * tried: thin runs a few times a capture, too rarely for V8 to compile it, and those passes in
 * unoptimised code were ~0.5 ms of each of the bench's small captures.
 */
function thin(
  values: number[],
  stride: number,
  timeAt: number,
  level: number,
  now: number,
  ackKeys: boolean,
  t: DirectionTrace | null,
): number {
  const count = values.length / stride;
  const oldest = now - WINDOW_SEC;
  const zeros = count <= THIN_ZEROS.length ? THIN_ZEROS : new Uint8Array(count);
  const byZeros = THIN_BY_ZEROS.fill(0);
  for (let i = 0; i < count; i++) {
    const z = levelsKept(values, i * stride, timeAt, oldest, ackKeys);
    zeros[i] = z;
    byZeros[z] = (byZeros[z] as number) + 1;
  }
  // From here byZeros[l] is how many entries level l keeps (l >= 1): those whose hash passes it (an
  // old one passes none past 0).
  for (let z = 31; z >= 0; z--) byZeros[z] = (byZeros[z] as number) + (byZeros[z + 1] as number);
  let kept = count;
  while (kept > count / 2 && level < 32) {
    level++;
    kept = byZeros[level] as number;
  }
  let w = 0;
  let pending = -1;
  for (let i = 0; i < count; i++) {
    if ((zeros[i] as number) < level || (level === 0 && !isFresh(values, i * stride, timeAt, oldest)))
      continue;
    for (let k = 0; k < stride; k++) values[w * stride + k] = values[i * stride + k] as number;
    if (t !== null && pending < 0 && i >= t.pendingFrom) pending = w;
    w++;
  }
  truncate(values, w * stride);
  if (t !== null) t.pendingFrom = pending < 0 ? w : pending;
  return level;
}

/** thin's scratch: each entry's levelsKept, and how many entries have each count (no allocation). */
const THIN_ZEROS = new Uint8Array(MAX_SAMPLES);
const THIN_BY_ZEROS = new Int32Array(33);

function isFresh(values: readonly number[], at: number, timeAt: number, oldest: number): boolean {
  return (values[at + timeAt] as number) >= oldest;
}

/**
 * The levels up to which the entry at `at` is sampled (its hash's leading zero bits, 0 to 32;
 * `sampled` keeps it at a level no higher), or 0 when it is older than `oldest`: then it is kept at
 * no level past 0.
 */
function levelsKept(
  values: readonly number[],
  at: number,
  timeAt: number,
  oldest: number,
  ackKeys: boolean,
): number {
  const key = values[at] as number;
  // Hashed either way: a call that only ACKs reach would first run mid-capture, after V8 compiled this.
  const ackHash = ackHashKey(key);
  const zeros = Math.clz32(mix32(ackKeys ? ackHash : key));
  return isFresh(values, at, timeAt, oldest) ? zeros : 0;
}

/**
 * Drops the entries older than WINDOW_SEC before `now` once the oldest is a quarter window
 * older still (so it happens rarely, in one pass). Returns how many were dropped.
 */
function dropOld(
  values: number[],
  stride: number,
  timeAt: number,
  now: number,
  t: DirectionTrace | null,
): number {
  if (!((values[timeAt] as number) < now - WINDOW_SEC * 1.25)) return 0;
  const oldest = now - WINDOW_SEC;
  let n = 0;
  while (n * stride < values.length && (values[n * stride + timeAt] as number) < oldest) n++;
  const drop = n * stride;
  for (let i = drop; i < values.length; i++) values[i - drop] = values[i] as number;
  truncate(values, values.length - drop);
  if (t !== null) t.pendingFrom = Math.max(0, t.pendingFrom - n);
  return n;
}

/** 32 bits of an ACK key (ack * 65536 + 16 bits of timestamp or window) for sampling. */
function ackHashKey(key: number): number {
  return (Math.floor(key / 65536) ^ Math.imul(key % 65536, 0x9e3779b1)) >>> 0;
}

/**
 * Records one data segment (payload > 0) of one direction. `room` false when the hop's sample
 * budget is spent. Returns the change in samples kept (+1, 0, or negative after thinning).
 */
export function recordSegment(trace: DirectionTrace, s: SegmentFacts, room: boolean): number {
  recordDatagram(trace, s);
  if (trace.base < 0) {
    trace.base = s.seq;
    trace.top = s.seq;
  }
  // Sequence arithmetic modulo 2^32: the segment lies within 2 GiB before or after the highest
  // start seen so far, and is placed on the unwrapped line from there.
  const ahead = (s.seq - trace.top) | 0;
  const start = trace.topAt + ahead;
  if (ahead > 0) {
    trace.top = s.seq;
    trace.topAt = start;
  }
  // Array literals are allocated to their exact size: a short flow's arrays stay small.
  if (trace.intervals === null) trace.intervals = doublePair(start, start + s.payload);
  else {
    RANGE[0] = start;
    RANGE[1] = start + s.payload;
    if (coverSegment(trace)) trace.repeats++;
  }
  if (!room || !sampled(s.seq, trace.level)) return 0;
  if (trace.samples === null) {
    trace.samples = [s.seq, s.payload, s.time, s.frame, Number.NaN];
    return 1;
  }
  const samples = trace.samples;
  // The test here, not in dropOld: a call that is not inlined boxes its double arguments.
  let delta =
    (samples[TIME] as number) < s.time - WINDOW_SEC * 1.25
      ? -dropOld(samples, SEGMENT_STRIDE, TIME, s.time, trace)
      : 0;
  if (samples.length >= MAX_SAMPLES * SEGMENT_STRIDE) {
    const before = samples.length;
    trace.level = thin(samples, SEGMENT_STRIDE, TIME, trace.level, s.time, false, trace);
    delta -= (before - samples.length) / SEGMENT_STRIDE;
    if (!sampled(s.seq, trace.level)) return delta;
  }
  samples.push(s.seq, s.payload, s.time, s.frame, Number.NaN);
  return delta + 1;
}

/**
 * The counters of one data unit: a TCP segment (recordSegment adds its sequence space and samples)
 * or a UDP datagram (no sequence numbers: sizes, super-frames, checksums and times only).
 */
export function recordDatagram(trace: DirectionTrace, s: SegmentFacts): void {
  trace.frames++;
  trace.bytes += s.payload;
  if (trace.firstTime < 0) trace.firstTime = s.time;
  if (s.time > trace.lastTime) trace.lastTime = s.time;
  if (trace.sizes === null) trace.sizes = [s.payload, 0];
  const sizes = trace.sizes;
  let at = 0;
  while (at < sizes.length && sizes[at] !== s.payload) at += 2;
  if (at < sizes.length) sizes[at + 1] = (sizes[at + 1] as number) + 1;
  else if (sizes.length < MAX_SIZES * 2) sizes.push(s.payload, 1);
  else trace.otherSizes++;
  if (s.payload > trace.maxPayload) trace.maxPayload = s.payload;
  if (s.isSuper) {
    if (trace.superFrames === 0) {
      trace.firstSuperFrame = s.frame;
      trace.firstSuperSeq = s.seq;
    }
    trace.superFrames++;
  }
  if (s.ipLength > trace.maxIpLength) trace.maxIpLength = s.ipLength;
  if (s.overhead >= 0) trace.overhead = s.overhead;
  if (s.fragmented) {
    if (trace.fragmented === 0) trace.firstFragmentedFrame = s.frame;
    trace.fragmented++;
  }
  if (s.checksum === 'partial') {
    if (trace.checksumPartial === 0) trace.firstPartialFrame = s.frame;
    trace.checksumPartial++;
  } else if (s.checksum === 'good') trace.checksumGood++;
  else if (s.checksum === 'bad') {
    if (trace.checksumBad === 0) trace.firstBadFrame = s.frame;
    trace.checksumBad++;
  } else if (s.checksum !== null) trace.checksumOther++;
}

/**
 * Records a pure ACK sent by one side (`acks`), which acknowledges the other side's data
 * (`data`): the data's sampled segments it covers learn how long they waited for it.
 */
/** A pure ACK, handed over in one reused object (doubles passed as arguments are boxed). */
export interface AckFacts {
  ack: number;
  tsVal: number;
  window: number;
  time: number;
}

export function recordAck(acks: DirectionTrace, data: DirectionTrace, a: AckFacts, room: boolean): number {
  const ack = a.ack;
  const time = a.time;
  const samples = data.samples;
  if (samples !== null) {
    let p = data.pendingFrom;
    const count = samples.length / SEGMENT_STRIDE;
    while (p < count) {
      // Covered when the ACK is past the segment's first byte (mod 2^32, within half the space).
      const at = p * SEGMENT_STRIDE;
      const ahead = (ack - (samples[at + SEQ] as number)) >>> 0;
      if (ahead === 0 || ahead >= 0x80000000) break;
      samples[at + WAIT] = time - (samples[at + TIME] as number);
      p++;
    }
    data.pendingFrom = p;
  }
  if (!room) return 0;
  // ack (32 bits) and 16 bits of the timestamp (or window): exact in a double.
  const key = ack * 65536 + ((a.tsVal !== 0 ? a.tsVal : a.window) & 0xffff);
  if (!sampled(ackHashKey(key), acks.ackLevel)) return 0;
  if (acks.acks === null) {
    acks.acks = [key, time];
    return 1;
  }
  const list = acks.acks;
  let delta = (list[1] as number) < time - WINDOW_SEC * 1.25 ? -dropOld(list, ACK_STRIDE, 1, time, null) : 0;
  if (list.length >= MAX_SAMPLES * ACK_STRIDE) {
    const before = list.length;
    acks.ackLevel = thin(list, ACK_STRIDE, 1, acks.ackLevel, time, true, null);
    delta -= (before - list.length) / ACK_STRIDE;
    if (!sampled(ackHashKey(key), acks.ackLevel)) return delta;
  }
  list.push(key, time);
  return delta + 1;
}

/** Payload sizes as [[size, frames], ...], in the order first seen. */
export function sizePairs(trace: DirectionTrace): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  const sizes = trace.sizes ?? [];
  for (let i = 0; i < sizes.length; i += 2) out.push([sizes[i] as number, sizes[i + 1] as number]);
  return out;
}

/** Payload sizes, most frequent first: [[size, frames], ...]. */
export function topSizes(trace: DirectionTrace, limit: number): Array<[number, number]> {
  return sizePairs(trace)
    .sort((a, b) => b[1] - a[1] || b[0] - a[0])
    .slice(0, limit);
}
