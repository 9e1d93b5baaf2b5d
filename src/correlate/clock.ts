/**
 * Clock offsets between captures. Captures come from different machines. For two hops, the data
 * segments they share give t_Y - t_X = offset + delay and the ACKs they share give offset - delay'
 * (they travel the other way): the mean of the two medians is the clock offset and half their
 * difference the one-way delay (NTP's idea). Offsets chain from a reference hop, so a guest whose
 * clock is hours off is found, and nothing that follows depends on it.
 */

import type { HopView } from '../observe/hop-view.js';
import { ACK_STRIDE, type FlowTrace, SEGMENT_STRIDE } from '../observe/trace.js';

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1
    ? (sorted[mid] as number)
    : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
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

/** t_Y - t_X for every key both have, first occurrence at each. */
function differences(
  x: readonly number[] | null,
  y: readonly number[] | null,
  stride: number,
  timeAt: number,
  out: number[],
): void {
  if (x === null || y === null) return;
  const first = firstTimes(x, stride, timeAt);
  const seen = new Set<number>();
  for (let i = 0; i < y.length; i += stride) {
    const key = y[i] as number;
    if (seen.has(key)) continue;
    seen.add(key);
    const tx = first.get(key);
    if (tx !== undefined) out.push((y[i + timeAt] as number) - tx);
  }
}

interface PairEstimate {
  offset: number;
  delay: number;
  matches: number;
  symmetric: boolean;
}

/** Clock offset of hop Y relative to hop X over every flow both saw. */
function estimatePair(flowsX: Map<string, FlowTrace>, flowsY: Map<string, FlowTrace>): PairEstimate | null {
  // Everything endpoint A sends (data and ACKs) travels A->B; everything B sends travels B->A.
  // t_Y - t_X is offset + delay one way and offset - delay the other: their medians' mean is the offset.
  const aToB: number[] = [];
  const bToA: number[] = [];
  for (const [key, tx] of flowsX) {
    const ty = flowsY.get(key);
    if (ty === undefined) continue;
    differences(tx.fromA.samples, ty.fromA.samples, SEGMENT_STRIDE, 2, aToB);
    differences(tx.fromA.acks, ty.fromA.acks, ACK_STRIDE, 1, aToB);
    differences(tx.fromB.samples, ty.fromB.samples, SEGMENT_STRIDE, 2, bToA);
    differences(tx.fromB.acks, ty.fromB.acks, ACK_STRIDE, 1, bToA);
  }
  if (aToB.length + bToA.length < 3) return null;
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
 * chained through the best-matched pairs. Hops that share nothing get no offset (0, not derived).
 */
export function estimateClocks(
  hops: readonly HopView[],
  traces: Map<HopView, Map<string, FlowTrace>>,
): Map<HopView, number> {
  const offsets = new Map<HopView, number>();
  if (hops.length === 0) return offsets;
  const pairs = new Map<string, PairEstimate | null>();
  const pairKey = (x: number, y: number) => `${x}:${y}`;
  const estimate = (x: number, y: number): PairEstimate | null => {
    const key = pairKey(x, y);
    if (!pairs.has(key)) {
      pairs.set(
        key,
        estimatePair(
          traces.get(hops[x] as HopView) as Map<string, FlowTrace>,
          traces.get(hops[y] as HopView) as Map<string, FlowTrace>,
        ),
      );
    }
    return pairs.get(key) ?? null;
  };
  let reference = 0;
  let bestMatches = -1;
  for (let x = 0; x < hops.length; x++) {
    let total = 0;
    for (let y = 0; y < hops.length; y++) if (x !== y) total += estimate(x, y)?.matches ?? 0;
    if (total > bestMatches) {
      bestMatches = total;
      reference = x;
    }
  }
  offsets.set(hops[reference] as HopView, 0);
  const resolved = new Set<number>([reference]);
  for (;;) {
    let best: { y: number; offset: number; matches: number } | null = null;
    for (const x of resolved) {
      for (let y = 0; y < hops.length; y++) {
        if (resolved.has(y)) continue;
        const e = estimate(x, y);
        if (e === null) continue;
        if (best === null || e.matches > best.matches) {
          best = { y, offset: (offsets.get(hops[x] as HopView) ?? 0) + e.offset, matches: e.matches };
        }
      }
    }
    if (best === null) break;
    resolved.add(best.y);
    offsets.set(hops[best.y] as HopView, best.offset);
  }
  for (const hop of hops) if (!offsets.has(hop)) offsets.set(hop, 0);
  return offsets;
}
