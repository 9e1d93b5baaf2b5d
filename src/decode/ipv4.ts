/**
 * IPv4 (RFC 791).
 *
 *   0                   1                   2                   3
 *   0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 *  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *  |Version|  IHL  |Type of Service|          Total Length         |
 *  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *  |         Identification        |Flags|      Fragment Offset    |
 *  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *  |  Time to Live |    Protocol   |         Header Checksum       |
 *  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *  |                       Source Address                          |
 *  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *  |                    Destination Address                        |
 *  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *  |                    Options                    |    Padding    |
 *  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *
 * Flags: bit 1 DF, bit 2 MF. Options are skipped by IHL. A total length of 0 with TCP is a
 * BIG TCP / TSO super-frame (as gopacket's ip4.go treats it), and so is one with UDP (BIG TCP
 * through a VXLAN or Geneve tunnel): the length is derived from the bytes the enclosing layer
 * declares (the frame's original length at level 0).
 */
import { type Cursor, fail, short, u16 } from './common.js';
import { DecodeStatus, IpProto, type Level, type Packet } from './packet.js';

const P_V4_SHORT = 'ipv4: header incomplete';
const P_V4_VERSION = 'ipv4: version is not 4';
const P_V4_IHL = 'ipv4: IHL below 5';
const P_V4_TOTAL = 'ipv4: total length shorter than the header';
const P_V4_BEYOND = 'ipv4: total length exceeds the enclosing length';

export function decodeIpv4(
  data: Uint8Array,
  offset: number,
  end: number,
  _packet: Packet,
  level: Level,
  c: Cursor,
): number {
  if (offset + 20 > end || offset + 20 > c.capEnd) return short(c, offset + 20, end, P_V4_SHORT, offset);
  const b0 = data[offset] as number;
  if (b0 >> 4 !== 4) return fail(c, DecodeStatus.MALFORMED, P_V4_VERSION, offset);
  const hl = (b0 & 0x0f) * 4;
  if (hl < 20) return fail(c, DecodeStatus.MALFORMED, P_V4_IHL, offset);
  level.ipVersion = 4;
  level.ipOffset = offset;
  level.ipHeaderLength = hl;
  let total = u16(data, offset + 2);
  const frag = u16(data, offset + 6);
  level.ipId = u16(data, offset + 4);
  level.dontFragment = (frag & 0x4000) !== 0;
  level.moreFragments = (frag & 0x2000) !== 0;
  level.fragmentOffset = (frag & 0x1fff) * 8;
  level.isFragment = level.moreFragments || level.fragmentOffset !== 0;
  level.ttl = data[offset + 8] as number;
  const proto = data[offset + 9] as number;
  level.protocol = proto;
  level.ipChecksum = u16(data, offset + 10);
  level.srcOffset = offset + 12;
  level.dstOffset = offset + 16;
  if (total === 0 && (proto === IpProto.TCP || proto === IpProto.UDP) && !level.isFragment) {
    level.bigTcp = true;
    total = end - offset;
  }
  level.ipTotalLength = total;
  if (total < hl) return fail(c, DecodeStatus.MALFORMED, P_V4_TOTAL, offset + 2);
  let dEnd = offset + total;
  if (dEnd > end) {
    if (end !== c.softEnd) return fail(c, DecodeStatus.MALFORMED, P_V4_BEYOND, offset + 2);
    dEnd = end;
  }
  const hdrEnd = offset + hl;
  if (hdrEnd > c.capEnd) return short(c, hdrEnd, dEnd, P_V4_SHORT, offset);
  level.l4Length = total - hl;
  c.transportEnd = dEnd;
  if (level.fragmentOffset !== 0) return DecodeStatus.OK; // no transport header in here
  if (level.moreFragments && (c.softEnd < 0 || dEnd < c.softEnd)) c.softEnd = dEnd;
  level.l4Offset = hdrEnd;
  return DecodeStatus.OK;
}
