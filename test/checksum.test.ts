import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  type ChecksumClass,
  classifyChecksum,
  classifyIpv4Header,
  fold,
  pseudoHeaderSumV4,
  sumWords,
} from '../src/observe/checksum.js';
import { parsePcap } from './helpers/parse-pcap.js';
import { prng } from './helpers/prng.js';

/** An IPv4 header (20 bytes, no options) from 20.0.0.150 to 20.0.0.103, as in the seed article. */
function seedIpHeader(): Uint8Array {
  return Uint8Array.from([0x45, 0, 0, 0, 0, 0, 0x40, 0, 64, 6, 0, 0, 20, 0, 0, 150, 20, 0, 0, 103]);
}

describe('checksum classification', () => {
  it.each([
    [1480, 0x2ecb],
    [65192, 0x27ac],
    [61288, 0x186c],
  ])('the seed line with TCP length %i and cksum %s is a partial (offload) sum', (tcpLength, field) => {
    const ip = seedIpHeader();
    const pseudo = pseudoHeaderSumV4(ip, 0, 6, tcpLength);
    expect(fold(pseudo)).toBe(field);
    // the snap length cut the payload: still recognisable as offload
    expect(classifyChecksum(field, pseudo, null, false)).toBe('partial');
    expect(classifyChecksum(field ^ 0x0100, pseudo, null, false)).toBe('unverifiable');
  });

  it('the seed VXLAN outer UDP checksum 10.200.0.42 -> 10.200.0.43, length 102, is partial', () => {
    const ip = Uint8Array.from([0x45, 0, 0, 0, 0, 0, 0, 0, 64, 17, 0, 0, 10, 200, 0, 42, 10, 200, 0, 43]);
    const pseudo = pseudoHeaderSumV4(ip, 0, 17, 102);
    expect(fold(pseudo)).toBe(0x165c);
    expect(classifyChecksum(0x165c, pseudo, null, true)).toBe('partial');
    expect(classifyChecksum(0, pseudo, null, true)).toBe('zero');
  });

  it('a fully captured segment: good when the sum verifies, bad when one bit flips', () => {
    const ip = seedIpHeader();
    const seg = Uint8Array.from([
      0x12, 0x34, 0x13, 0x89, 0, 0, 0, 1, 0, 0, 0, 2, 0x50, 0x10, 0x01, 0x00, 0, 0, 0, 0, 0xde, 0xad,
    ]);
    const pseudo = pseudoHeaderSumV4(ip, 0, 6, seg.length);
    const good = ~fold(pseudo + sumWords(seg, 0, seg.length)) & 0xffff;
    seg[16] = good >> 8;
    seg[17] = good & 0xff;
    expect(classifyChecksum(good, pseudo, sumWords(seg, 0, seg.length), false)).toBe('good');
    seg[21] = (seg[21] as number) ^ 0x01;
    expect(classifyChecksum(good, pseudo, sumWords(seg, 0, seg.length), false)).toBe('bad');
  });

  it('every TCP checksum the lab guest sent is a partial sum or good, never bad', () => {
    const path = join(import.meta.dirname, '..', 'samples', 'jumbo-underlay', 'guest1-eth0.pcap');
    const counts: Record<ChecksumClass, number> = {
      good: 0,
      partial: 0,
      lco: 0,
      zero: 0,
      bad: 0,
      unverifiable: 0,
    };
    for (const r of parsePcap(readFileSync(path)).records) {
      const d = r.data;
      if (d.length < 34 || d[12] !== 0x08 || d[13] !== 0x00 || d[23] !== 6) continue;
      const ihl = ((d[14] as number) & 0x0f) * 4;
      if (d[26] !== 10 || d[29] !== 150) continue; // sent by guest1 (10.97.0.150)
      const totalLength = ((d[16] as number) << 8) | (d[17] as number);
      const l4 = 14 + ihl;
      const l4Length = totalLength - ihl;
      const stored = ((d[l4 + 16] as number) << 8) | (d[l4 + 17] as number);
      const whole = r.capturedLength >= l4 + l4Length;
      const cls = classifyChecksum(
        stored,
        pseudoHeaderSumV4(d, 14, 6, l4Length),
        whole ? sumWords(d, l4, l4 + l4Length) : null,
        false,
      );
      counts[cls]++;
    }
    expect(counts.bad).toBe(0);
    expect(counts.unverifiable).toBe(0);
    // The guest's stack leaves every TCP checksum to the (virtual) NIC: all partial, none complete.
    expect(counts.partial).toBeGreaterThan(0);
    expect(counts).toEqual({ ...counts, good: 0, lco: 0, zero: 0 });
  });
});

/** The word-by-word sum sumWords must equal exactly (unfolded), whatever it does to be fast. */
function referenceSum(bytes: Uint8Array, start: number, end: number, sum = 0): number {
  let s = sum;
  for (let i = start; i < end; i += 2) s += ((bytes[i] ?? 0) << 8) | (i + 1 < end ? (bytes[i + 1] ?? 0) : 0);
  return s;
}

describe('sumWords and the IPv4 header sum', () => {
  const random = prng(0x5eed);
  const backing = new Uint8Array(5000);
  for (let i = 0; i < backing.length; i++) backing[i] = Math.floor(random() * 256);
  // A view that does not start at its buffer's first byte, as the reader's carry buffer may not.
  const bytes = backing.subarray(3, 4003);

  it('equals the word-by-word sum for every start parity, length and tail', () => {
    for (let n = 0; n < 2000; n++) {
      const start = Math.floor(random() * 3000);
      const length = n < 200 ? n % 100 : Math.floor(random() * 1000);
      const base = n % 3 === 0 ? 0 : Math.floor(random() * 70000);
      expect(sumWords(bytes, start, start + length, base)).toBe(
        referenceSum(bytes, start, start + length, base),
      );
    }
  });

  it('counts bytes outside the array as zero, and sums jumbo ranges exactly', () => {
    expect(sumWords(bytes, 3990, 4030)).toBe(referenceSum(bytes, 3990, 4030));
    expect(sumWords(bytes, 100, 100)).toBe(0);
    const big = new Uint8Array(200_000).fill(0xff);
    expect(sumWords(big, 1, 199_999)).toBe(99_999 * 0xffff);
  });

  it('verifies option-less and optioned IPv4 headers at any offset', () => {
    for (const ihl of [20, 24, 60]) {
      for (const at of [0, 1, 14, 3999 - ihl]) {
        const d = bytes.slice();
        d[at] = 0x40 | (ihl / 4);
        d[at + 10] = 0;
        d[at + 11] = 0;
        const field = ~fold(referenceSum(d, at, at + ihl)) & 0xffff;
        d[at + 10] = field >> 8;
        d[at + 11] = field & 0xff;
        expect(classifyIpv4Header(d, at, ihl, d.length)).toBe('good');
        d[at + 19] = (d[at + 19] as number) ^ 0x40;
        expect(classifyIpv4Header(d, at, ihl, d.length)).toBe('bad');
        expect(classifyIpv4Header(d, at, ihl, at + ihl - 1)).toBe('unverifiable');
      }
    }
  });
});
