/**
 * ICMPv4 (RFC 792, RFC 1191 next-hop MTU, RFC 4884 extension length).
 *
 *   0                   1                   2                   3
 *   0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 *  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *  |     Type      |     Code      |          Checksum             |
 *  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *  |   unused      |    Length     |          Next-Hop MTU         |  (type 3 code 4)
 *  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *  |      Internet Header + leading bytes of the original datagram |
 *  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *
 * Errors (3 destination unreachable, 4 source quench, 5 redirect, 11 time exceeded, 12 parameter
 * problem) quote the offending packet: it becomes the next level, Carrier.ICMP_QUOTE. A non-zero
 * RFC 4884 length (32-bit words, types 3/11/12) bounds the quote before any extension objects.
 */
import { announceIcmpQuote, type Cursor, EtherType, readIcmpHeader, short, stopAt, u16 } from './common.js';
import { Carrier, DecodeStatus, type Level, type Packet } from './packet.js';

const P_ICMP4_SHORT = 'icmp: header incomplete';

function isIcmp4Error(type: number): boolean {
  return type === 3 || type === 4 || type === 5 || type === 11 || type === 12;
}

export function decodeIcmp4(
  data: Uint8Array,
  offset: number,
  end: number,
  _packet: Packet,
  level: Level,
  c: Cursor,
): number {
  const stop = stopAt(c, end);
  if (offset + 8 > stop) return short(c, offset + 8, end, P_ICMP4_SHORT, offset);
  const type = readIcmpHeader(data, offset, level);
  if (type === 3 && level.icmpCode === 4) level.icmpMtu = u16(data, offset + 6);
  // A quote inside a quote is not followed (RFC 1122 forbids errors about errors anyway).
  if (!isIcmp4Error(type) || level.carrier === Carrier.ICMP_QUOTE) return DecodeStatus.OK;
  // RFC 4884's length counts 32-bit words; redirects and source quench have none.
  const extensionBytes = type === 5 || type === 4 ? 0 : (data[offset + 5] as number) * 4;
  return announceIcmpQuote(c, offset, end, extensionBytes, EtherType.IPV4);
}
