/**
 * The order of the hops along a flow's path: by how long each hop's data waits for the ACK that
 * covers it (clock-independent), with tunnel-carrying hops as the underlay and device kinds on
 * each side; else by clock-corrected times; or as --path / the topology file say.
 */

import type { HopView } from '../observe/hop-view.js';
import {
  type DirectionTrace,
  type FlowTrace,
  SAMPLE_TIME_AT,
  SAMPLE_WAIT_AT,
  SEGMENT_STRIDE,
  sampleCount,
  sampled,
  sampleSeq,
  sampleTime,
} from '../observe/trace.js';
import {
  commonCount,
  differences,
  type FirstTimesCache,
  firstsByKey,
  firstTimes,
  median,
  medianInPlace,
  type SortedFirsts,
} from './clock.js';
import type { CorrelationOptions, PathReport } from './types.js';

export interface Seen {
  hop: HopView;
  trace: FlowTrace;
}

/** The flow's data direction at one hop, and the other direction (ACKs). */
export interface Sides {
  data: DirectionTrace;
  back: DirectionTrace;
}

export function sidesOf(trace: FlowTrace, aSends: boolean): Sides {
  return aSends ? { data: trace.fromA, back: trace.fromB } : { data: trace.fromB, back: trace.fromA };
}

/**
 * How long, at this hop, the data waits for its acknowledgement: the median over the sampled
 * segments of (time of the first ACK covering the segment - time of the segment), both on this
 * hop's own clock, measured as the ACKs passed (trace.ts). Near the sender it is the whole round
 * trip, near the receiver almost nothing, so it orders the hops along the path whatever the
 * clocks of different machines say (and wherever a capture point timestamps late).
 */
function remainingRoundTrip(s: Sides, common: Float64Array | null, cache: WaitsCache): number | null {
  const all = common === null ? firstWaits(s.data, cache).times : waitsAlong(s.data, common, cache);
  // The waits an ACK ended (NaN: none did), copied once into an array of their own for the median.
  const waits = new Float64Array(all.length);
  let n = 0;
  for (let i = 0; i < all.length; i++) {
    const wait = all[i] as number;
    waits[n] = wait;
    n += Number.isNaN(wait) ? 0 : 1;
  }
  return n >= 3 ? medianInPlace(waits.subarray(0, n)) : null;
}

const NO_WAITS: SortedFirsts = { keys: new Float64Array(0), times: new Float64Array(0) };

/**
 * Each direction's waits by start, and those laid out along a set of common starts: made once per
 * orderHops (the samples may change between calls). The waits and the votes ask for the same ones.
 */
type WaitsCache = Map<DirectionTrace, { all: SortedFirsts; along: Map<Float64Array, Float64Array> }>;

/**
 * Each segment start's wait, first occurrence only, starts ascending: a super-frame and the first
 * of the segments cut from it then wait for the same ACK (the first that covers their first byte).
 * NaN where no ACK covered it.
 */
function firstWaits(d: DirectionTrace, cache: WaitsCache): SortedFirsts {
  return waitsOf(d, cache).all;
}

/** The direction's waits at the starts of `common`, index by index (NaN: no wait, or not that start). */
function waitsAlong(d: DirectionTrace, common: Float64Array, cache: WaitsCache): Float64Array {
  const made = waitsOf(d, cache);
  let along = made.along.get(common);
  if (along === undefined) {
    along = alongCommon(made.all, common);
    made.along.set(common, along);
  }
  return along;
}

function waitsOf(
  d: DirectionTrace,
  cache: WaitsCache,
): { all: SortedFirsts; along: Map<Float64Array, Float64Array> } {
  let made = cache.get(d);
  if (made === undefined) {
    const all = d.samples === null ? NO_WAITS : firstsByKey(d.samples, SEGMENT_STRIDE, SAMPLE_WAIT_AT);
    made = { all, along: new Map() };
    cache.set(d, made);
  }
  return made;
}

/**
 * The waits compared segment by segment: for each hop, the share of (segment, other hop) pairs in
 * which it waited longer. A loss recovered by TCP stretches some segments' waits at some hops
 * (those that saw the lost copy); a vote per segment lets them count once, where a median of
 * each hop's waits can be pulled past its neighbour's. Higher is nearer the sender, like a wait.
 *
 * Segment by segment: each hop's waits are laid out along `common` (NaN where it has no wait, as
 * where no ACK ended one), and each pair of hops is compared once per segment. A hop with data has
 * every start of `common` (what all of them share), so its waits line up as they are; one without
 * (or, in general, one that lacks some) is laid out by a merge. Comparing each pair of hops by a
 * merge of their starts, both ways round, took ten hops' correlation four times the steps.
 */
