/**
 * What every decoder shares: the decoder signature, the cursor that carries state between
 * layers of one frame, byte readers and the rule that tells "cut by the snap length" from
 * "the header lies".
 *
 * A decoder is `(data, offset, end, packet, level, cursor) => status`. `end` is the DECLARED
 * end of the bytes the enclosing layer gives it (wire coordinates, may lie beyond the captured
 * bytes); `cursor.capEnd` is where the captured bytes stop. A decoder never reads at or past
 * `min(end, cursor.capEnd)` and never throws. It returns a status; on a problem it leaves the
 * problem text and offset in the cursor, and the driver (decode.ts) commits them to the Packet.
 */
import { Carrier, type CarrierValue, DecodeStatus, type Level, type Packet } from './packet.js';

/** Internal status: stop decoding this level quietly (a fragment or ICMP quote ended early). */
export const STOP = 4;

export type Decoder = (
  data: Uint8Array,
  offset: number,
  end: number,
  packet: Packet,
  level: Level,
  c: Cursor,
) => number;

export interface Cursor {
  /** Captured bytes in `data` (reads stop here). */
  capEnd: number;
  /** Bytes on the wire in `data` coordinates (originalLength; equals capEnd for rebuilt datagrams). */
  wireEnd: number;
  /**
   * End of an enclosing first IP fragment or ICMP quote, -1 when none: running into it is normal
   * (the rest is in the next fragment, or was never quoted), so it stops decoding without a problem.
   */
  softEnd: number;
  problem: string | null;
  problemOffset: number;

  /** Set by link decoders: offset of the network header. */
  nextOffset: number;
  /** Set by network decoders: declared end of the transport bytes. */
  transportEnd: number;
  /** Set by tunnel/ICMP decoders when another level follows. */
  hasNext: boolean;
  /** Declared end of the next level's bytes. */
  nextEnd: number;
  /** Link decoder for the next level (inner Ethernet), or null when an IP header follows directly. */
  nextLink: Decoder | null;
  /** EtherType of the next level's network layer when nextLink is null. */
  nextEtherType: number;
  carrier: number;
  carrierOffset: number;
  carrierLength: number;
  vni: number;
  geneveOptionsLength: number;
  tunnelPort: number;
}

export function createCursor(): Cursor {
  return {
    capEnd: 0,
    wireEnd: 0,
    softEnd: -1,
    problem: null,
    problemOffset: -1,
    nextOffset: -1,
    transportEnd: -1,
    hasNext: false,
    nextEnd: -1,
    nextLink: null,
    nextEtherType: 0,
    carrier: 0,
    carrierOffset: -1,
    carrierLength: 0,
    vni: -1,
    geneveOptionsLength: 0,
    tunnelPort: 0,
  };
}

/** Records a problem in the cursor and returns its status. */
export function fail(c: Cursor, status: number, problem: string, offset: number): number {
  c.problem = problem;
  c.problemOffset = offset;
  return status;
}

/**
 * A header needs bytes up to `need` but only `end` (declared) / `c.capEnd` (captured) exist.
 * Past the declared end: the header lies (MALFORMED), unless that end is a fragment's or an ICMP
 * quote's (STOP). Within the declared end but past the captured bytes: the snap length cut it
 * (TRUNCATED), or, when nothing was cut, the frame itself is short (MALFORMED).
 */
export function short(c: Cursor, need: number, end: number, problem: string, offset: number): number {
  if (need > end) {
    if (end === c.softEnd) return STOP;
    return fail(c, DecodeStatus.MALFORMED, problem, offset);
  }
  return fail(c, c.capEnd < c.wireEnd ? DecodeStatus.TRUNCATED : DecodeStatus.MALFORMED, problem, offset);
}

/** The last readable offset + 1 for a layer ending at `end`. */
export function stopAt(c: Cursor, end: number): number {
  return Math.min(end, c.capEnd);
}

// Byte readers: callers bounds-check first (an out-of-range read yields garbage, never a throw).
export function u16(d: Uint8Array, o: number): number {
  return ((d[o] as number) << 8) | (d[o + 1] as number);
}

export function u24(d: Uint8Array, o: number): number {
  return ((d[o] as number) << 16) | ((d[o + 1] as number) << 8) | (d[o + 2] as number);
}

export function u32(d: Uint8Array, o: number): number {
  return (
    (((d[o] as number) << 24) |
      ((d[o + 1] as number) << 16) |
      ((d[o + 2] as number) << 8) |
      (d[o + 3] as number)) >>>
    0
  );
}

export const EtherType = {
  IPV4: 0x0800,
  ARP: 0x0806,
  VLAN: 0x8100,
  IPV6: 0x86dd,
  QINQ: 0x88a8,
  QINQ_OLD: 0x9100,
  TRANSPARENT_ETHERNET: 0x6558,
} as const;

/**
 * Announces the packet a tunnel header or an ICMP error carries: the driver decodes it as the next
 * level, from `link` (an inner Ethernet) or, when `link` is null, from the network layer
 * `etherType`. One place for every carrier, so a new tunnel cannot forget a field.
 */
export function announceNext(
  c: Cursor,
  carrier: CarrierValue,
  carrierOffset: number,
  carrierLength: number,
  link: Decoder | null,
  etherType: number,
  nextEnd: number,
  vni: number,
  geneveOptionsLength: number,
  tunnelPort: number,
): number {
  c.hasNext = true;
  c.nextOffset = carrierOffset + carrierLength;
  c.nextEnd = nextEnd;
  c.nextLink = link;
  c.nextEtherType = link === null ? etherType : 0;
  c.carrier = carrier;
  c.carrierOffset = carrierOffset;
  c.carrierLength = carrierLength;
  c.vni = vni;
  c.geneveOptionsLength = geneveOptionsLength;
  c.tunnelPort = tunnelPort;
  return DecodeStatus.OK;
}

/** Type, code, checksum and 4 bytes that depend on the type, in ICMPv4 and ICMPv6 alike. */
export const ICMP_HEADER_LENGTH = 8;

/** The 8-byte ICMPv4/ICMPv6 header both versions share: type, code, checksum, the body after it. */
export function readIcmpHeader(data: Uint8Array, offset: number, level: Level): number {
  const type = data[offset] as number;
  level.icmpType = type;
  level.icmpCode = data[offset + 1] as number;
  level.l4Checksum = u16(data, offset + 2);
  level.l4ChecksumOffset = offset + 2;
  level.payloadOffset = offset + 8;
  level.payloadLength = level.l4Length - 8;
  return type;
}

/**
 * Announces the packet an ICMPv4/ICMPv6 error quotes after its 8-byte header at `offset`: an IP
 * header of `etherType`, up to `end`, or only `extensionBytes` far when a non-zero RFC 4884 length
 * ends the quote sooner (extension objects follow it).
 */
export function announceIcmpQuote(
  c: Cursor,
  offset: number,
  end: number,
  extensionBytes: number,
  etherType: number,
): number {
  let quoteEnd = end;
  const quoteStart = offset + ICMP_HEADER_LENGTH;
  if (extensionBytes !== 0 && quoteStart + extensionBytes < quoteEnd) quoteEnd = quoteStart + extensionBytes;
  return announceNext(c, Carrier.ICMP_QUOTE, offset, ICMP_HEADER_LENGTH, null, etherType, quoteEnd, -1, 0, 0);
}
