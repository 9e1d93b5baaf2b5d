/**
 * BSD loopback encapsulation (LINKTYPE_NULL 0: address family in the capturing host's byte
 * order; LINKTYPE_LOOP 108: network byte order). Both orders are accepted for both types.
 *
 *   0                   1                   2                   3
 *   0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 *  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *  |           Address family (AF_INET 2, AF_INET6 24/28/30)       |
 *  +---------------------------------------------------------------+
 */
import { type Cursor, EtherType, short } from './common.js';
import { DecodeStatus, type Level, type Packet } from './packet.js';

const P_NULL_SHORT = 'null: header incomplete';

export const NULL_HEADER_LENGTH = 4;

export function decodeNull(
  data: Uint8Array,
  offset: number,
  end: number,
  _packet: Packet,
  level: Level,
  c: Cursor,
): number {
  const hdrEnd = offset + NULL_HEADER_LENGTH;
  if (hdrEnd > end || hdrEnd > c.capEnd) return short(c, hdrEnd, end, P_NULL_SHORT, offset);
  const b0 = data[offset] as number;
  const b3 = data[offset + 3] as number;
  // Families are small numbers: whichever end holds the non-zero byte tells the byte order.
  const af = b0 === 0 && (data[offset + 1] as number) === 0 ? b3 | ((data[offset + 2] as number) << 8) : b0;
  if (af === 2) level.etherType = EtherType.IPV4;
  else if (af === 24 || af === 28 || af === 30) level.etherType = EtherType.IPV6;
  else level.etherType = 0;
  c.nextOffset = hdrEnd;
  return DecodeStatus.OK;
}
