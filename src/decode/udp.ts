/**
 * UDP (RFC 768).
 *
 *   0                   1                   2                   3
 *   0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 *  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *  |          Source Port          |       Destination Port        |
 *  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *  |            Length             |           Checksum            |
 *  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *
 * The length must lie between 8 and the IP payload length; it may exceed the bytes of a first
 * fragment or an ICMP quote (the rest is elsewhere). Length 0 in an IPv6 jumbogram (RFC 2675)
 * means "the IP payload length". Sets c.transportEnd to the end of the UDP payload, for tunnels.
 */
import { type Cursor, fail, short, stopAt, u16 } from './common.js';
import { DecodeStatus, type Level, type Packet } from './packet.js';

const P_UDP_SHORT = 'udp: header incomplete';
const P_UDP_LEN_SMALL = 'udp: length below 8';
const P_UDP_LEN_BIG = 'udp: length exceeds the IP payload';

export function decodeUdp(
  data: Uint8Array,
  offset: number,
  end: number,
  _packet: Packet,
  level: Level,
  c: Cursor,
): number {
  const stop = stopAt(c, end);
  if (offset + 4 <= stop) {
    level.srcPort = u16(data, offset);
    level.dstPort = u16(data, offset + 2);
  }
  if (offset + 8 > stop) return short(c, offset + 8, end, P_UDP_SHORT, offset);
  let len = u16(data, offset + 4);
  if (len === 0 && level.bigTcp) len = level.l4Length;
  level.udpLength = len;
  level.l4Checksum = u16(data, offset + 6);
  level.l4ChecksumOffset = offset + 6;
  if (len < 8) return fail(c, DecodeStatus.MALFORMED, P_UDP_LEN_SMALL, offset + 4);
  let pEnd = offset + len;
  if (len > level.l4Length || pEnd > end) {
    if (end !== c.softEnd) return fail(c, DecodeStatus.MALFORMED, P_UDP_LEN_BIG, offset + 4);
    if (pEnd > end) pEnd = end;
  }
  level.payloadOffset = offset + 8;
  level.payloadLength = len - 8;
  c.transportEnd = pEnd;
  return DecodeStatus.OK;
}