function waitVotes(
  seen: readonly Seen[],
  aSends: boolean,
  common: Float64Array,
  cache: WaitsCache,
): Map<Seen, number> {
  const shares = waitShares(seen.map((s) => waitsAlong(sidesOf(s.trace, aSends).data, common, cache)));
  return new Map(seen.map((s, x) => [s, shares[x] as number]));
}

/**
 * Each hop's share of the games it played (0 when none): `waits[x][i]` is hop x's wait for the
 * i-th segment (NaN: none), a game is a segment both hops of a pair waited for, and it goes to the
 * one that waited longer (half each when they waited alike).
 */
export function waitShares(waits: readonly Float64Array[]): Float64Array {
  const hops = waits.length;
  const wins = new Float64Array(hops);
  const games = new Float64Array(hops);
  const result = new Float64Array(2);
  for (let x = 0; x < hops; x++) {
    for (let y = x + 1; y < hops; y++) {
      pairGames(waits[x] as Float64Array, waits[y] as Float64Array, result);
      const played = result[0] as number;
      const won = result[1] as number;
      games[x] = (games[x] as number) + played;
      games[y] = (games[y] as number) + played;
      wins[x] = (wins[x] as number) + won;
      wins[y] = (wins[y] as number) + played - won;
    }
  }
  for (let x = 0; x < hops; x++) {
    const g = games[x] as number;
    wins[x] = g > 0 ? (wins[x] as number) / g : 0;
  }
  return wins;
}

/**
 * The games of one pair of hops into `result`: [played, won by the first]. A function of its own,
 * called once per pair: V8 compiles it after the first pairs, where a loop nested in waitShares ran
 * uncompiled for most of a cold first correlation.
 */
function pairGames(mine: Float64Array, other: Float64Array, result: Float64Array): void {
  const n = Math.min(mine.length, other.length);
  let played = 0;
  let won = 0;
  for (let i = 0; i < n; i++) {
    const wx = mine[i] as number;
    const wy = other[i] as number;
    // A NaN (no ACK ended the wait) is no game. Otherwise 1, 0.5 or 0 to the first, the rest to the other.
    const game = Number.isNaN(wx) || Number.isNaN(wy) ? 0 : 1;
    played += game;
    won += game * ((wx > wy ? 1 : 0) + (wx === wy ? 0.5 : 0));
  }
  result[0] = played;
  result[1] = won;
}

/** A hop's waits at the starts of `common` (both ascending), index by index: NaN where it has none. */
export function alongCommon(mine: SortedFirsts, common: Float64Array): Float64Array {
  const out = new Float64Array(common.length).fill(Number.NaN);
  for (let i = 0, j = 0; i < mine.keys.length && j < common.length; ) {
    const key = mine.keys[i] as number;
    const wanted = common[j] as number;
    if (key < wanted) i++;
    else if (key > wanted) j++;
    else out[j++] = mine.times[i++] as number;
  }
  return out;
}

/** Where a kind of device sits on one host's side of a tunnel, counted from the guest. */
const KIND_RANK: Readonly<Record<string, number>> = {
  guest: 0,
  unknown: 0,
  any: 0,
  tap: 1,
  bridge: 2,
  vxlan: 3,
  geneve: 3,
  physical: 4,
};

/**
 * Orders hops by the remaining round trip, corrected by what devices are: hops that carry the
 * flow inside a tunnel are the underlay (sender's NIC first); the others belong to the sender's
 * side when they wait longer than the last underlay hop, else to the receiver's. On each side a
 * tap comes before the bridge and the bridge before the tunnel device (mirrored on the receiving
 * side), whatever their timestamps say: a capture on a bridge device gets its copy late.
 */
