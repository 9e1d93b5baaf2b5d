// pcapng timestamp splitting: the double-only long division must agree with BigInt arithmetic
// for every resolution up to 2^32 units per second (and the BigInt fallback beyond), on random
// and edge-case 64-bit values.
import { describe, expect, it } from 'vitest';
import { resolutionFromTsresol, splitTimestamp } from '../../src/capture/timestamp.js';
import { prng } from './helpers.js';

function expected(high: number, low: number, tsresol: number): [number, number] {
  const units = (tsresol & 0x80 ? 2n : 10n) ** BigInt(tsresol & 0x7f);
  const ts = (BigInt(high) << 32n) | BigInt(low);
  return [Number(ts / units), Number(((ts % units) * 1_000_000_000n) / units)];
}

const resolutions = [
  ...Array.from({ length: 13 }, (_, k) => k), // 10^0 .. 10^12 (10^10 and up take BigInt)
  ...Array.from({ length: 41 }, (_, k) => 0x80 | k), // 2^0 .. 2^40 (2^33 and up take BigInt)
];

describe('splitTimestamp', () => {
  it.each(resolutions.map((r) => [r]))('matches BigInt division for if_tsresol 0x%s', (tsresol) => {
    const res = resolutionFromTsresol(tsresol);
    const random = prng(tsresol + 1);
    const out = { timeSec: 0, timeNs: 0 };
    const edges: Array<[number, number]> = [
      [0, 0],
      [0, 1],
      [0xffffffff, 0xffffffff],
      [0, 0xffffffff],
      [1, 0],
      [0x0017_9a2b, 0x3c4d_5e6f],
    ];
    const wrong: string[] = [];
    for (let i = 0; i < 2000; i++) {
      const [high, low] = edges[i] ?? [
        Math.floor(random() * 2 ** (random() < 0.5 ? 22 : 32)),
        Math.floor(random() * 2 ** 32),
      ];
      splitTimestamp(high, low, res, 0, out);
      const [sec, ns] = expected(high, low, tsresol);
      // seconds are exact while they fit in a double's 53 bits
      if (out.timeNs !== ns || (sec < 2 ** 53 && out.timeSec !== sec)) wrong.push(`${high}:${low}`);
    }
    expect(wrong).toEqual([]);
  });

  it('adds the interface time offset, negative ones too', () => {
    const out = { timeSec: 0, timeNs: 0 };
    splitTimestamp(0, 1_500_000, resolutionFromTsresol(6), -3, out);
    expect(out).toEqual({ timeSec: -2, timeNs: 500_000_000 });
  });

  it('uses the fast path up to 2^32 units per second and BigInt beyond', () => {
    expect(resolutionFromTsresol(9).kind).toBe('decimal');
    expect(resolutionFromTsresol(10).kind).toBe('big');
    expect(resolutionFromTsresol(0x80 | 32).kind).toBe('binary');
    expect(resolutionFromTsresol(0x80 | 33).kind).toBe('big');
  });
});
