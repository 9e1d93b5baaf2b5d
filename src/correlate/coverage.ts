/**
 * Sequence-space arithmetic for loss and gap detection: covered ranges as sorted, disjoint
 * [start, end) pairs, clipped to the window two captures share, and the holes between them.
 */

import type { DirectionTrace } from '../observe/trace.js';

/** Covered sequence ranges as absolute [start, end) pairs relative to `origin` (mod 2^32). */
export function coverageFrom(d: DirectionTrace, origin: number): number[] {
  const out: number[] = [];
  if (d.base < 0) return out;
  const shift = (d.base - origin) >>> 0;
  const intervals = d.intervals ?? [];
  for (let i = 0; i < intervals.length; i += 2) {
    const start = ((intervals[i] as number) + shift) >>> 0;
    out.push(start, start + ((intervals[i + 1] as number) - (intervals[i] as number)));
  }
  return out.sort((a, b) => a - b);
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

export function covers(ranges: number[], piece: [number, number]): boolean {
  for (let i = 0; i < ranges.length; i += 2) {
    if ((ranges[i] as number) <= piece[0] && (ranges[i + 1] as number) >= piece[1]) return true;
  }
  return false;
}