function structuredOrder(
  seen: Seen[],
  waits: Map<Seen, number>,
  aSends: boolean,
  offsets: Map<HopView, number>,
): Seen[] {
  const starts: StartsCache = new Map();
  const times: FirstTimesCache = new Map();
  const wait = (s: Seen) => waits.get(s) as number;
  const byWait = (x: Seen, y: Seen) => wait(y) - wait(x);
  const underlay = seen.filter((s) => sidesOf(s.trace, aSends).data.overhead >= 0).sort(byWait);
  if (underlay.length === 0) return [...seen].sort(byWait);
  const last = wait(underlay[underlay.length - 1] as Seen);
  const overlay = seen.filter((s) => !underlay.includes(s));
  const rank = (s: Seen) => KIND_RANK[s.hop.kind] ?? 0;
  const byTheirWait = (s: Seen) => wait(s) > last;
  const others = overlay.filter((s) => s.hop.kind !== 'bridge');
  // A bridge's side is asked by both filters below: found once.
  const bridgeSides = new Map<Seen, boolean>();
  const onSenderSide = (s: Seen) => {
    if (s.hop.kind !== 'bridge') return byTheirWait(s);
    let side = bridgeSides.get(s);
    if (side === undefined) {
      side = bridgeSide(s, others, underlay, byTheirWait, aSends, starts, offsets, times) ?? byTheirWait(s);
      bridgeSides.set(s, side);
    }
    return side;
  };
  const sender = overlay.filter(onSenderSide).sort((x, y) => rank(x) - rank(y) || byWait(x, y));
  const receiver = overlay.filter((s) => !onSenderSide(s)).sort((x, y) => rank(y) - rank(x) || byWait(x, y));
  return [...sender, ...underlay, ...receiver];
}

/**
 * Which side of the tunnel a bridge's own capture belongs to (true: the sender's), by the frames
 * it shares with the other hops; null when they do not tell. Its wait cannot say: a bridge device
 * gets its copy of a forwarded frame only after the frame went out of the port it is forwarded
 * to, in both directions, so on the sender's side the data is stamped after the tunnel device
 * and the NIC and its ACKs after the tap (its wait shrinks to the NIC's), and on the receiver's
 * the other way round. It does forward each frame as it came, though: its segment boundaries are
 * those of the hops of its own host (a guest's super-frames, or what GRO merged), which the
 * underlay (cut to the MSS) and the other host do not share.
 */
function bridgeSide(
  bridge: Seen,
  others: readonly Seen[],
  underlay: readonly Seen[],
  senderSide: (s: Seen) => boolean,
  aSends: boolean,
  starts: StartsCache,
  offsets: Map<HopView, number>,
  times: FirstTimesCache,
): boolean | null {
  const data = (s: Seen) => sidesOf(s.trace, aSends).data;
  const likeness = (s: Seen) => sharedStarts(data(bridge), data(s), starts);
  const best = (hops: readonly Seen[]) => Math.max(-1, ...hops.map(likeness));
  const sender = best(others.filter(senderSide));
  const receiver = best(others.filter((s) => !senderSide(s)));
  const floor = best(underlay);
  // Unless one side is clearly more alike, the boundaries do not tell: GRO may rebuild the sender's
  // super-frames exactly (both sides then look alike), and captures that drop frames under load
  // move the likeness by a tenth either way.
  if (receiver < sender * CLEARLY_LESS_ALIKE && sender > floor) return true;
  if (sender < receiver * CLEARLY_LESS_ALIKE && receiver > floor) return false;
  // Frames alike everywhere (no super-frames: a short flow, TSO and GRO off): a bridge forwards
  // between a tap and a tunnel device of its own host, so with such hops on one side only (one
  // hypervisor captured, as --follow does) it is on that side.
  const senders = others.filter(senderSide).length;
  if (senders === others.length && senders > 0) return true;
  if (senders === 0 && others.length > 0) return false;
  const toSender = nearestInTime(bridge, others.filter(senderSide), aSends, offsets, times);
  const toReceiver = nearestInTime(
    bridge,
    others.filter((s) => !senderSide(s)),
    aSends,
    offsets,
    times,
  );
  if (toSender === null || toReceiver === null) return null;
  // One side clearly nearer: by an underlay crossing's worth, not by the few microseconds a
  // flow of small segments (a control connection) crosses both hosts in.
  const near = Math.min(toSender, toReceiver);
  const far = Math.max(toSender, toReceiver);
  if (far - near < CLEARLY_NEARER_SEC || near > far * CLEARLY_NEARER_SHARE) return null;
  return toSender < toReceiver;
}

/**
 * A side is clearly less alike to a bridge when its likeness (shared segment starts) is below this
 * share of the other side's. Lab runs whose captures dropped frames (whole frames, ten tcpdumps
 * beside iperf3) put a bridge at 0.85-0.89 to the other host's hops against 0.80-0.82 to its own;
 * where the sides really differ (the guest's TSO off, a fragmenting underlay) it is 0.05-0.64
 * against 1.
 */
const CLEARLY_LESS_ALIKE = 0.8;

/**
 * How much nearer in time one side's nearest hop must be for time to tell a bridge's side: by this
 * many seconds, and at most this share of the other side's distance. On the lab the bridges are
 * 22 µs from their own host's nearest hop against 40 µs from the other host's, and 1 against
 * 64 µs; a control connection's few small segments cross both hosts within 8 µs.
 */
