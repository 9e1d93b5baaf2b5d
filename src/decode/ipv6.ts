/**
 * IPv6 (RFC 8200) and the extension headers before the upper layer.
 *
 *   0                   1                   2                   3
 *   0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 *  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *  |Version| Traffic Class |           Flow Label                  |
 *  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *  |         Payload Length        |  Next Header  |   Hop Limit   |
 *  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *  |                 Source Address (16 bytes)                     |
 *  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *  |              Destination Address (16 bytes)                   |
 *  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *
 * Hop-by-hop (0), routing (43), destination options (60): Next Header, Hdr Ext Len in 8-byte
 * units not counting the first 8. AH (51, RFC 4302): length in 4-byte units minus 2.
 * Fragment (44, RFC 8200 4.5):
 *  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *  |  Next Header  |   Reserved    |      Fragment Offset    |Res|M|
 *  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *  |                         Identification                        |
 *  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * Jumbo payload option (RFC 2675) in hop-by-hop: type 0xC2, length 4, 32-bit length; the fixed
 * header's payload length is then 0 (BIG TCP). ESP (50) and No Next Header (59) end the walk.
 * A payload length of 0 with TCP or UDP (BIG TCP, bare or through a VXLAN/Geneve tunnel) and no
 * jumbo option (the option already stripped) is treated like IPv4's total length 0: the length is
 * derived from the enclosing bytes. A jumbogram may carry UDP too (RFC 2675 4: UDP length 0).
 */
import { type Cursor, fail, short, u16, u32 } from './common.js';
import { DecodeStatus, IpProto, type Level, type Packet } from './packet.js';

const P_V6_SHORT = 'ipv6: header incomplete';
const P_V6_VERSION = 'ipv6: version is not 6';
const P_V6_EXT_SHORT = 'ipv6: extension header incomplete';
const P_V6_HBH_OPT = 'ipv6: hop-by-hop option overruns its header';
const P_V6_JUMBO = 'ipv6: jumbo option with a non-zero payload length';
const P_V6_JUMBO_SMALL = 'ipv6: jumbo length shorter than the extension headers';
const P_V6_ZERO = 'ipv6: payload length 0 without a jumbo option';
const P_V6_BEYOND = 'ipv6: payload length exceeds the enclosing length';

export function decodeIpv6(
  data: Uint8Array,
  offset: number,
  end: number,
  _packet: Packet,
  level: Level,
  c: Cursor,
): number {
  if (offset + 40 > end || offset + 40 > c.capEnd) return short(c, offset + 40, end, P_V6_SHORT, offset);
  if ((data[offset] as number) >> 4 !== 6) return fail(c, DecodeStatus.MALFORMED, P_V6_VERSION, offset);
  level.ipVersion = 6;
  level.ipOffset = offset;
  level.ttl = data[offset + 7] as number;
  level.srcOffset = offset + 8;
  level.dstOffset = offset + 24;
  const plen = u16(data, offset + 4);
  // Walk limit: the declared payload, or (payload length 0) whatever the enclosing layer gives.
  let limit = plen === 0 ? end : offset + 40 + plen;
  let soft = false;
  if (limit > end) {
    if (end !== c.softEnd) return fail(c, DecodeStatus.MALFORMED, P_V6_BEYOND, offset + 4);
    limit = end;
    soft = true;
  }
  let nh = data[offset + 6] as number;
  let p = offset + 40;
  let jumbo = -1;
  let nonFirstFragment = false;
  for (;;) {
    if (nh === IpProto.HOPOPT || nh === IpProto.IPV6_ROUTE || nh === IpProto.IPV6_OPTS) {
      if (p + 2 > limit || p + 2 > c.capEnd) return short(c, p + 2, limit, P_V6_EXT_SHORT, p);
      const len = ((data[p + 1] as number) + 1) * 8;
      if (p + len > limit || p + len > c.capEnd) return short(c, p + len, limit, P_V6_EXT_SHORT, p);
      if (nh === IpProto.HOPOPT) {
        let q = p + 2;
        const qEnd = p + len;
        while (q < qEnd) {
          const t = data[q] as number;
          if (t === 0) {
            q++;
            continue;
          }
          if (q + 2 > qEnd) return fail(c, DecodeStatus.MALFORMED, P_V6_HBH_OPT, q);
          const olen = data[q + 1] as number;
          if (q + 2 + olen > qEnd) return fail(c, DecodeStatus.MALFORMED, P_V6_HBH_OPT, q);
          if (t === 0xc2 && olen === 4) jumbo = u32(data, q + 2);
          q += 2 + olen;
        }
      }
      nh = data[p] as number;
      p += len;
    } else if (nh === IpProto.IPV6_FRAG) {
      if (p + 8 > limit || p + 8 > c.capEnd) return short(c, p + 8, limit, P_V6_EXT_SHORT, p);
      const fo = u16(data, p + 2);
      level.ipv6FragmentHeaderOffset = p;
      level.isFragment = true;
      level.fragmentOffset = fo & 0xfff8;
      level.moreFragments = (fo & 1) !== 0;
      level.ipId = u32(data, p + 4);
      nh = data[p] as number;
      p += 8;
      if (level.fragmentOffset !== 0) {
        nonFirstFragment = true;
        break;
      }
    } else if (nh === IpProto.AH) {
      if (p + 2 > limit || p + 2 > c.capEnd) return short(c, p + 2, limit, P_V6_EXT_SHORT, p);
      const len = ((data[p + 1] as number) + 2) * 4;
      if (p + len > limit || p + len > c.capEnd) return short(c, p + len, limit, P_V6_EXT_SHORT, p);
      nh = data[p] as number;
      p += len;
    } else break;
  }
  level.protocol = nh;
  level.ipHeaderLength = p - offset;
  let total: number;
  if (jumbo >= 0) {
    if (plen !== 0) return fail(c, DecodeStatus.MALFORMED, P_V6_JUMBO, offset + 4);
    level.bigTcp = true;
    total = 40 + jumbo;
    if (total < level.ipHeaderLength) return fail(c, DecodeStatus.MALFORMED, P_V6_JUMBO_SMALL, offset + 40);
    if (offset + total > end) {
      if (end !== c.softEnd) return fail(c, DecodeStatus.MALFORMED, P_V6_BEYOND, offset + 4);
      soft = true;
    }
  } else if (plen === 0) {
    if (nh === IpProto.TCP || nh === IpProto.UDP) {
      level.bigTcp = true;
      total = end - offset;
    } else if (p === offset + 40) {
      total = 40;
    } else return fail(c, DecodeStatus.MALFORMED, P_V6_ZERO, offset + 4);
  } else total = 40 + plen;
  level.ipTotalLength = total;
  const dEnd = soft ? end : offset + total;
  level.l4Length = total - level.ipHeaderLength;
  c.transportEnd = dEnd;
  if (nonFirstFragment || nh === IpProto.ESP || nh === IpProto.IPV6_NONXT) return DecodeStatus.OK;
  if (level.moreFragments && (c.softEnd < 0 || dEnd < c.softEnd)) c.softEnd = dEnd;
  level.l4Offset = p;
  return DecodeStatus.OK;
}
