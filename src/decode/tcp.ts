/**
 * TCP (RFC 9293) and its common options (RFC 7323, RFC 2018).
 *
 *   0                   1                   2                   3
 *   0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 *  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *  |          Source Port          |       Destination Port        |
 *  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *  |                        Sequence Number                        |
 *  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *  |                    Acknowledgment Number                      |
 *  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *  |  Data |       |C|E|U|A|P|R|S|F|                               |
 *  | Offset| Rsrvd |W|C|R|C|S|S|Y|I|            Window             |
 *  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *  |           Checksum            |         Urgent Pointer        |
 *  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *  |                    Options                    |    Padding    |
 *  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *
 * Options: 0 EOL, 1 NOP, 2 MSS (len 4), 3 window scale (3), 4 SACK permitted (2), 5 SACK
 * (2 + 8n), 8 timestamps (10). An option whose length runs past the data offset lies
 * (MALFORMED, when that length byte was captured); options cut by the snap length: TRUNCATED.
 * Ports and sequence number are filled first, so an ICMP quote of 8 bytes still yields them.
 */
import { type Cursor, fail, short, stopAt, u16, u32 } from './common.js';
import { DecodeStatus, type Level, type Packet, resetTcp } from './packet.js';

const P_TCP_SHORT = 'tcp: header incomplete';
const P_TCP_DOFF = 'tcp: data offset below 5';
const P_TCP_OPT_SHORT = 'tcp: options incomplete';
const P_TCP_OPT_LEN = 'tcp: option length invalid';

/** A header of 20 bytes and Linux's 12 bytes of options: NOP, NOP, timestamps. */
export const TCP_TIMESTAMPS_HEADER = 32;

/**
 * Whether the options at data[p] start NOP, NOP, timestamps (kind 8, length 10): what Linux puts
 * on every segment after the handshake. The caller has the 12 bytes captured.
 */
export function linuxTimestampsAt(data: Uint8Array, p: number): boolean {
  return data[p] === 1 && data[p + 1] === 1 && data[p + 2] === 8 && data[p + 3] === 10;
}

export function decodeTcp(
  data: Uint8Array,
  offset: number,
  end: number,
  _packet: Packet,
  level: Level,
  c: Cursor,
): number {
  resetTcp(level);
  const stop = stopAt(c, end);
  if (offset + 4 <= stop) {
    level.srcPort = u16(data, offset);
    level.dstPort = u16(data, offset + 2);
    if (offset + 8 <= stop) level.tcpSeq = u32(data, offset + 4);
  }
  if (offset + 20 > stop) return short(c, offset + 20, end, P_TCP_SHORT, offset);
  level.tcpAck = u32(data, offset + 8);
  const doff = ((data[offset + 12] as number) >> 4) * 4;
  level.tcpFlags = u16(data, offset + 12) & 0x01ff;
  level.tcpWindow = u16(data, offset + 14);
  level.l4Checksum = u16(data, offset + 16);
  level.l4ChecksumOffset = offset + 16;
  level.tcpHeaderLength = doff;
  if (doff < 20) return fail(c, DecodeStatus.MALFORMED, P_TCP_DOFF, offset + 12);
  const hdrEnd = offset + doff;
  if (hdrEnd > end) return short(c, hdrEnd, end, P_TCP_SHORT, offset + 12);
  // Payload offset only when the header was captured whole (offsets never point past the data).
  if (hdrEnd <= c.capEnd) level.payloadOffset = hdrEnd;
  level.payloadLength = level.l4Length - doff;
  // Options, as far as they were captured.
  const optStop = Math.min(hdrEnd, stop);
  const p = offset + 20;
  if (doff === TCP_TIMESTAMPS_HEADER && optStop === hdrEnd && linuxTimestampsAt(data, p)) {
    // NOP, NOP, timestamps: what Linux puts on every segment after the handshake. The same result
    // as readTcpOptions, without its loop.
    level.tcpHasTimestamps = true;
    level.tcpTsVal = u32(data, p + 4);
    level.tcpTsEcr = u32(data, p + 8);
    return DecodeStatus.OK;
  }
  const read = readTcpOptions(data, p, optStop, hdrEnd, level);
  if (read === OPTIONS_READ) return DecodeStatus.OK;
  if (read >= 0) return fail(c, DecodeStatus.MALFORMED, P_TCP_OPT_LEN, read);
  return short(c, hdrEnd, end, P_TCP_OPT_SHORT, optionsCutAt(read));
}

/** readTcpOptions read the options to their end (or to their end-of-list option). */
export const OPTIONS_READ = -1;

/** Where the capture cut the options, from what readTcpOptions returned for it (below OPTIONS_READ). */
function optionsCutAt(read: number): number {
  return -2 - read;
}

/**
 * The TCP options from `p` to the header's end (`hdrEnd`), as far as they were captured (`optStop`),
 * into `level` (whose option fields hold their empty values). Returns OPTIONS_READ, or where reading
 * stopped: the offset (>= 0) of a malformed option, or -2 - offset where the capture cut them. One
 * reader for the layer-by-layer decoder and the fast path (fast.ts), which takes only options read whole.
 */
export function readTcpOptions(
  data: Uint8Array,
  p: number,
  optStop: number,
  hdrEnd: number,
  level: Level,
): number {
  while (p < optStop) {
    const kind = data[p] as number;
    if (kind === 0) return OPTIONS_READ;
    if (kind === 1) {
      p++;
      continue;
    }
    if (p + 1 >= optStop) break; // length byte not captured (or beyond the header: checked below)
    const len = data[p + 1] as number;
    if (len < 2 || p + len > hdrEnd) return p;
    if (p + len > optStop) break;
    if (kind === 2) {
      if (len !== 4) return p;
      level.tcpMss = u16(data, p + 2);
    } else if (kind === 3) {
      if (len !== 3) return p;
      level.tcpWindowScale = data[p + 2] as number;
    } else if (kind === 4) {
      if (len !== 2) return p;
      level.tcpSackPermitted = true;
    } else if (kind === 5) {
      if ((len - 2) % 8 !== 0 || len === 2) return p;
      level.tcpSackBlocks = (len - 2) / 8;
    } else if (kind === 8) {
      if (len !== 10) return p;
      level.tcpHasTimestamps = true;
      level.tcpTsVal = u32(data, p + 2);
      level.tcpTsEcr = u32(data, p + 6);
    }
    p += len;
  }
  if (p < hdrEnd) {
    // Stopped at the captured end inside the options; a lone byte left in a whole header is an
    // option without its length.
    if (p + 1 === hdrEnd && optStop === hdrEnd) return p;
    return -2 - p;
  }
  return OPTIONS_READ;
}
