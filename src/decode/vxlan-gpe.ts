/**
 * VXLAN-GPE (draft-ietf-nvo3-vxlan-gpe), on UDP 4790.
 *
 *   0                   1                   2                   3
 *   0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 *  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *  |R|R|Ver|I|P|B|O|       Reserved                |Next Protocol  |
 *  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *  |                VXLAN Network Identifier (VNI) |   Reserved    |
 *  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *
 * P flag set: Next Protocol says what follows (1 IPv4, 2 IPv6, 3 Ethernet, 4 NSH, 5 MPLS); P
 * clear: Ethernet, as in plain VXLAN. Version other than 0: UNSUPPORTED. NSH, MPLS and unknown
 * next protocols end the level (OK: not decoded, not wrong).
 */
import { announceNext, type Cursor, EtherType, fail, short, u24 } from './common.js';
import { decodeEthernet } from './ethernet.js';
import { Carrier, DecodeStatus, type Level, type Packet } from './packet.js';

const P_GPE_SHORT = 'vxlan-gpe: header incomplete';
const P_GPE_VERSION = 'vxlan-gpe: unknown version';

export const VXLAN_GPE_HEADER_LENGTH = 8;

/** VXLAN-GPE Next Protocol values. */
export const GpeNext = { IPV4: 1, IPV6: 2, ETHERNET: 3, NSH: 4, MPLS: 5 } as const;

export function decodeVxlanGpe(
  data: Uint8Array,
  offset: number,
  end: number,
  _packet: Packet,
  level: Level,
  c: Cursor,
): number {
  const hdrEnd = offset + VXLAN_GPE_HEADER_LENGTH;
  if (hdrEnd > end || hdrEnd > c.capEnd) return short(c, hdrEnd, end, P_GPE_SHORT, offset);
  const flags = data[offset] as number;
  if ((flags & 0x30) !== 0) return fail(c, DecodeStatus.UNSUPPORTED, P_GPE_VERSION, offset);
  const next = (flags & 0x04) !== 0 ? (data[offset + 3] as number) : GpeNext.ETHERNET;
  let etherType = 0;
  if (next === GpeNext.IPV4) etherType = EtherType.IPV4;
  else if (next === GpeNext.IPV6) etherType = EtherType.IPV6;
  else if (next !== GpeNext.ETHERNET) return DecodeStatus.OK;
  return announceNext(
    c,
    Carrier.VXLAN_GPE,
    offset,
    VXLAN_GPE_HEADER_LENGTH,
    next === GpeNext.ETHERNET ? decodeEthernet : null,
    etherType,
    end,
    u24(data, offset + 4),
    0,
    level.dstPort,
  );
}
