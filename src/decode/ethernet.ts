/**
 * Ethernet II (IEEE 802.3) with stacked 802.1Q / 802.1ad VLAN tags.
 *
 *   0                   1                   2                   3
 *   0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 *  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *  |                  Destination MAC (6 bytes)                    |
 *  +                               +-------------------------------+
 *  |                               |                               |
 *  +-------------------------------+                               +
 *  |                    Source MAC (6 bytes)                       |
 *  +-------------------------------+-------------------------------+
 *  |   EtherType / TPID            |  (802.1Q tag: PCP|DEI|VID)    |  <- repeated per tag
 *  +-------------------------------+-------------------------------+
 *  |   EtherType of the payload    |
 *  +-------------------------------+
 *
 * TPIDs 0x8100 (802.1Q), 0x88a8 (802.1ad S-tag) and 0x9100 (old Q-in-Q) may be stacked.
 * An EtherType <= 1500 is an 802.3 length (LLC follows): not IP, etherType stays 0.
 */
import { type Cursor, EtherType, short, u16 } from './common.js';
import { DecodeStatus, type Level, type Packet } from './packet.js';

const P_ETH_SHORT = 'ethernet: header incomplete';
const P_VLAN_SHORT = 'ethernet: VLAN tag incomplete';

export const ETHERNET_HEADER_LENGTH = 14;

export function isVlanTpid(type: number): boolean {
  return type === EtherType.VLAN || type === EtherType.QINQ || type === EtherType.QINQ_OLD;
}

/**
 * Walks VLAN tags starting at `offset` (just after a TPID `type`); records them in `level`,
 * sets level.etherType and c.nextOffset. Shared with the Linux cooked headers.
 */
export function decodeVlanTags(
  data: Uint8Array,
  offset: number,
  type: number,
  end: number,
  level: Level,
  c: Cursor,
): number {
  let p = offset;
  let t = type;
  while (isVlanTpid(t)) {
    if (p + 4 > end || p + 4 > c.capEnd) return short(c, p + 4, end, P_VLAN_SHORT, p);
    const vid = u16(data, p) & 0x0fff;
    if (level.vlanCount === 0) level.vlanOuter = vid;
    else if (level.vlanCount === 1) level.vlanInner = vid;
    level.vlanCount++;
    t = u16(data, p + 2);
    p += 4;
  }
  level.etherType = t > 1500 ? t : 0;
  c.nextOffset = p;
  return DecodeStatus.OK;
}

export function decodeEthernet(
  data: Uint8Array,
  offset: number,
  end: number,
  _packet: Packet,
  level: Level,
  c: Cursor,
): number {
  const hdrEnd = offset + ETHERNET_HEADER_LENGTH;
  if (hdrEnd > end || hdrEnd > c.capEnd) return short(c, hdrEnd, end, P_ETH_SHORT, offset);
  level.ethOffset = offset;
  return decodeVlanTags(data, hdrEnd, u16(data, offset + 12), end, level, c);
}
