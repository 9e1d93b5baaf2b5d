/**
 * ICMPv6 (RFC 4443, RFC 4884 extension length).
 *
 *   0                   1                   2                   3
 *   0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 *  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *  |     Type      |     Code      |          Checksum             |
 *  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *  |         MTU (type 2) / Length (types 1, 3) / Pointer (type 4) |
 *  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *  |    As much of the invoking packet as fits in the minimum MTU  |
 *  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *
 * Errors (types 1-4; 2 = packet too big with a 32-bit MTU) quote the invoking packet: it becomes
 * the next level, Carrier.ICMP_QUOTE. A non-zero RFC 4884 length (byte 4, 64-bit words, types 1
 * and 3) bounds the quote.
 */
import { announceIcmpQuote, type Cursor, EtherType, readIcmpHeader, short, stopAt, u32 } from './common.js';
import { Carrier, DecodeStatus, type Level, type Packet } from './packet.js';

const P_ICMP6_SHORT = 'icmpv6: header incomplete';

export function decodeIcmp6(
  data: Uint8Array,
  offset: number,
  end: number,
  _packet: Packet,
  level: Level,
  c: Cursor,
): number {
  const stop = stopAt(c, end);
  if (offset + 8 > stop) return short(c, offset + 8, end, P_ICMP6_SHORT, offset);
  const type = readIcmpHeader(data, offset, level);
  if (type === 2) level.icmpMtu = u32(data, offset + 4);
  if (type < 1 || type > 4 || level.carrier === Carrier.ICMP_QUOTE) return DecodeStatus.OK;
  // RFC 4884's length counts 64-bit words here, in byte 4 (destination unreachable, time exceeded).
  const extensionBytes = type === 1 || type === 3 ? (data[offset + 4] as number) * 8 : 0;
  return announceIcmpQuote(c, offset, end, extensionBytes, EtherType.IPV6);
}
