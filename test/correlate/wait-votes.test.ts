// The hops' votes on who waited longer for each segment's ACK (order.ts), computed with the hops'
// waits laid out along the segments all of them share, against the definition written plainly:
// each pair of hops, both ways round, compared over the common segment starts both have, a NaN
// wait (no ACK ended it) being no game. Random hops with missing starts, starts of their own
// outside the common ones, NaN waits, ties and hops with no data at all.
import { describe, expect, it } from 'vitest';
import type { SortedFirsts } from '../../src/correlate/clock.js';
import { alongCommon, waitShares } from '../../src/correlate/order.js';
import { prng } from '../helpers/prng.js';

/** The share of games each hop won, pair by pair over the common starts both have: the plain definition. */
function plainShares(hops: readonly SortedFirsts[], common: Float64Array): number[] {
  return hops.map((mine, x) => {
    let wins = 0;
    let games = 0;
    hops.forEach((other, y) => {
      if (x === y) return;
      for (let i = 0; i < mine.keys.length; i++) {
        if (!common.includes(mine.keys[i] as number)) continue;
        const j = other.keys.indexOf(mine.keys[i] as number);
        if (j < 0) continue;
        const wx = mine.times[i] as number;
        const wy = other.times[j] as number;
        if (Number.isNaN(wx) || Number.isNaN(wy)) continue;
        games++;
        if (wx > wy) wins++;
        else if (wx === wy) wins += 0.5;
      }
    });
    return games > 0 ? wins / games : 0;
  });
}

describe('wait votes', () => {
  it('match the pair-by-pair definition on random hops', () => {
    for (let seed = 1; seed <= 300; seed++) {
      const random = prng(seed);
      const common = Float64Array.from({ length: Math.floor(random() * 40) }, (_, i) => 1000 + i * 1448);
      const hopCount = 1 + Math.floor(random() * 9);
      const hops: SortedFirsts[] = [];
      for (let h = 0; h < hopCount; h++) {
        // Most hops have every start; some lack a few, some have none (no data in this direction).
        const kind = random();
        const keep = kind < 0.15 ? 0 : kind < 0.4 ? 0.7 : 1;
        // Starts outside the common ones too (the direction saw segments other hops did not).
        const keys = Float64Array.from(
          [...common.filter(() => random() < keep), ...(random() < 0.3 ? [500, 2000 + h] : [])].sort(
            (a, b) => a - b,
          ),
        );
        // Waits from a few values, so ties happen; NaN where no ACK ended the wait.
        const times = keys.map(() => (random() < 0.1 ? Number.NaN : Math.floor(random() * 4) * 0.25));
        hops.push({ keys, times });
      }
      const shares = waitShares(hops.map((h) => alongCommon(h, common)));
      expect(Array.from(shares), `seed ${seed}`).toEqual(plainShares(hops, common));
    }
  });

  it('lay a hop out by the common starts: NaN where it lacks one, its other starts left out', () => {
    const common = Float64Array.of(10, 20, 30, 40);
    const all = { keys: Float64Array.of(10, 20, 30, 40), times: Float64Array.of(1, 2, 3, 4) };
    expect(Array.from(alongCommon(all, common))).toEqual([1, 2, 3, 4]);
    const more = {
      keys: Float64Array.of(5, 10, 20, 25, 30, 40, 50),
      times: Float64Array.of(0, 1, 2, 9, 3, 4, 9),
    };
    expect(Array.from(alongCommon(more, common))).toEqual([1, 2, 3, 4]);
    const mixed = { keys: Float64Array.of(15, 20, 35, 40), times: Float64Array.of(9, 2, 9, 4) };
    expect(Array.from(alongCommon(mixed, common))).toEqual([Number.NaN, 2, Number.NaN, 4]);
    const some = { keys: Float64Array.of(20, 40), times: Float64Array.of(2, 4) };
    expect(Array.from(alongCommon(some, common))).toEqual([Number.NaN, 2, Number.NaN, 4]);
    const none = { keys: new Float64Array(0), times: new Float64Array(0) };
    expect(Array.from(alongCommon(none, common))).toEqual([Number.NaN, Number.NaN, Number.NaN, Number.NaN]);
  });
});
