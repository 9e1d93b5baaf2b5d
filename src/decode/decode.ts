/**
 * The driver: runs link -> network -> transport -> tunnel decoders from the registry, level by
 * level, into one reused Packet. Never throws on packet bytes, allocates nothing per frame.
 *
 *   level 0:  [link] -> IPv4/IPv6 -> TCP/UDP/ICMP/GRE -> (UDP port) VXLAN/Geneve
 *   level 1:  [inner Ethernet] -> IPv4/IPv6 -> ...        (or the IP packet an ICMP error quotes)
 *   ...       up to MAX_LEVELS, deeper: UNSUPPORTED "nesting too deep"
 *
 * Problems are recorded once (the first one) in packet.status/problem/problemOffset; what was
 * decoded before stays valid. Running into the end of a first fragment or of an ICMP quote is
 * not a problem, and neither is an ICMP quote cut (by the quote or the snap length) after its 8
 * transport bytes.
 */
import { type Cursor, createCursor, STOP, u16 } from './common.js';
import { decodeCommonDatagram, decodeCommonFrame } from './fast.js';
import {
  Carrier,
  type CarrierValue,
  DecodeStatus,
  type DecodeStatusValue,
  IpProto,
  type Level,
  MAX_LEVELS,
  type Packet,
  resetLevel,
} from './packet.js';
import { linkDecoders, lookup, networkDecoders, transportDecoders, udpPortDecoders } from './registry.js';

const P_LINK_UNSUPPORTED = 'link type not supported';
const P_TOO_DEEP = 'nesting too deep';
const P_BAD_OFFSET = 'offset outside the data';

const cursor: Cursor = createCursor();

function resetPacket(packet: Packet): void {
  packet.status = DecodeStatus.OK;
  packet.problem = null;
  packet.problemOffset = -1;
  packet.direction = 0;
  packet.ifIndex = -1;
  packet.etherType = 0;
  packet.levelCount = 0;
  packet.serial++;
}

function commit(packet: Packet, status: number, c: Cursor): void {
  if (status === DecodeStatus.OK || status === STOP) return;
  if (packet.status !== DecodeStatus.OK) return;
  packet.status = status as DecodeStatusValue;
  packet.problem = c.problem;
  packet.problemOffset = c.problemOffset;
}

/** Decodes one captured frame of the given LINKTYPE into `packet` (refilled from scratch). */
export function decodeFrame(
  linkType: number,
  data: Uint8Array,
  capturedLength: number,
  originalLength: number,
  packet: Packet,
): void {
  decodeFrameAt(linkType, data, 0, capturedLength, originalLength, packet);
}

/**
 * Decodes the frame at data[start, start + capturedLength) (the reader's chunk, read in place):
 * every offset the packet reports indexes `data`, and packet.capturedEnd is start + the captured bytes.
 * Frames of the commonest shapes take the fast path (fast.ts): the same result, sooner.
 */
export function decodeFrameAt(
  linkType: number,
  data: Uint8Array,
  start: number,
  capturedLength: number,
  originalLength: number,
  packet: Packet,
): void {
  if (decodeCommonFrame(linkType, data, start, capturedLength, originalLength, packet)) return;
  decodeFrameByLayersAt(linkType, data, start, capturedLength, originalLength, packet);
}

/** decodeFrameAt without the fast path: the driver, layer by layer (what fast.ts is held to). */
export function decodeFrameByLayersAt(
  linkType: number,
  data: Uint8Array,
  start: number,
  capturedLength: number,
  originalLength: number,
  packet: Packet,
): void {
  resetPacket(packet);
  const room = Math.max(0, data.length - start);
  const cap = capturedLength < room ? Math.max(capturedLength, 0) : room;
  packet.linkType = linkType;
  packet.capturedLength = cap;
  packet.capturedEnd = start + cap;
  packet.originalLength = originalLength;
  const c = cursor;
  c.capEnd = start + cap;
  c.wireEnd = start + Math.max(originalLength, cap);
  c.softEnd = -1;
  const link = lookup(linkDecoders, linkType);
  if (link === undefined) {
    packet.status = DecodeStatus.UNSUPPORTED;
    packet.problem = P_LINK_UNSUPPORTED;
    packet.problemOffset = start;
    return;
  }
  const level = packet.levels[0] as Level;
  resetLevel(level);
  const st = link(data, start, c.wireEnd, packet, level, c);
  packet.etherType = level.etherType;
  if (st !== DecodeStatus.OK) {
    commit(packet, st, c);
    return;
  }
  decodeLevels(data, packet, 0, c.nextOffset, c.wireEnd, c);
}

/**
 * Appends one level decoded from the IP header at `offset` of `data` (e.g. a datagram rebuilt
 * from fragments). Bytes up to `end` are present; when the datagram's length field says it was
 * longer (a prefix rebuilt from snap-cut fragments), headers past `end` are TRUNCATED, not
 * MALFORMED. Offsets of that level index `data`; decoding starts with no fragment/quote context.
 */
