// The report's ordering and number formatting avoid ICU (see model.ts compareCodes, text.ts
// formatCount): these check they give what localeCompare and toLocaleString('en-US') give.
import { describe, expect, it } from 'vitest';
import { CATALOG } from '../../src/findings/catalog.js';
import { compareCodes } from '../../src/report/model.js';
import { formatCount } from '../../src/report/text.js';

describe('finding codes in code-unit order', () => {
  it("sorts the catalogue's codes as localeCompare does, in either direction of every pair", () => {
    const codes = CATALOG.map((entry) => entry.code as string);
    expect(codes.length).toBeGreaterThan(10);
    for (const a of codes)
      for (const b of codes)
        expect(Math.sign(compareCodes(a, b)), `${a} vs ${b}`).toBe(Math.sign(a.localeCompare(b)));
  });
});

describe('formatCount', () => {
  it("writes what toLocaleString('en-US') writes", () => {
    const values = [0, -0, 1, 9, 10, 999, 1000, 1001, 12345, 999999, 1000000, 1234567, -1, -1234, -999999];
    values.push(Number.MAX_SAFE_INTEGER, -Number.MAX_SAFE_INTEGER, 2 ** 53, 1e21, 1.5, 1234.5678, Number.NaN);
    values.push(Number.POSITIVE_INFINITY);
    for (let x = 1; x < 1e15; x = x * 7 + 3) values.push(x, -x);
    for (const value of values) expect(formatCount(value), String(value)).toBe(value.toLocaleString('en-US'));
  });
});
