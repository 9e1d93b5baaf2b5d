/**
 * What one hop remembers of one TCP flow so that the same bytes can be found at other hops later:
 * per direction, the payload sizes seen, the sequence space covered, and a bounded sample of
 * segments (sequence number -> time and frame) and of pure ACKs (ack, timestamp -> time).
 *
 * The flow is identified across hops by its inner endpoints only (after tunnels are stripped and
 * fragments reassembled): a VNI is visible on the underlay and not in the guest. Everything here
 * is bounded per flow (MAX_SAMPLES, MAX_INTERVALS, MAX_SIZES) and per hop (a sample budget), so
 * a capture of any length costs the same memory once its flows are known.
 */

/** Segments remembered per direction (the first ones: enough to match, to estimate clocks, and to show evidence). */
export const MAX_SAMPLES = 2048;
/** Disjoint covered ranges per direction; beyond it the closest two are merged (coverage turns approximate). */
export const MAX_INTERVALS = 256;
/** Distinct payload sizes counted per direction; others are counted together. */
export const MAX_SIZES = 64;

export interface DirectionTrace {
  /** Data segments and their payload bytes. */
  frames: number;
  bytes: number;
  /** Payload size -> frames. */
  sizes: Map<number, number>;
  otherSizes: number;
  maxPayload: number;
  /** Frames larger than the flow's MSS at this hop, and the first of them. */
  superFrames: number;
  firstSuperFrame: number;
  /** MSS this side announced in its SYN (-1 when not seen). */
  mss: number;
  /** First sequence number seen; coverage is relative to it (mod 2^32). */
  base: number;
  /** Covered [start, end) pairs relative to base, sorted and merged. */
  intervals: number[];
  /** Segments whose bytes were all seen before at this hop (retransmissions or duplicates). */
  repeats: number;
  /** First segments: sequence number (absolute), time (s, this capture's clock), frame number. */
  sampleSeq: number[];
  sampleLen: number[];
  sampleTime: number[];
  sampleFrame: number[];
  /** Pure ACKs from this side: a key of (ack, TCP timestamp or window) -> time. */
  ackKey: number[];
  ackTime: number[];
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
  firstTime: number;
}

export interface FlowTrace {
  /** "TCP 10.0.0.1:1234 <-> 10.0.0.2:80": the same at every hop. */
  key: string;
  /** Endpoint strings, A sorting first (as the hop's flow table orders them). */
  endpointA: string;
  endpointB: string;
  protocolName: string;
  fromA: DirectionTrace;
  fromB: DirectionTrace;
}

export function createDirectionTrace(): DirectionTrace {
  return {
    frames: 0,
    bytes: 0,
    sizes: new Map(),
    otherSizes: 0,
    maxPayload: 0,
    superFrames: 0,
    firstSuperFrame: 0,
    mss: -1,
    base: -1,
    intervals: [],
    repeats: 0,
    sampleSeq: [],
    sampleLen: [],
    sampleTime: [],
    sampleFrame: [],
    ackKey: [],
    ackTime: [],
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
    firstTime: -1,
  };
}

/** Adds [start, end) to a sorted, merged interval list; keeps at most MAX_INTERVALS ranges. */
export function cover(intervals: number[], start: number, end: number): boolean {
  // Returns true when the range was already covered entirely (a repeat).
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

/** Records one data segment (payload > 0) of one direction; `sample` false when the hop's budget is spent. */
export function recordSegment(trace: DirectionTrace, s: SegmentFacts, sample: boolean): void {
  trace.frames++;
  trace.bytes += s.payload;
  if (trace.firstTime < 0) trace.firstTime = s.time;
  const sizes = trace.sizes;
  const known = sizes.get(s.payload);
  if (known !== undefined) sizes.set(s.payload, known + 1);
  else if (sizes.size < MAX_SIZES) sizes.set(s.payload, 1);
  else trace.otherSizes++;
  if (s.payload > trace.maxPayload) trace.maxPayload = s.payload;
  if (s.isSuper) {
    if (trace.superFrames === 0) trace.firstSuperFrame = s.frame;
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

  if (trace.base < 0) trace.base = s.seq;
  const start = (s.seq - trace.base) >>> 0;
  // Sequence numbers before the base (reordering) wrap to huge values: keep them out of coverage.
  if (start < 0x80000000) {
    if (cover(trace.intervals, start, start + s.payload)) trace.repeats++;
  }
  if (sample && trace.sampleSeq.length < MAX_SAMPLES) {
    trace.sampleSeq.push(s.seq);
    trace.sampleLen.push(s.payload);
    trace.sampleTime.push(s.time);
    trace.sampleFrame.push(s.frame);
  }
}

/** Records a pure ACK of one direction, keyed by what identifies it at every hop. */
export function recordAck(
  trace: DirectionTrace,
  ack: number,
  tsVal: number,
  window: number,
  time: number,
  sample: boolean,
): void {
  if (!sample || trace.ackKey.length >= MAX_SAMPLES) return;
  // ack (32 bits) and 16 bits of the timestamp (or window): exact in a double.
  trace.ackKey.push(ack * 65536 + ((tsVal !== 0 ? tsVal : window) & 0xffff));
  trace.ackTime.push(time);
}

/** Payload sizes, most frequent first: [[size, frames], ...]. */
export function topSizes(trace: DirectionTrace, limit: number): Array<[number, number]> {
  return [...trace.sizes.entries()].sort((a, b) => b[1] - a[1] || b[0] - a[0]).slice(0, limit);
}

export function createFlowTrace(
  key: string,
  endpointA: string,
  endpointB: string,
  protocolName: string,
): FlowTrace {
  return {
    key,
    endpointA,
    endpointB,
    protocolName,
    fromA: createDirectionTrace(),
    fromB: createDirectionTrace(),
  };
}
