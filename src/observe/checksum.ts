/**
 * Internet checksum arithmetic (RFC 1071) and the classification of a stored L4 checksum.
 *
 * With transmit checksum offload (Linux CHECKSUM_PARTIAL) the stack stores in the checksum field
 * only the folded one's-complement sum of the pseudo-header, not complemented, and the NIC adds
 * the rest. A capture taken before the NIC sees that value, so "field == folded pseudo-header
 * sum" identifies offload exactly, and it can be checked even when the snap length cut the
 * payload off. Pure functions over byte views: nothing here allocates.
 */

export type ChecksumClass = 'good' | 'partial' | 'lco' | 'zero' | 'bad' | 'unverifiable';

/** Adds 16-bit big-endian words of bytes[start, end) to `sum` (unfolded; an odd tail is padded). */
export function sumWords(bytes: Uint8Array, start: number, end: number, sum = 0): number {
  let i = start;
  for (; i + 1 < end; i += 2) sum += ((bytes[i] as number) << 8) | (bytes[i + 1] as number);
  if (i < end) sum += (bytes[i] as number) << 8;
  return sum;
}

/** Folds carries into 16 bits (one's-complement addition). */
export function fold(sum: number): number {
  let s = sum;
  // Sums of a few thousand words fit 31 bits: fold with shifts; larger ones (jumbo) by division.
  while (s > 0xffff) s = s < 0x80000000 ? (s & 0xffff) + (s >>> 16) : (s % 0x10000) + Math.floor(s / 0x10000);
  return s;
}

/** Unfolded sum of the IPv4 pseudo-header: source, destination, protocol, L4 length. */
export function pseudoHeaderSumV4(
  bytes: Uint8Array,
  ipOffset: number,
  protocol: number,
  l4Length: number,
): number {
  return sumWords(bytes, ipOffset + 12, ipOffset + 20) + protocol + l4Length;
}

/** Unfolded sum of the IPv6 pseudo-header: source, destination, upper-layer length, next header. */
export function pseudoHeaderSumV6(
  bytes: Uint8Array,
  ipOffset: number,
  nextHeader: number,
  l4Length: number,
): number {
  return (
    sumWords(bytes, ipOffset + 8, ipOffset + 40) +
    Math.floor(l4Length / 0x10000) +
    (l4Length & 0xffff) +
    nextHeader
  );
}

/**
 * Classifies a stored L4 checksum.
 * @param stored the checksum field as read
 * @param pseudoSum unfolded pseudo-header sum
 * @param segmentSum unfolded sum over the whole L4 segment as captured (header incl. the stored
 *   field, and payload), or null when the payload was not fully captured
 * @param zeroMeansNone UDP over IPv4: 0 means "no checksum"
 */
export function classifyChecksum(
  stored: number,
  pseudoSum: number,
  segmentSum: number | null,
  zeroMeansNone: boolean,
): ChecksumClass {
  if (zeroMeansNone && stored === 0) return 'zero';
  if (segmentSum !== null && fold(pseudoSum + segmentSum) === 0xffff) return 'good';
  const partial = fold(pseudoSum);
  // A partial sum of 0xffff and 0 are the same one's-complement value.
  if (stored === partial || (partial === 0xffff && stored === 0)) return 'partial';
  return segmentSum === null ? 'unverifiable' : 'bad';
}

/** The IPv4 header checksum: good or bad when the header was captured, else unverifiable. */
export function classifyIpv4Header(
  bytes: Uint8Array,
  ipOffset: number,
  headerLength: number,
  capturedEnd: number,
): ChecksumClass {
  if (ipOffset + headerLength > capturedEnd) return 'unverifiable';
  let sum: number;
  if (headerLength === 20) {
    // The usual option-less header, unrolled: this runs for every IPv4 header of every frame.
    const b = bytes;
    const o = ipOffset;
    sum =
      (((b[o] as number) << 8) | (b[o + 1] as number)) +
      (((b[o + 2] as number) << 8) | (b[o + 3] as number)) +
      (((b[o + 4] as number) << 8) | (b[o + 5] as number)) +
      (((b[o + 6] as number) << 8) | (b[o + 7] as number)) +
      (((b[o + 8] as number) << 8) | (b[o + 9] as number)) +
      (((b[o + 10] as number) << 8) | (b[o + 11] as number)) +
      (((b[o + 12] as number) << 8) | (b[o + 13] as number)) +
      (((b[o + 14] as number) << 8) | (b[o + 15] as number)) +
      (((b[o + 16] as number) << 8) | (b[o + 17] as number)) +
      (((b[o + 18] as number) << 8) | (b[o + 19] as number));
  } else {
    sum = sumWords(bytes, ipOffset, ipOffset + headerLength);
  }
  return fold(sum) === 0xffff ? 'good' : 'bad';
}

/**
 * The checksum a NIC writes when it completes a partial one: the complement of the full sum with
 * the field taken as zero. `segmentSum` includes the stored (partial) field, which is removed here.
 */
export function completedChecksum(pseudoSum: number, segmentSum: number, stored: number): number {
  // Removing `stored` from a one's-complement sum = adding its complement.
  const withoutField = fold(pseudoSum + segmentSum + (~stored & 0xffff));
  const complement = ~withoutField & 0xffff;
  return complement === 0 ? 0xffff : complement;
}

/**
 * Local checksum offload (LCO): does the outer UDP checksum verify once the inner checksum, left
 * partial in the captured bytes, is replaced by its completed value?
 * @param outerPseudo unfolded pseudo-header sum of the outer UDP
 * @param outerSegmentSum unfolded sum over the outer UDP datagram as captured
 * @param innerStored the inner checksum field as captured (the partial sum)
 * @param innerCompleted the inner checksum as the NIC will write it
 */
export function verifiesWithCompletedInner(
  outerPseudo: number,
  outerSegmentSum: number,
  innerStored: number,
  innerCompleted: number,
): boolean {
  return fold(outerPseudo + outerSegmentSum + (~innerStored & 0xffff) + innerCompleted) === 0xffff;
}