const CLEARLY_NEARER_SEC = 10e-6;
const CLEARLY_NEARER_SHARE = 0.6;

/**
 * How near in time to the bridge the nearest of `others` saw its data, in seconds, on clocks made
 * to agree (the median over the segments both saw, at least three; null: none such): a bridge
 * forwards between a tap and a tunnel device of its own host, so however late it stamps its copy
 * (after the port it forwards to: on the sender's host after the NIC, on the receiver's after the
 * tap), it stays nearer to its own host's hops than to the other host's, a crossing of the
 * underlay away.
 */
function nearestInTime(
  bridge: Seen,
  others: readonly Seen[],
  aSends: boolean,
  offsets: Map<HopView, number>,
  times: FirstTimesCache,
): number | null {
  const bridgeOffset = offsets.get(bridge.hop);
  if (bridgeOffset === undefined) return null;
  const mine = sidesOf(bridge.trace, aSends).data.samples;
  let distance: number | null = null;
  for (const other of others) {
    const offset = offsets.get(other.hop);
    if (offset === undefined) continue;
    // The bridge's time less the other hop's, per segment both saw (clock.ts), then on one clock.
    const diffs: number[] = [];
    differences(
      sidesOf(other.trace, aSends).data.samples,
      mine,
      SEGMENT_STRIDE,
      SAMPLE_TIME_AT,
      diffs,
      times,
    );
    if (diffs.length < 3) continue;
    const d = Math.abs(median(diffs) - bridgeOffset + offset);
    if (distance === null || d < distance) distance = d;
  }
  return distance;
}

/** Each direction's distinct sampled segment starts at a sampling level, ascending: made once per order. */
type StartsCache = Map<DirectionTrace, Map<number, Float64Array>>;

/** The distinct segment starts of `d` kept at sampling `level`, ascending. */
function sampledStarts(d: DirectionTrace, level: number, cache: StartsCache): Float64Array {
  let byLevel = cache.get(d);
  if (byLevel === undefined) {
    byLevel = new Map();
    cache.set(d, byLevel);
  }
  let starts = byLevel.get(level);
  if (starts === undefined) {
    const all = new Float64Array(sampleCount(d));
    let n = 0;
    for (let i = 0; i < all.length; i++) {
      const seq = sampleSeq(d, i);
      if (sampled(seq, level)) all[n++] = seq;
    }
    const sorted = all.subarray(0, n).sort();
    let distinct = 0;
    for (let i = 0; i < n; i++) {
      if (distinct === 0 || sorted[i] !== sorted[distinct - 1]) sorted[distinct++] = sorted[i] as number;
    }
    starts = sorted.slice(0, distinct);
    byLevel.set(level, starts);
  }
  return starts;
}

/**
 * How alike two hops' segment boundaries are: shared sampled segment starts over all of them
 * (Jaccard), counted at the coarser of the two sampling levels so both had the same chance to
 * keep a start. -1 when either has none. Sorted starts and one merge (correlating ten hops asks
 * this of every bridge against every other hop: sets of sequence numbers were a fifth of it).
 */
function sharedStarts(a: DirectionTrace, b: DirectionTrace, cache: StartsCache): number {
  const level = Math.max(a.level, b.level);
  const mine = sampledStarts(a, level, cache);
  const theirs = sampledStarts(b, level, cache);
  if (mine.length === 0 || theirs.length === 0) return -1;
  const both = commonCount(mine, theirs);
  return both / (mine.length + theirs.length - both);
}

/**
 * Segment starts every hop with data saw, ascending (null when fewer than `atLeast`): the waits
 * compared across hops.
 */
function commonStarts(
  seen: readonly Seen[],
  aSends: boolean,
  cache: WaitsCache,
  atLeast = 3,
): Float64Array | null {
  let common: Float64Array | null = null;
  for (const s of seen) {
    const d = sidesOf(s.trace, aSends).data;
    if (d.samples === null || sampleCount(d) === 0) continue;
    const mine = firstWaits(d, cache).keys;
    if (common === null) {
      common = mine;
    } else {
      const both: number[] = [];
      for (let i = 0, j = 0; i < common.length && j < mine.length; ) {
        const a = common[i] as number;
        const b = mine[j] as number;
        if (a < b) i++;
        else if (a > b) j++;
        else {
          both.push(a);
          i++;
          j++;
        }
      }
      common = Float64Array.from(both);
    }
  }
  return common !== null && common.length >= atLeast ? common : null;
}

export interface HopOrder {
  order: Seen[];
  orderedBy: PathReport['orderedBy'];
  /** With an order given (--path, topology): the order the ACK waits give when they disagree. */
  contradictedBy?: Seen[];
}

