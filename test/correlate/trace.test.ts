// The sequence-space coverage a hop keeps per flow: merged, sorted, bounded, and telling repeats.
import { describe, expect, it } from 'vitest';
import { cover, MAX_INTERVALS } from '../../src/observe/trace.js';

describe('cover', () => {
  it('extends in-order data in place and tells repeats', () => {
    const ranges: number[] = [];
    expect(cover(ranges, 0, 100)).toBe(false);
    expect(cover(ranges, 100, 200)).toBe(false);
    expect(cover(ranges, 50, 150)).toBe(true);
    expect(ranges).toEqual([0, 200]);
  });

  it('keeps holes apart and fills them when the data arrives', () => {
    const ranges: number[] = [];
    cover(ranges, 0, 100);
    cover(ranges, 300, 400);
    cover(ranges, 150, 200);
    expect(ranges).toEqual([0, 100, 150, 200, 300, 400]);
    expect(cover(ranges, 100, 150)).toBe(false);
    expect(ranges).toEqual([0, 200, 300, 400]);
    expect(cover(ranges, 0, 400)).toBe(false);
    expect(ranges).toEqual([0, 400]);
  });

  it('stays bounded: beyond MAX_INTERVALS ranges the closest two merge', () => {
    const ranges: number[] = [];
    for (let i = 0; i < MAX_INTERVALS * 3; i++) cover(ranges, i * 10, i * 10 + 5 + (i % 3));
    expect(ranges.length).toBeLessThanOrEqual(MAX_INTERVALS * 2);
    for (let i = 2; i < ranges.length; i += 2) expect(ranges[i]).toBeGreaterThan(ranges[i - 1] as number);
    expect(ranges[0]).toBe(0);
    expect(ranges[ranges.length - 1]).toBe((MAX_INTERVALS * 3 - 1) * 10 + 5 + ((MAX_INTERVALS * 3 - 1) % 3));
  });
});
