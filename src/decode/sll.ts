/**
 * Linux "cooked" capture v1 (LINKTYPE_LINUX_SLL, 113), 16 bytes.
 *
 *   0                   1                   2                   3
 *   0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 *  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *  |         Packet type           |       ARPHRD_ type            |
 *  +-------------------------------+-------------------------------+
 *  |  Link-layer address length    |                               |
 *  +-------------------------------+                               +
 *  |             Link-layer address (8 bytes, zero padded)         |
 *  +                               +-------------------------------+
 *  |                               |        Protocol type          |
 *  +-------------------------------+-------------------------------+
 *
 * Packet type: 0 to us, 1 broadcast, 2 multicast, 3 to another host (all inbound), 4 outgoing.
 */
import { type Cursor, short, u16 } from './common.js';
import { decodeVlanTags } from './ethernet.js';
import type { Level, Packet } from './packet.js';

const P_SLL_SHORT = 'sll: header incomplete';

export const SLL_HEADER_LENGTH = 16;

/** Maps a Linux packet type (PACKET_HOST...PACKET_OUTGOING) to Packet.direction. */
export function sllDirection(packetType: number): 0 | 1 | 2 {
  if (packetType <= 3) return 1;
  if (packetType === 4) return 2;
  return 0;
}

export function decodeSll(
  data: Uint8Array,
  offset: number,
  end: number,
  packet: Packet,
  level: Level,
  c: Cursor,
): number {
  const hdrEnd = offset + SLL_HEADER_LENGTH;
  if (hdrEnd > end || hdrEnd > c.capEnd) return short(c, hdrEnd, end, P_SLL_SHORT, offset);
  packet.direction = sllDirection(u16(data, offset));
  return decodeVlanTags(data, hdrEnd, u16(data, offset + 14), end, level, c);
}
