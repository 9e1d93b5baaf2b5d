/**
 * Exact pcapng timestamps without BigInt on the hot path.
 *
 * A pcapng packet timestamp is a 64-bit count of units (high and low 32-bit words) with R units per
 * second, R = 10^k or 2^k (if_tsresol). We need floor(ts / R) seconds and the remainder in
 * nanoseconds. A double holds integers exactly only up to 2^53, so for R <= 2^32 the division is
 * done as long division over four 16-bit limbs: each step divides rem * 65536 + limb, which stays
 * below 2^32 * 2^16 + 2^16 < 2^53, so every intermediate value is an exact integer. The remainder
 * (< R) becomes nanoseconds exactly for R = 10^k (k <= 9: a multiplication), and as a floor for
 * R = 2^k (1e9 = 2^9 * 1953125, and rem * 1953125 < 2^53, then an exact power-of-two division).
 * Only resolutions finer than 2^32 units per second (never seen in practice) take BigInt.
 */

const TWO_32 = 4294967296;

/** How one interface's timestamps are to be divided. */
export interface TimeResolution {
  /** 'decimal': R = 10^exponent; 'binary': R = 2^exponent (both R <= 2^32); 'big': BigInt path. */
  kind: 'decimal' | 'binary' | 'big';
  exponent: number;
  /** R as a double (exact when kind is not 'big'). */
  unitsPerSecond: number;
  /** R as a BigInt, used only when kind is 'big'. */
  unitsBig: bigint;
}

/** The resolution of an if_tsresol byte: bit 7 clear = 10^-n s, set = 2^-n s. */
export function resolutionFromTsresol(value: number): TimeResolution {
  const binary = (value & 0x80) !== 0;
  const exponent = value & 0x7f;
  const big = binary ? exponent > 32 : exponent > 9;
  const unitsBig = (binary ? 2n : 10n) ** BigInt(exponent);
  return {
    kind: big ? 'big' : binary ? 'binary' : 'decimal',
    exponent,
    unitsPerSecond: Number(unitsBig),
    unitsBig,
  };
}

/** The pcapng default: microseconds. */
export const MICROSECONDS: TimeResolution = resolutionFromTsresol(6);

/** Where the split timestamp is written (a Frame is one). */
export interface TimeFields {
  timeSec: number;
  timeNs: number;
}

/**
 * Writes floor(ts / R) + offsetSec into out.timeSec and the remainder in nanoseconds into
 * out.timeNs, for ts = high * 2^32 + low. Seconds are exact while they stay below 2^53.
 */
export function splitTimestamp(
  high: number,
  low: number,
  res: TimeResolution,
  offsetSec: number,
  out: TimeFields,
): void {
  if (res.kind === 'big') {
    splitWithBigInt(high, low, res, offsetSec, out);
    return;
  }
  const r = res.unitsPerSecond;
  // Long division over the limbs high>>>16, high&0xffff, low>>>16, low&0xffff.
  let rem = 0;
  let quotient = 0;
  let a = high >>> 16;
  let q = divideStep(a, r);
  rem = a - q * r;
  quotient = q;
  a = rem * 65536 + (high & 0xffff);
  q = divideStep(a, r);
  rem = a - q * r;
  quotient = quotient * 65536 + q;
  a = rem * 65536 + (low >>> 16);
  q = divideStep(a, r);
  rem = a - q * r;
  quotient = quotient * 65536 + q;
  a = rem * 65536 + (low & 0xffff);
  q = divideStep(a, r);
  rem = a - q * r;
  quotient = quotient * 65536 + q;
  out.timeSec = quotient + offsetSec;
  out.timeNs = remainderToNs(rem, res);
}

/** floor(a / r) for integers a < 2^53, r <= 2^32, corrected against rounding of a / r. */
function divideStep(a: number, r: number): number {
  let q = Math.floor(a / r);
  const rem = a - q * r;
  if (rem < 0) q--;
  else if (rem >= r) q++;
  return q;
}

function remainderToNs(rem: number, res: TimeResolution): number {
  const e = res.exponent;
  if (res.kind === 'decimal') return rem * 10 ** (9 - e);
  // binary: rem * 1e9 / 2^e = rem * 1953125 * 2^(9 - e)
  const scaled = rem * 1953125;
  return e >= 9 ? Math.floor(scaled / 2 ** (e - 9)) : scaled * 2 ** (9 - e);
}

function splitWithBigInt(
  high: number,
  low: number,
  res: TimeResolution,
  offsetSec: number,
  out: TimeFields,
): void {
  const ts = BigInt(high) * BigInt(TWO_32) + BigInt(low);
  const sec = ts / res.unitsBig;
  const rem = ts - sec * res.unitsBig;
  out.timeSec = Number(sec) + offsetSec;
  out.timeNs = Number((rem * 1_000_000_000n) / res.unitsBig);
}