export function orderHops(
  seen: Seen[],
  offsets: Map<HopView, number>,
  aSends: boolean,
  options: CorrelationOptions,
): HopOrder {
  const cache: WaitsCache = new Map();
  const common = commonStarts(seen, aSends, cache);
  const evidence = () => evidenceOrder(seen, aSends, common, cache, offsets);
  const given = options.path ?? options.topologyOrder;
  if (given !== undefined && given.length > 0) {
    const rank = (name: string) => {
      const at = given.indexOf(name);
      return at < 0 ? given.length : at;
    };
    if (seen.some((s) => given.includes(s.hop.name))) {
      const order = [...seen].sort((x, y) => rank(x.hop.name) - rank(y.hop.name));
      // A path or topology names the hops of both directions in one order; the data of this flow
      // may run the other way (a download, iperf3 -R). Its first hop waits longest for the ACKs.
      const withData = order.filter((s) => sampleCount(sidesOf(s.trace, aSends).data) > 0);
      const first = withData[0];
      const last = withData[withData.length - 1];
      if (first !== undefined && last !== undefined && first !== last) {
        const wFirst = remainingRoundTrip(sidesOf(first.trace, aSends), common, cache);
        const wLast = remainingRoundTrip(sidesOf(last.trace, aSends), common, cache);
        if (wFirst !== null && wLast !== null && wFirst < wLast) order.reverse();
      }
      const orderedBy = options.path !== undefined ? 'path' : 'topology';
      // The given order is followed; where the waits order the same hops otherwise, it is said.
      const measured = evidence();
      if (measured?.some((s, i) => s !== order[i])) return { order, orderedBy, contradictedBy: measured };
      return { order, orderedBy };
    }
  }
  const measured = evidence();
  if (measured !== null) return { order: measured, orderedBy: 'evidence' };
  return { order: timeOrder(seen, offsets, aSends), orderedBy: 'evidence' };
}

/** The order the ACK waits give (clock-independent), or null when the hops' waits do not tell it. */
function evidenceOrder(
  seen: Seen[],
  aSends: boolean,
  common: Float64Array | null,
  cache: WaitsCache,
  offsets: Map<HopView, number>,
): Seen[] | null {
  const waits = new Map<Seen, number | null>(
    seen.map((s) => [s, remainingRoundTrip(sidesOf(s.trace, aSends), common, cache)]),
  );
  if ([...waits.values()].every((w) => w !== null)) {
    const votes = common !== null ? waitVotes(seen, aSends, common, cache) : null;
    return structuredOrder(seen, votes ?? (waits as Map<Seen, number>), aSends, offsets);
  }
  // A few segment starts every hop saw and waited on (an MTU black hole lets only small segments
  // through): their votes still order the hops, when every hop has a wait for each.
  const few = commonStarts(seen, aSends, cache, 1);
  if (few === null) return null;
  const everyHopWaited = seen.every((s) =>
    waitsAlong(sidesOf(s.trace, aSends).data, few, cache).some((w) => !Number.isNaN(w)),
  );
  return everyHopWaited ? structuredOrder(seen, waitVotes(seen, aSends, few, cache), aSends, offsets) : null;
}

/** Without waits: by the clock-corrected times of the data each hop shares with the busiest hop. */
function timeOrder(seen: Seen[], offsets: Map<HopView, number>, aSends: boolean): Seen[] {
  const data = (s: Seen) => sidesOf(s.trace, aSends).data;
  const ref = seen.reduce((best, s) => (sampleCount(data(s)) > sampleCount(data(best)) ? s : best));
  const refOffset = offsets.get(ref.hop) ?? 0;
  const refTimes = firstTimes(data(ref).samples, SEGMENT_STRIDE, 2);
  const position = new Map<Seen, number>();
  for (const s of seen) {
    const d = data(s);
    const offset = offsets.get(s.hop) ?? 0;
    const diffs: number[] = [];
    const done = new Set<number>();
    for (let i = 0; i < sampleCount(d); i++) {
      const seq = sampleSeq(d, i);
      if (done.has(seq)) continue;
      done.add(seq);
      const t = refTimes.get(seq);
      if (t !== undefined) diffs.push(sampleTime(d, i) - offset - (t - refOffset));
    }
    position.set(
      s,
      diffs.length > 0
        ? median(diffs)
        : d.firstTime >= 0
          ? d.firstTime - offset - (data(ref).firstTime - refOffset)
          : 0,
    );
  }
  return [...seen].sort((x, y) => (position.get(x) ?? 0) - (position.get(y) ?? 0));
}
