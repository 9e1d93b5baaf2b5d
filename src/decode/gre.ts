/**
 * GRE (RFC 2784, key and sequence RFC 2890) and NVGRE (RFC 7637), IP protocol 47.
 *
 *   0                   1                   2                   3
 *   0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 *  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *  |C|R|K|S| Reserved0       | Ver |         Protocol Type         |
 *  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *  |      Checksum (optional)      |       Reserved1 (Optional)    |
 *  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *  |                         Key (optional)                        |
 *  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *  |                 Sequence Number (Optional)                    |
 *  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *
 * NVGRE: K set and protocol 0x6558; the key holds the 24-bit VSID and an 8-bit FlowID.
 * Protocol 0x6558 without a key: transparent Ethernet bridging (gretap), Carrier.GRE.
 * 0x0800/0x86dd: inner IP. Version != 0 (PPTP's enhanced GRE) and the R bit: UNSUPPORTED.
 * The GRE header is recorded as this level's transport (l4Offset, payload...); its optional
 * checksum is not copied into l4Checksum (it has no pseudo-header, unlike TCP/UDP).
 */
import { announceNext, type Cursor, EtherType, fail, short, u16, u32 } from './common.js';
import { decodeEthernet } from './ethernet.js';
import { Carrier, DecodeStatus, type Level, type Packet } from './packet.js';

const P_GRE_SHORT = 'gre: header incomplete';
const P_GRE_VERSION = 'gre: version or routing not supported';

export function decodeGre(
  data: Uint8Array,
  offset: number,
  end: number,
  _packet: Packet,
  level: Level,
  c: Cursor,
): number {
  if (offset + 4 > end || offset + 4 > c.capEnd) return short(c, offset + 4, end, P_GRE_SHORT, offset);
  const flags = u16(data, offset);
  if ((flags & 0x4007) !== 0) return fail(c, DecodeStatus.UNSUPPORTED, P_GRE_VERSION, offset);
  const hasKey = (flags & 0x2000) !== 0;
  let hl = 4;
  if ((flags & 0x8000) !== 0) hl += 4;
  const keyAt = offset + hl;
  if (hasKey) hl += 4;
  if ((flags & 0x1000) !== 0) hl += 4;
  const hdrEnd = offset + hl;
  if (hdrEnd > end || hdrEnd > c.capEnd) return short(c, hdrEnd, end, P_GRE_SHORT, offset);
  const proto = u16(data, offset + 2);
  level.payloadOffset = hdrEnd;
  level.payloadLength = level.l4Length - hl;
  const key = hasKey ? u32(data, keyAt) : -1;
  if (proto === EtherType.TRANSPARENT_ETHERNET) {
    // NVGRE: the key's upper 24 bits are the virtual subnet id.
    const carrier = hasKey ? Carrier.NVGRE : Carrier.GRE;
    return announceNext(c, carrier, offset, hl, decodeEthernet, 0, end, hasKey ? key >>> 8 : -1, 0, 0);
  }
  if (proto !== EtherType.IPV4 && proto !== EtherType.IPV6) return DecodeStatus.OK;
  return announceNext(c, Carrier.GRE, offset, hl, null, proto, end, key, 0, 0);
}
