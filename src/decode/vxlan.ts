/**
 * VXLAN (RFC 7348), on UDP 4789 and on 8472 (Linux's historical default).
 *
 *   0                   1                   2                   3
 *   0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 *  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *  |R|R|R|R|I|R|R|R|            Reserved                           |
 *  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *  |                VXLAN Network Identifier (VNI) |   Reserved    |
 *  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *  |                 Inner Ethernet frame ...                      |
 *
 * The I flag must be set (a receiver drops the packet otherwise): clear -> MALFORMED.
 */
import { announceNext, type Cursor, fail, short, u24 } from './common.js';
import { decodeEthernet } from './ethernet.js';
import { Carrier, DecodeStatus, type Level, type Packet } from './packet.js';

const P_VXLAN_SHORT = 'vxlan: header incomplete';
const P_VXLAN_I = 'vxlan: I flag clear';

export const VXLAN_HEADER_LENGTH = 8;

export function decodeVxlan(
  data: Uint8Array,
  offset: number,
  end: number,
  _packet: Packet,
  level: Level,
  c: Cursor,
): number {
  const hdrEnd = offset + VXLAN_HEADER_LENGTH;
  if (hdrEnd > end || hdrEnd > c.capEnd) return short(c, hdrEnd, end, P_VXLAN_SHORT, offset);
  if (((data[offset] as number) & 0x08) === 0) return fail(c, DecodeStatus.MALFORMED, P_VXLAN_I, offset);
  return announceNext(
    c,
    Carrier.VXLAN,
    offset,
    VXLAN_HEADER_LENGTH,
    decodeEthernet,
    0,
    end,
    u24(data, offset + 4),
    0,
    level.dstPort,
  );
}
