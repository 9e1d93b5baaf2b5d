/**
 * Clock offsets between captures. Captures come from different machines. For two hops, the data
 * segments they share give t_Y - t_X = offset + delay and the ACKs they share give offset - delay'
 * (they travel the other way): the mean of the two medians is the clock offset and half their
 * difference the one-way delay (NTP's idea). Offsets chain from a reference hop, so a guest whose
 * clock is hours off is found, and nothing that follows depends on it.
 */

import type { HopView } from '../observe/hop-view.js';
import { ACK_STRIDE, type FlowTrace, SEGMENT_STRIDE } from '../observe/trace.js';

/** The k-th smallest of `a` (0-based), rearranging it (Hoare's quickselect: linear, no sort). */
function select(a: Float64Array, k: number): number {
  let lo = 0;
  let hi = a.length - 1;
  while (lo < hi) {
    const pivot = a[(lo + hi) >> 1] as number;
    let i = lo;
    let j = hi;
    while (i <= j) {
      while ((a[i] as number) < pivot) i++;
      while ((a[j] as number) > pivot) j--;
      if (i <= j) {
        const t = a[i] as number;
        a[i] = a[j] as number;
        a[j] = t;
        i++;
        j--;
      }
    }
    if (k <= j) hi = j;
    else if (k >= i) lo = i;
    else break;
  }
  return a[k] as number;
}

export function median(values: readonly number[]): number {
  return medianInPlace(Float64Array.from(values));
}

/** The median of `a`, which it rearranges (the caller's own copy). */
export function medianInPlace(a: Float64Array): number {
  const mid = a.length >> 1;
  const upper = select(a, mid);
  if (a.length % 2 === 1) return upper;
  // After selecting `mid`, everything before it is no larger: the lower middle is their largest.
  let lower = Number.NEGATIVE_INFINITY;
  for (let i = 0; i < mid; i++) if ((a[i] as number) > lower) lower = a[i] as number;
  return (lower + upper) / 2;
}

/**
 * Key -> time of its first occurrence, from a trace's strided sample array (segments: key and
 * time at 0 and 2 of SEGMENT_STRIDE; ACKs: 0 and 1 of ACK_STRIDE).
 */
export function firstTimes(
  values: readonly number[] | null,
  stride: number,
  timeAt: number,
): Map<number, number> {
  const map = new Map<number, number>();
  if (values === null) return map;
  for (let i = 0; i < values.length; i += stride) {
    const key = values[i] as number;
    if (!map.has(key)) map.set(key, values[i + timeAt] as number);
  }
  return map;
}

/** A sample array's distinct keys in ascending order, each with the number (a time, a wait) of its first occurrence. */
export interface SortedFirsts {
  keys: Float64Array;
  times: Float64Array;
}

/** SortedFirsts of each sample array, made once per correlation (every hop is paired with every other). */
export type FirstTimesCache = Map<readonly number[], SortedFirsts>;

