/**
 * Linux "cooked" capture v2 (LINKTYPE_LINUX_SLL2, 276), 20 bytes.
 *
 *   0                   1                   2                   3
 *   0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 *  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *  |        Protocol type          |       Reserved (MBZ)          |
 *  +-------------------------------+-------------------------------+
 *  |                       Interface index                         |
 *  +-------------------------------+---------------+---------------+
 *  |          ARPHRD_ type         |  Packet type  | Addr. length  |
 *  +-------------------------------+---------------+---------------+
 *  |             Link-layer address (8 bytes, zero padded)         |
 *  +                                                               +
 *  |                                                               |
 *  +---------------------------------------------------------------+
 */
import { type Cursor, short, u16, u32 } from './common.js';
import { decodeVlanTags } from './ethernet.js';
import type { Level, Packet } from './packet.js';
import { sllDirection } from './sll.js';

const P_SLL2_SHORT = 'sll2: header incomplete';

export const SLL2_HEADER_LENGTH = 20;

export function decodeSll2(
  data: Uint8Array,
  offset: number,
  end: number,
  packet: Packet,
  level: Level,
  c: Cursor,
): number {
  const hdrEnd = offset + SLL2_HEADER_LENGTH;
  if (hdrEnd > end || hdrEnd > c.capEnd) return short(c, hdrEnd, end, P_SLL2_SHORT, offset);
  packet.ifIndex = u32(data, offset + 4);
  packet.direction = sllDirection(data[offset + 10] as number);
  return decodeVlanTags(data, hdrEnd, u16(data, offset), end, level, c);
}
