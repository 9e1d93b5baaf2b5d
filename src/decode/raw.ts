/**
 * Raw IP link types: LINKTYPE_RAW (101, version nibble tells IPv4 from IPv6), LINKTYPE_IPV4
 * (228) and LINKTYPE_IPV6 (229). No link header: the IP header starts at the first byte.
 *
 *   0 1 2 3 4 5 6 7
 *  +-+-+-+-+-+-+-+-+
 *  |Version|  ...  |   first byte of the IPv4 or IPv6 header
 *  +-+-+-+-+-+-+-+-+
 */
import { type Cursor, EtherType, fail, short } from './common.js';
import { DecodeStatus, type Level, type Packet } from './packet.js';

const P_RAW_EMPTY = 'raw: empty frame';
const P_RAW_VERSION = 'raw: IP version is neither 4 nor 6';

/** No link header: the network layer `etherType` starts at `offset`. */
function ipStartsAt(offset: number, etherType: number, level: Level, c: Cursor): number {
  level.etherType = etherType;
  c.nextOffset = offset;
  return DecodeStatus.OK;
}

export function decodeRaw(
  data: Uint8Array,
  offset: number,
  end: number,
  _packet: Packet,
  level: Level,
  c: Cursor,
): number {
  if (offset + 1 > end || offset + 1 > c.capEnd) return short(c, offset + 1, end, P_RAW_EMPTY, offset);
  const v = (data[offset] as number) >> 4;
  if (v === 4) return ipStartsAt(offset, EtherType.IPV4, level, c);
  if (v === 6) return ipStartsAt(offset, EtherType.IPV6, level, c);
  return fail(c, DecodeStatus.MALFORMED, P_RAW_VERSION, offset);
}

export function decodeRawIpv4(
  _data: Uint8Array,
  offset: number,
  _end: number,
  _packet: Packet,
  level: Level,
  c: Cursor,
): number {
  return ipStartsAt(offset, EtherType.IPV4, level, c);
}

export function decodeRawIpv6(
  _data: Uint8Array,
  offset: number,
  _end: number,
  _packet: Packet,
  level: Level,
  c: Cursor,
): number {
  return ipStartsAt(offset, EtherType.IPV6, level, c);
}