export function decodeIpAt(
  data: Uint8Array,
  offset: number,
  end: number,
  packet: Packet,
  carrier: CarrierValue,
): void {
  // A datagram rebuilt from fragments of a tunnel packet has the fast path's shapes too.
  if (decodeCommonDatagram(data, offset, end, packet, carrier)) return;
  decodeIpByLayersAt(data, offset, end, packet, carrier);
}

/** decodeIpAt without the fast path: the driver, layer by layer (what fast.ts is held to). */
export function decodeIpByLayersAt(
  data: Uint8Array,
  offset: number,
  end: number,
  packet: Packet,
  carrier: CarrierValue,
): void {
  const c = cursor;
  // Another datagram's levels: what was derived from the packet before no longer holds.
  packet.serial++;
  const e = Math.min(end, data.length);
  c.capEnd = e;
  // The datagram's own length says how long it was: a prefix rebuilt from snap-cut fragments
  // then reads as TRUNCATED past `end`, while lengths that lie inside it stay MALFORMED.
  let declared = 0;
  if (offset >= 0 && offset + 6 <= e) {
    declared = (data[offset] as number) >> 4 === 6 ? 40 + u16(data, offset + 4) : u16(data, offset + 2);
  }
  c.wireEnd = Math.max(e, offset + declared);
  c.softEnd = -1;
  const i = packet.levelCount;
  if (i >= MAX_LEVELS) {
    if (packet.status === DecodeStatus.OK) {
      packet.status = DecodeStatus.UNSUPPORTED;
      packet.problem = P_TOO_DEEP;
      packet.problemOffset = offset;
    }
    return;
  }
  const level = packet.levels[i] as Level;
  resetLevel(level);
  level.carrier = carrier;
  packet.levelCount = i + 1;
  if (offset < 0 || offset >= e) {
    c.problem = P_BAD_OFFSET;
    c.problemOffset = offset;
    commit(packet, DecodeStatus.MALFORMED, c);
    return;
  }
  const v = (data[offset] as number) >> 4;
  level.etherType = v === 6 ? 0x86dd : 0x0800;
  decodeLevels(data, packet, i, offset, c.wireEnd, c);
}

/** Decodes level `i` (link already done: level.etherType set, network header at `offset`) and below. */
function decodeLevels(
  data: Uint8Array,
  packet: Packet,
  first: number,
  offset: number,
  end: number,
  c: Cursor,
): void {
  let i = first;
  let off = offset;
  let lEnd = end;
  for (;;) {
    const level = packet.levels[i] as Level;
    const net = lookup(networkDecoders, level.etherType);
    if (net === undefined) {
      // Not IP: level 0 of such a frame counts no level; an inner one keeps its carrier facts.
      if (i > 0 && packet.levelCount < i + 1) packet.levelCount = i + 1;
      return;
    }
    packet.levelCount = i + 1;
    let st = net(data, off, lEnd, packet, level, c);
    if (st !== DecodeStatus.OK) {
      commit(packet, st, c);
      return;
    }
    if (level.l4Offset < 0) return;
    const tr = lookup(transportDecoders, level.protocol);
    if (tr === undefined) {
      level.l4Offset = -1;
      return;
    }
    c.hasNext = false;
    const tEnd = c.transportEnd;
    st = tr(data, level.l4Offset, tEnd, packet, level, c);
    if (st !== DecodeStatus.OK) {
      // An ICMP quote cut after the 8 transport bytes it must carry is what ICMP promises.
      if (st === DecodeStatus.TRUNCATED && level.carrier === Carrier.ICMP_QUOTE) {
        const avail = Math.min(tEnd, c.capEnd) - level.l4Offset;
        if (avail >= 8) return;
      }
      commit(packet, st, c);
      return;
    }
    if (level.protocol === IpProto.UDP && !c.hasNext) {
      const tun = lookup(udpPortDecoders, level.dstPort);
      if (tun !== undefined) {
        st = tun(data, level.payloadOffset, c.transportEnd, packet, level, c);
        if (st !== DecodeStatus.OK) {
          commit(packet, st, c);
          return;
        }
      }
    }
    if (!c.hasNext) return;
    if (i + 1 >= MAX_LEVELS) {
      c.problem = P_TOO_DEEP;
      c.problemOffset = c.carrierOffset;
      commit(packet, DecodeStatus.UNSUPPORTED, c);
      return;
    }
    i++;
    const inner = packet.levels[i] as Level;
    resetLevel(inner);
    inner.carrier = c.carrier as CarrierValue;
    inner.carrierOffset = c.carrierOffset;
    inner.carrierLength = c.carrierLength;
    inner.vni = c.vni;
    inner.geneveOptionsLength = c.geneveOptionsLength;
    inner.tunnelPort = c.tunnelPort;
    packet.levelCount = i + 1;
    lEnd = c.nextEnd;
    off = c.nextOffset;
    if (c.carrier === Carrier.ICMP_QUOTE && (c.softEnd < 0 || lEnd < c.softEnd)) c.softEnd = lEnd;
    const link = c.nextLink;
    if (link !== null) {
      st = link(data, off, lEnd, packet, inner, c);
      if (st !== DecodeStatus.OK) {
        commit(packet, st, c);
        return;
      }
      off = c.nextOffset;
    } else inner.etherType = c.nextEtherType;
  }
}
