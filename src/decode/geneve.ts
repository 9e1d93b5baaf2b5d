/**
 * Geneve (RFC 8926), on UDP 6081.
 *
 *   0                   1                   2                   3
 *   0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 *  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *  |Ver|  Opt Len  |O|C|    Rsvd.  |          Protocol Type        |
 *  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *  |        Virtual Network Identifier (VNI)       |    Reserved   |
 *  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *  |                    Variable-Length Options                    |
 *  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * Each option:
 *  |          Option Class         |      Type     |R|R|R| Length  |
 *  |                 Variable-Length Option Data (Length*4 bytes)  |
 *
 * Opt Len counts 4-byte words. Protocol 0x6558: inner Ethernet; 0x0800/0x86dd: inner IP.
 * Version other than 0: UNSUPPORTED. Other protocol types: the level ends there (OK).
 */
import { announceNext, type Cursor, EtherType, fail, short, u16, u24 } from './common.js';
import { decodeEthernet } from './ethernet.js';
import { Carrier, DecodeStatus, type Level, type Packet } from './packet.js';

const P_GENEVE_SHORT = 'geneve: header incomplete';
const P_GENEVE_VERSION = 'geneve: unknown version';
const P_GENEVE_OPT = 'geneve: option overruns the option length';

/**
 * The offset of the first option in data[from, end) whose 4-byte header or length runs past `end`,
 * or -1 when the options fill it exactly. The caller has the bytes up to `end` captured.
 */
export function badGeneveOption(data: Uint8Array, from: number, end: number): number {
  let p = from;
  while (p < end) {
    if (p + 4 > end) return p;
    const next = p + 4 + ((data[p + 3] as number) & 0x1f) * 4;
    if (next > end) return p;
    p = next;
  }
  return -1;
}

export function decodeGeneve(
  data: Uint8Array,
  offset: number,
  end: number,
  _packet: Packet,
  level: Level,
  c: Cursor,
): number {
  if (offset + 8 > end || offset + 8 > c.capEnd) return short(c, offset + 8, end, P_GENEVE_SHORT, offset);
  const b0 = data[offset] as number;
  if (b0 >> 6 !== 0) return fail(c, DecodeStatus.UNSUPPORTED, P_GENEVE_VERSION, offset);
  const optLen = (b0 & 0x3f) * 4;
  const hdrEnd = offset + 8 + optLen;
  if (hdrEnd > end || hdrEnd > c.capEnd) return short(c, hdrEnd, end, P_GENEVE_SHORT, offset);
  const bad = badGeneveOption(data, offset + 8, hdrEnd);
  if (bad >= 0) return fail(c, DecodeStatus.MALFORMED, P_GENEVE_OPT, bad);
  const proto = u16(data, offset + 2);
  const link = proto === EtherType.TRANSPARENT_ETHERNET ? decodeEthernet : null;
  if (link === null && proto !== EtherType.IPV4 && proto !== EtherType.IPV6) return DecodeStatus.OK;
  return announceNext(
    c,
    Carrier.GENEVE,
    offset,
    hdrEnd - offset,
    link,
    proto,
    end,
    u24(data, offset + 4),
    optLen,
    level.dstPort,
  );
}
