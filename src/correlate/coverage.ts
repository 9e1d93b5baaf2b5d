/**
 * Sequence-space arithmetic for loss and gap detection: covered ranges as sorted, disjoint
 * [start, end) pairs, clipped to the window two captures share, and the holes between them.
 */

import type { DirectionTrace } from '../observe/trace.js';

/**
 * Covered sequence ranges as [start, end) pairs in bytes from `origin` (an absolute sequence
 * number): the hop's base is placed within 2 GiB of the origin (sequence arithmetic modulo
 * 2^32), its ranges are unwrapped already, so a transfer longer than 4 GiB is covered whole.
 */
export function coverageFrom(d: DirectionTrace, origin: number): number[] {
  return shifted(d, d.intervals, origin);
}

/** The ranges a hop saw more than once (retransmitted or duplicated), as coverageFrom. */
export function repeatedFrom(d: DirectionTrace, origin: number): number[] {
  return shifted(d, d.repeated, origin);
}

/**
 * Below this (as repeatedFrom), the hop's list of ranges seen twice is no longer whole (trace.ts
 * repeatedFloor); -Infinity while it is (and for a trace from an agent that does not say).
 */
export function repeatedFloorFrom(d: DirectionTrace, origin: number): number {
  const floor = d.repeatedFloor as unknown;
  if (typeof floor !== 'number' || Number.isNaN(floor) || d.base < 0) return Number.NEGATIVE_INFINITY;
  return floor + ((d.base - origin) | 0);
}

function shifted(d: DirectionTrace, intervals: number[] | null, origin: number): number[] {
  const out: number[] = [];
  if (d.base < 0 || intervals === null) return out;
  const shift = (d.base - origin) | 0;
  for (let i = 0; i < intervals.length; i += 2) {
    out.push((intervals[i] as number) + shift, (intervals[i + 1] as number) + shift);
  }
  return out;
}

/** Ranges common to both lists (both sorted, disjoint). */
export function intersect(a: number[], b: number[]): number[] {
  const out: number[] = [];
  let i = 0;
  let j = 0;
  while (i < a.length && j < b.length) {
    const s = Math.max(a[i] as number, b[j] as number);
    const e = Math.min(a[i + 1] as number, b[j + 1] as number);
    if (e > s) out.push(s, e);
    if ((a[i + 1] as number) < (b[j + 1] as number)) i += 2;
    else j += 2;
  }
  return out;
}

/** Ranges covered by any of the lists (each sorted, disjoint), sorted and merged. */
export function union(lists: readonly number[][]): number[] {
  const pairs: Array<[number, number]> = [];
  for (const list of lists)
    for (let i = 0; i < list.length; i += 2) pairs.push([list[i] as number, list[i + 1] as number]);
  pairs.sort((x, y) => x[0] - y[0]);
  const out: number[] = [];
  for (const [s, e] of pairs) {
    // Touching ranges merge too: [a, b) and [b, c) are one covered stretch.
    if (out.length > 0 && s <= (out[out.length - 1] as number)) {
      if (e > (out[out.length - 1] as number)) out[out.length - 1] = e;
    } else out.push(s, e);
  }
  return out;
}

export function clip(ranges: number[], lo: number, hi: number): number[] {
  const out: number[] = [];
  for (let i = 0; i < ranges.length; i += 2) {
    const s = Math.max(ranges[i] as number, lo);
    const e = Math.min(ranges[i + 1] as number, hi);
    if (e > s) out.push(s, e);
  }
  return out;
}

/** Bytes of `a` not covered by `b` (both sorted, disjoint). */
export function missing(a: number[], b: number[]): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  for (let i = 0; i < a.length; i += 2) {
    let s = a[i] as number;
    const e = a[i + 1] as number;
    for (let j = 0; j < b.length && s < e; j += 2) {
      const bs = b[j] as number;
      const be = b[j + 1] as number;
      if (be <= s || bs >= e) continue;
      if (bs > s) out.push([s, bs]);
      s = Math.max(s, be);
    }
    if (s < e) out.push([s, e]);
  }
  return out;
}

export function span(ranges: number[]): [number, number] | null {
  return ranges.length === 0 ? null : [ranges[0] as number, ranges[ranges.length - 1] as number];
}

export function total(ranges: Array<[number, number]>): number {
  return ranges.reduce((sum, [s, e]) => sum + (e - s), 0);
}
