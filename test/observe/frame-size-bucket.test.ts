// The frame-size histogram's bucket of a length (a lookup table on the per-frame path): the first
// bound the length does not exceed, the overflow bucket past the last one, BIG TCP lengths too.
import { describe, expect, it } from 'vitest';
import { FRAME_SIZE_BOUNDS, frameSizeBucket } from '../../src/observe/hop.js';

describe('frameSizeBucket', () => {
  it('puts each bound in its own bucket and the byte after it in the next', () => {
    expect(frameSizeBucket(0)).toBe(0);
    expect(frameSizeBucket(1)).toBe(0);
    FRAME_SIZE_BOUNDS.forEach((bound, i) => {
      expect(frameSizeBucket(bound), `${bound}`).toBe(i);
      expect(frameSizeBucket(bound + 1), `${bound + 1}`).toBe(i + 1);
    });
    expect(frameSizeBucket(262_144)).toBe(FRAME_SIZE_BOUNDS.length);
    expect(frameSizeBucket(4_000_000_000)).toBe(FRAME_SIZE_BOUNDS.length);
  });

  it('agrees with a scan of the bounds on every length up to 70,000', () => {
    for (let length = 0; length <= 70_000; length++) {
      let scan = 0;
      while (scan < FRAME_SIZE_BOUNDS.length && length > (FRAME_SIZE_BOUNDS[scan] as number)) scan++;
      if (frameSizeBucket(length) !== scan) expect(frameSizeBucket(length), `${length}`).toBe(scan);
    }
  });
});