/** The index of the first of the sorted `keys` not below `key`. */
function lowerBound(keys: Float64Array, key: number): number {
  let lo = 0;
  let hi = keys.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((keys[mid] as number) < key) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * The distinct keys of a strided sample array (key at 0 of each entry), ascending, each with the
 * number at `valueAt` of its first occurrence: what firstTimes gives, sorted. Built with a typed
 * array sort and binary searches instead of a Map of double keys (sequence numbers pass 2^31):
 * correlating ten hops builds a hundred of these, and the Map's boxed keys were a tenth of it.
 */
export function firstsByKey(values: readonly number[], stride: number, valueAt: number): SortedFirsts {
  const n = values.length / stride;
  // In-order data (the common case): keys already ascending, a repeated key right after its
  // first (an ACK sent again with the same timestamp). The first of each run is kept in one pass;
  // the sort below cost ten hops' correlation a fifth of its time for the ACKs' repeats alone.
  // Branch-free, like the merges below: a branch that the first arrays never take (segments have
  // no repeats, ACKs do) made V8 throw this away when the first ACKs came.
  let runs = n > 0 ? 1 : 0;
  let disorder = 0;
  for (let i = 1; i < n; i++) {
    const key = values[i * stride] as number;
    const before = values[(i - 1) * stride] as number;
    runs += key > before ? 1 : 0;
    // One comparison, taken every time (a NaN key is disorder too: it goes to the sort).
    disorder += key >= before ? 0 : 1;
  }
  if (disorder === 0) {
    // Each entry is written at the next free place, which moves on only past a new key: a repeat is
    // written there and overwritten by the next key (one spare place for the last).
    const keys = new Float64Array(runs + 1);
    const times = new Float64Array(runs + 1);
    for (let i = 0, w = 0; i < n; i++) {
      const key = values[i * stride] as number;
      keys[w] = key;
      times[w] = values[i * stride + valueAt] as number;
      w += w === 0 || key !== keys[w - 1] ? 1 : 0;
    }
    return { keys: keys.subarray(0, runs), times: times.subarray(0, runs) };
  }
  const sorted = new Float64Array(n);
  for (let i = 0; i < n; i++) sorted[i] = values[i * stride] as number;
  sorted.sort();
  let distinct = 0;
  for (let i = 0; i < n; i++) {
    const key = sorted[i] as number;
    if (distinct === 0 || key !== sorted[distinct - 1]) sorted[distinct++] = key;
  }
  const keys = sorted.slice(0, distinct);
  const times = new Float64Array(distinct);
  const set = new Uint8Array(distinct);
  for (let i = 0; i < n; i++) {
    const at = lowerBound(keys, values[i * stride] as number);
    if (set[at] === 0) {
      set[at] = 1;
      times[at] = values[i * stride + valueAt] as number;
    }
  }
  return { keys, times };
}

function sortedFirsts(
  values: readonly number[],
  stride: number,
  timeAt: number,
  cache: FirstTimesCache,
): SortedFirsts {
  let sorted = cache.get(values);
  if (sorted === undefined) {
    sorted = firstsByKey(values, stride, timeAt);
    cache.set(values, sorted);
  }
  return sorted;
}

/** t_Y - t_X for every key both have, first occurrence at each: a merge of the two sorted key lists. */
export function differences(
  x: readonly number[] | null,
  y: readonly number[] | null,
  stride: number,
  timeAt: number,
  out: number[],
  cache: FirstTimesCache,
): void {
  if (x === null || y === null) return;
  const fx = sortedFirsts(x, stride, timeAt, cache);
  const fy = sortedFirsts(y, stride, timeAt, cache);
  let i = 0;
  let j = 0;
  // Moves on as commonCount does (no branch the first pairs never take).
  while (i < fx.keys.length && j < fy.keys.length) {
    const kx = fx.keys[i] as number;
    const ky = fy.keys[j] as number;
    const notAfter = kx <= ky ? 1 : 0;
    const notBefore = kx >= ky ? 1 : 0;
    if ((notAfter & notBefore) === 1) out.push((fy.times[j] as number) - (fx.times[i] as number));
    i += notAfter;
    j += notBefore;
  }
}

/** How many keys the two sample arrays share (what differences would push, counted). */
function sharedKeys(
  x: readonly number[] | null,
  y: readonly number[] | null,
  stride: number,
  timeAt: number,
  cache: FirstTimesCache,
): number {
  if (x === null || y === null) return 0;
  return commonCount(
    sortedFirsts(x, stride, timeAt, cache).keys,
    sortedFirsts(y, stride, timeAt, cache).keys,
  );
}

/** How many values two ascending lists of distinct numbers have in common: one merge. */
export function commonCount(a: Float64Array, b: Float64Array): number {
  let n = 0;
  let i = 0;
  let j = 0;
  // Branch-free: each step moves past the smaller head, or past both when they are equal. A branch
  // the first pairs never took (equal keys are the rule between hops) had V8 throw the compiled
  // merge away at the first pair that took it.
  while (i < a.length && j < b.length) {
    const x = a[i] as number;
    const y = b[j] as number;
    const notAfter = x <= y ? 1 : 0;
    const notBefore = x >= y ? 1 : 0;
    n += notAfter & notBefore;
    i += notAfter;
    j += notBefore;
  }
  return n;
}

/**
 * The matches estimatePair would count for two hops (0 where it would give no estimate), without
 * the differences and their medians: what choosing the reference and the chain needs of every pair.
 */
function pairMatches(
  flowsX: Map<string, FlowTrace>,
  flowsY: Map<string, FlowTrace>,
  cache: FirstTimesCache,
): number {
  let n = 0;
  for (const [key, tx] of flowsX) {
    const ty = flowsY.get(key);
    if (ty === undefined) continue;
    n += sharedKeys(tx.fromA.samples, ty.fromA.samples, SEGMENT_STRIDE, 2, cache);
    n += sharedKeys(tx.fromA.acks, ty.fromA.acks, ACK_STRIDE, 1, cache);
    n += sharedKeys(tx.fromB.samples, ty.fromB.samples, SEGMENT_STRIDE, 2, cache);
    n += sharedKeys(tx.fromB.acks, ty.fromB.acks, ACK_STRIDE, 1, cache);
  }
  return n < MIN_MATCHES ? 0 : n;
}

/** Fewer keys in common than this, and two hops' clocks are not compared. */
const MIN_MATCHES = 3;

interface PairEstimate {
  offset: number;
  delay: number;
  matches: number;
  symmetric: boolean;
}

/** Clock offset of hop Y relative to hop X over every flow both saw. */
function estimatePair(
  flowsX: Map<string, FlowTrace>,
  flowsY: Map<string, FlowTrace>,
  cache: FirstTimesCache,
): PairEstimate | null {
  // Everything endpoint A sends (data and ACKs) travels A->B; everything B sends travels B->A.
  // t_Y - t_X is offset + delay one way and offset - delay the other: their medians' mean is the offset.
  const aToB: number[] = [];
  const bToA: number[] = [];
  for (const [key, tx] of flowsX) {
    const ty = flowsY.get(key);
    if (ty === undefined) continue;
    differences(tx.fromA.samples, ty.fromA.samples, SEGMENT_STRIDE, 2, aToB, cache);
    differences(tx.fromA.acks, ty.fromA.acks, ACK_STRIDE, 1, aToB, cache);
    differences(tx.fromB.samples, ty.fromB.samples, SEGMENT_STRIDE, 2, bToA, cache);
    differences(tx.fromB.acks, ty.fromB.acks, ACK_STRIDE, 1, bToA, cache);
  }
  if (aToB.length + bToA.length < MIN_MATCHES) return null;
  if (aToB.length === 0 || bToA.length === 0) {
    // One direction only: the delay cannot be told from the offset; take the delay as zero.
    const all = aToB.length > 0 ? aToB : bToA;
    return { offset: median(all), delay: 0, matches: all.length, symmetric: false };
  }
  const forward = median(aToB);
  const backward = median(bToA);
  return {
    offset: (forward + backward) / 2,
    delay: (forward - backward) / 2,
    matches: aToB.length + bToA.length,
    symmetric: true,
  };
}

/**
 * Offsets of every hop's clock against a reference (the hop sharing the most with the others),
 * chained through the best-matched pairs. Hops that share no data with the chain (a capture from
 * another hour, one that started after the others stopped) get none: their offset is unknown.
 */
/** Up to this many hops share a flow, every pair of them is compared; beyond, a band of neighbours. */
const CLOCK_CLIQUE = 16;
const CLOCK_BAND = 4;

export function estimateClocks(
  hops: readonly HopView[],
  traces: Map<HopView, Map<string, FlowTrace>>,
  stats?: { pairs: number },
): Map<HopView, number> {
  const offsets = new Map<HopView, number>();
  if (hops.length === 0) return offsets;
  const pairs = new Map<number, PairEstimate | null>();
  const matchCounts = new Map<number, number>();
  const cache: FirstTimesCache = new Map();
  const flowsOf = (i: number) => traces.get(hops[i] as HopView) as Map<string, FlowTrace>;
  // Y against X is X against Y negated (every difference changes sign): estimated once per pair,
  // and only for the pairs the chain below goes through. Every pair is only counted.
  const estimate = (x: number, y: number): PairEstimate | null => {
    if (x > y) {
      const e = estimate(y, x);
      return e === null ? null : { ...e, offset: -e.offset, delay: -e.delay };
    }
    const key = x * hops.length + y;
    if (!pairs.has(key)) {
      if (stats !== undefined) stats.pairs++;
      pairs.set(key, estimatePair(flowsOf(x), flowsOf(y), cache));
    }
    return pairs.get(key) ?? null;
  };
  const matches = (x: number, y: number): number => {
    const key = Math.min(x, y) * hops.length + Math.max(x, y);
    let n = matchCounts.get(key);
    if (n === undefined) {
      n = pairMatches(flowsOf(Math.min(x, y)), flowsOf(Math.max(x, y)), cache);
      matchCounts.set(key, n);
    }
    return n;
  };
  // Only hops that saw a flow in common can be compared: the work grows with the paths, not with
  // the square of the number of captures.
  const holders = new Map<string, number[]>();
  hops.forEach((hop, i) => {
    for (const key of (traces.get(hop) as Map<string, FlowTrace>).keys()) {
      const list = holders.get(key);
      if (list === undefined) holders.set(key, [i]);
      else list.push(i);
    }
  });
  const neighbours: Array<Set<number>> = hops.map(() => new Set<number>());
  for (const list of holders.values()) {
    // A flow seen at a few hops: every pair. Seen at many (hundreds of copies of one capture): each
    // hop with its CLOCK_BAND neighbours in capture order, enough to chain every clock to the
    // reference in linear work.
    const band = list.length <= CLOCK_CLIQUE ? list.length : CLOCK_BAND;
    for (let i = 0; i < list.length; i++) {
      for (let j = Math.max(0, i - band); j < Math.min(list.length, i + band + 1); j++) {
        if (i !== j) (neighbours[list[i] as number] as Set<number>).add(list[j] as number);
      }
    }
  }
  const near = neighbours.map((set) => [...set].sort((a, b) => a - b));

  // The reference: the hop that shares the most with the others (the first of equals).
  let reference = 0;
  let bestMatches = -1;
  for (let x = 0; x < hops.length; x++) {
    let total = 0;
    for (const y of near[x] as number[]) total += matches(x, y);
    if (total > bestMatches) {
      bestMatches = total;
      reference = x;
    }
  }
  // Then, again and again, the unresolved hop best matched with a resolved one (ties: the hop
  // resolved earlier, then the lower index), its offset chained through that pair.
  offsets.set(hops[reference] as HopView, 0);
  const resolved = new Set<number>([reference]);
  // A candidate remembers the resolved hop it would be chained from; the offset is estimated once
  // it is picked (the resolved hop's offset is fixed by then).
  const candidate = new Map<number, { from: number; matches: number; order: number }>();
  const reach = (x: number, order: number) => {
    for (const y of near[x] as number[]) {
      if (resolved.has(y)) continue;
      const m = matches(x, y);
      if (m === 0) continue;
      const known = candidate.get(y);
      if (known === undefined || m > known.matches) candidate.set(y, { from: x, matches: m, order });
    }
  };
  reach(reference, 0);
  while (candidate.size > 0) {
    let pick = -1;
    let best: { from: number; matches: number; order: number } | null = null;
    for (const [y, c] of candidate) {
      if (
        best === null ||
        c.matches > best.matches ||
        (c.matches === best.matches && (c.order < best.order || (c.order === best.order && y < pick)))
      ) {
        best = c;
        pick = y;
      }
    }
    if (best === null) break;
    candidate.delete(pick);
    resolved.add(pick);
    const e = estimate(best.from, pick) as PairEstimate;
    offsets.set(hops[pick] as HopView, (offsets.get(hops[best.from] as HopView) ?? 0) + e.offset);
    reach(pick, resolved.size - 1);
  }
  // Hops that share no data with the others have no offset: it is unknown, not 0.
  return offsets;
}
