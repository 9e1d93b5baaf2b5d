/**
 * The fast path: the frames most captures on a hypervisor are made of, decoded in one pass.
 *
 *   link / IP / TCP or UDP
 *   link / IP / UDP / VXLAN or Geneve / Ethernet / IP / TCP or UDP
 *   link / IPv4 fragment past the first
 *
 * where the link is Ethernet (untagged or VLAN-tagged, Q-in-Q too) or Linux cooked v2 (tcpdump -i
 * any), the Geneve header carries Ethernet (options walked and checked), IP is IPv4 with a 20-byte
 * header (a first fragment too: the headers in it may say the datagram is longer, as the driver
 * allows up to the fragment's end) or IPv6 without extension headers, TCP options are well formed
 * (Linux's NOP, NOP, timestamps on every segment taken without a loop), and every header is
 * captured whole and within the lengths around it. A datagram rebuilt from fragments (no link)
 * takes the same path from its IP header (decodeCommonDatagram).
 * Such a frame is decoded here into exactly the Packet the layer-by-layer driver (decode.ts) would
 * make, each field written once; any other frame, or anything unusual in one (a malformed TCP
 * option, a length that lies, a cut header), is declined and goes to the driver, which judges it.
 *
 * Why: the driver resets each level's 40-odd fields, then dispatches through the registry's
 * tables and the cursor, layer by layer. For the few shapes that make up nearly every frame of a
 * bulk transfer that is most of the decoding time, and most of the time before V8 has compiled
 * the hot path. test/decode/fast.test.ts holds this file to the driver's result, field by field,
 * on the lab's and the corpus' captures and on thousands of damaged variants of their frames.
 */
import { viewOf } from '../arrays.js';
import { u16, u24, u32 } from './common.js';
import { isVlanTpid } from './ethernet.js';
import { badGeneveOption, decodeGeneve } from './geneve.js';
import {
  Carrier,
  type CarrierValue,
  DecodeStatus,
  IpProto,
  type Level,
  noTransportHeader,
  type Packet,
} from './packet.js';
import { udpPortDecoders } from './registry.js';
import { sllDirection } from './sll.js';
import { SLL2_HEADER_LENGTH } from './sll2.js';
import { linuxTimestampsAt, OPTIONS_READ, readTcpOptions, TCP_TIMESTAMPS_HEADER } from './tcp.js';
import { decodeVxlan, VXLAN_HEADER_LENGTH } from './vxlan.js';

const LINKTYPE_ETHERNET = 1;
const LINKTYPE_LINUX_SLL2 = 276;
const ETHERNET_HEADER = 14;
const VLAN_TAG = 4;
const ETHERTYPE_TRANSPARENT_ETHERNET = 0x6558;
const GENEVE_HEADER = 8;
const IPV4_HEADER = 20;
const ETHERTYPE_IPV4 = 0x0800;
const ETHERTYPE_IPV6 = 0x86dd;
const IPV6_HEADER = 40;
/** Version 4, IHL 5: the first byte of an IPv4 header without options. */
const IPV4_NO_OPTIONS = 0x45;
/** IPv4 MF flag and fragment offset: either makes the packet a fragment. */
const FRAGMENT_OFFSET = 0x1fff;
const MORE_FRAGMENTS = 0x2000;
const TCP_HEADER = 20;

/**
 * Set by transportAt when a tunnel header follows the level's UDP header: where it starts (-1:
 * none), its carrier and length (Geneve: with options), and where the UDP datagram ends.
 */
let tunnelAt = -1;
let tunnelCarrier: CarrierValue = Carrier.NONE;
let tunnelLength = 0;
let tunnelOptions = 0;
let tunnelEnd = 0;
/**
 * The end of the first fragment the frame is (-1: none): the transport header and the tunnelled
 * frame in it say they are longer, which the driver allows up to there (its cursor's softEnd).
 */
let softEnd = -1;

/**
 * Decodes `packet` from the frame at data[start, start + capturedLength) when it has one of the
 * shapes above; false (the packet then half written) when the driver must decode it.
 */
export function decodeCommonFrame(
  linkType: number,
  data: Uint8Array,
  start: number,
  capturedLength: number,
  originalLength: number,
  packet: Packet,
): boolean {
  const room = data.length - start;
  if (room <= 0 || capturedLength <= 0) return false;
  const cap = Math.min(capturedLength, room);
  const capEnd = start + cap;
  const wireEnd = start + Math.max(originalLength, cap);
  let ip: number;
  let etherType = 0;
  let vlan = -1;
  let vlanInner = -1;
  let tags = 0;
  let direction: 0 | 1 | 2 = 0;
  let ifIndex = -1;
  if (linkType === LINKTYPE_ETHERNET) {
    ip = start + ETHERNET_HEADER;
    if (ip > capEnd) return false;
    let type = u16(data, ip - 2);
    // VLAN tags, one (802.1Q) or stacked (802.1ad Q-in-Q: a provider's S-tag over the tenant's
    // C-tag); the first two are recorded, as the driver does.
    while (isVlanTpid(type)) {
      ip += VLAN_TAG;
      if (ip > capEnd) return false;
      if (tags === 0) vlan = u16(data, ip - 4) & 0x0fff;
      else if (tags === 1) vlanInner = u16(data, ip - 4) & 0x0fff;
      tags++;
      type = u16(data, ip - 2);
    }
    if (type !== ETHERTYPE_IPV4 && type !== ETHERTYPE_IPV6) return false;
    etherType = type;
  } else if (linkType === LINKTYPE_LINUX_SLL2) {
    ip = start + SLL2_HEADER_LENGTH;
    if (ip > capEnd) return false;
    etherType = u16(data, start);
    if (etherType !== ETHERTYPE_IPV4 && etherType !== ETHERTYPE_IPV6) return false;
    ifIndex = u32(data, start + 4);
    direction = sllDirection(data[start + 10] as number);
  } else return false;
  const levels = levelsFromIp(data, ip, etherType, wireEnd, capEnd, packet);
  if (levels === 0) return false;
  outerLevelAt(
    packet.levels[0] as Level,
    Carrier.NONE,
    linkType === LINKTYPE_ETHERNET ? start : -1,
    tags,
    vlan,
    vlanInner,
    etherType,
  );

  packet.status = DecodeStatus.OK;
  packet.problem = null;
  packet.problemOffset = -1;
  packet.direction = direction;
  packet.ifIndex = ifIndex;
  packet.etherType = etherType;
  packet.levelCount = levels;
  packet.serial++;
  packet.linkType = linkType;
  packet.capturedLength = cap;
  packet.capturedEnd = capEnd;
  packet.originalLength = originalLength;
  return true;
}

/**
 * The levels from the IP header at `ip` down (the outer datagram, and the frame a tunnel carries
 * in it): how many were written into packet.levels, all but the outer level's carrier and link
 * fields, or 0 when the driver must decode the packet. `wireEnd`: the declared end of the bytes
 * around the datagram.
 */
function levelsFromIp(
  data: Uint8Array,
  ip: number,
  etherType: number,
  wireEnd: number,
  capEnd: number,
  packet: Packet,
): number {
  softEnd = -1;
  const outer = packet.levels[0] as Level;
  if (!transportAt(data, ip, etherType, wireEnd, capEnd, outer)) return 0;
  if (tunnelAt < 0) return 1;
  // The inner frame: Ethernet without tags, then IP within the outer datagram.
  const inner = packet.levels[1] as Level;
  const carrier = tunnelCarrier;
  const carrierOffset = tunnelAt;
  const carrierLength = tunnelLength;
  const options = tunnelOptions;
  const datagramEnd = tunnelEnd;
  const eth = carrierOffset + carrierLength;
  const innerIp = eth + ETHERNET_HEADER;
  if (innerIp > datagramEnd || innerIp > capEnd) return 0;
  const innerType = u16(data, innerIp - 2);
  if (innerType !== ETHERTYPE_IPV4 && innerType !== ETHERTYPE_IPV6) return 0;
  if (!transportAt(data, innerIp, innerType, datagramEnd, capEnd, inner) || tunnelAt >= 0) return 0;
  inner.carrier = carrier;
  inner.carrierOffset = carrierOffset;
  inner.carrierLength = carrierLength;
  inner.vni = u24(data, carrierOffset + 4);
  inner.geneveOptionsLength = options;
  inner.tunnelPort = outer.dstPort;
  inner.ethOffset = eth;
  inner.vlanCount = 0;
  inner.vlanOuter = -1;
  inner.vlanInner = -1;
  inner.etherType = innerType;
  return 2;
}

/**
 * The outer level's carrier and link fields, which levelsFromIp leaves to its callers: what
 * carried the datagram (nothing, or the reassembler) and the Ethernet header and VLAN tags before
 * it (-1 and 0 without them).
 */
function outerLevelAt(
  outer: Level,
  carrier: CarrierValue,
  ethOffset: number,
  vlanCount: number,
  vlanOuter: number,
  vlanInner: number,
  etherType: number,
): void {
  outer.carrier = carrier;
  outer.carrierOffset = -1;
  outer.carrierLength = 0;
  outer.vni = -1;
  outer.geneveOptionsLength = 0;
  outer.tunnelPort = 0;
  outer.ethOffset = ethOffset;
  outer.vlanCount = vlanCount;
  outer.vlanOuter = vlanOuter;
  outer.vlanInner = vlanInner;
  outer.etherType = etherType;
}

/**
 * The fast path for an IP datagram that is no captured frame: one rebuilt from fragments, which
 * decodeIpAt decodes as the packet's first level (`carrier` says where it came from). Writes what
 * decodeIpAt would (that level and the tunnelled one, the level count), not the packet's capture
 * fields, which are the caller's; false when the driver must decode it. data[offset, end) holds
 * the datagram's bytes; its own length field may say it was longer (a prefix rebuilt from
 * snap-cut fragments), and then the driver says what is missing.
 */
export function decodeCommonDatagram(
  data: Uint8Array,
  offset: number,
  end: number,
  packet: Packet,
  carrier: CarrierValue,
): boolean {
  if (packet.levelCount !== 0) return false;
  const capEnd = Math.min(end, data.length);
  if (offset < 0 || offset + 6 > capEnd) return false;
  const version = (data[offset] as number) >> 4;
  const etherType = version === 6 ? ETHERTYPE_IPV6 : ETHERTYPE_IPV4;
  const declared = version === 6 ? IPV6_HEADER + u16(data, offset + 4) : u16(data, offset + 2);
  const levels = levelsFromIp(data, offset, etherType, Math.max(capEnd, offset + declared), capEnd, packet);
  if (levels === 0) return false;
  outerLevelAt(packet.levels[0] as Level, carrier, -1, 0, -1, -1, etherType);
  packet.levelCount = levels;
  packet.serial++;
  return true;
}

/**
 * Whether a UDP datagram to `port`, its payload at data[at, datagramEnd), is one the fast path
 * takes: no tunnel's port, or VXLAN, or Geneve carrying Ethernet (VXLAN-GPE goes to the driver),
 * the tunnel header captured within the datagram, VXLAN's I flag set, Geneve's version 0 and its
 * options well formed. Sets the tunnel* variables for a tunnel.
 */
function tunnelAfter(
  data: Uint8Array,
  port: number,
  at: number,
  datagramEnd: number,
  capEnd: number,
): boolean {
  const tunnel = udpPortDecoders[port];
  if (tunnel === undefined) return true;
  const room = Math.min(datagramEnd, capEnd);
  if (tunnel === decodeVxlan) {
    if (at + VXLAN_HEADER_LENGTH > room || ((data[at] as number) & 0x08) === 0) return false;
    tunnelCarrier = Carrier.VXLAN;
    tunnelLength = VXLAN_HEADER_LENGTH;
    tunnelOptions = 0;
  } else if (tunnel === decodeGeneve) {
    if (at + GENEVE_HEADER > room) return false;
    const b0 = data[at] as number;
    const options = (b0 & 0x3f) * 4;
    const headerEnd = at + GENEVE_HEADER + options;
    if (b0 >> 6 !== 0 || headerEnd > room || badGeneveOption(data, at + GENEVE_HEADER, headerEnd) >= 0)
      return false;
    if (u16(data, at + 2) !== ETHERTYPE_TRANSPARENT_ETHERNET) return false;
    tunnelCarrier = Carrier.GENEVE;
    tunnelLength = GENEVE_HEADER + options;
    tunnelOptions = options;
  } else return false;
  tunnelAt = at;
  tunnelEnd = datagramEnd;
  return true;
}

/**
 * The IP header (`etherType`) at `ip` and its TCP or UDP header, into `level` (all but the carrier and link
 * fields). `end`: the declared end of the bytes around the datagram. Sets the tunnel* variables.
 */
function transportAt(
  data: Uint8Array,
  ip: number,
  etherType: number,
  end: number,
  capEnd: number,
  level: Level,
): boolean {
  tunnelAt = -1;
  let l4: number;
  let total: number;
  let protocol: number;
  let flags = 0;
  if (etherType === ETHERTYPE_IPV4) {
    l4 = ip + IPV4_HEADER;
    if (l4 > end || l4 > capEnd || data[ip] !== IPV4_NO_OPTIONS) return false;
    total = u16(data, ip + 2);
    flags = u16(data, ip + 6);
    // Total length 0 (BIG TCP) and anything shorter than the header go to the driver. A datagram
    // longer than the bytes around it is one only inside a first fragment (ends at softEnd).
    if (total < IPV4_HEADER || (ip + total > end && end !== softEnd)) return false;
    if ((flags & FRAGMENT_OFFSET) !== 0) return laterFragmentAt(data, ip, total, flags, level);
    protocol = data[ip + 9] as number;
  } else {
    l4 = ip + IPV6_HEADER;
    if (l4 > end || l4 > capEnd || (data[ip] as number) >> 4 !== 6) return false;
    // Payload length 0 (a jumbogram, BIG TCP) goes to the driver, as do extension headers (below:
    // the next header is then neither TCP nor UDP).
    const payload = u16(data, ip + 4);
    total = IPV6_HEADER + payload;
    protocol = data[ip + 6] as number;
    if (payload === 0 || ip + total > end) return false;
  }
  const datagramEnd = Math.min(ip + total, end);
  // A first fragment: what is inside it may say it is longer, up to the fragment's end (the driver's
  // soft end, which holds for every level inside it).
  if ((flags & MORE_FRAGMENTS) !== 0 && (softEnd < 0 || datagramEnd < softEnd)) softEnd = datagramEnd;
  const stop = Math.min(datagramEnd, capEnd);
  const l4Length = total - (l4 - ip);
  if (protocol === IpProto.TCP) {
    if (l4 + TCP_HEADER > stop) return false;
    const doff = ((data[l4 + 12] as number) >> 4) * 4;
    const headerEnd = l4 + doff;
    if (doff < TCP_HEADER || headerEnd > stop) return false;
    level.tcpMss = -1;
    level.tcpWindowScale = -1;
    level.tcpSackPermitted = false;
    level.tcpSackBlocks = 0;
    // The 32-bit fields through the chunk's DataView, not u32(): this function inlines more than
    // V8's inlining budget holds, and a u32 call left standing returns a value of 2^31 or more (half
    // the sequence numbers, most timestamps) as a new heap number: one per frame, most of what the
    // whole run allocated (15 MB of 18 MB per million frames) and so most of its garbage
    // collections. A DataView read is no call for V8 to inline, and allocates nothing.
    const view = viewOf(data);
    if (doff === TCP_TIMESTAMPS_HEADER && linuxTimestampsAt(data, l4 + TCP_HEADER)) {
      level.tcpHasTimestamps = true;
      level.tcpTsVal = view.getUint32(l4 + 24);
      level.tcpTsEcr = view.getUint32(l4 + 28);
    } else {
      // Other options (a handshake's MSS and window scale, SACK blocks after a loss): read whole, or
      // the frame goes to the driver, which says what is wrong with them.
      level.tcpHasTimestamps = false;
      level.tcpTsVal = 0;
      level.tcpTsEcr = 0;
      if (
        doff > TCP_HEADER &&
        readTcpOptions(data, l4 + TCP_HEADER, headerEnd, headerEnd, level) !== OPTIONS_READ
      )
        return false;
    }
    level.srcPort = u16(data, l4);
    level.dstPort = u16(data, l4 + 2);
    level.l4Checksum = u16(data, l4 + 16);
    level.l4ChecksumOffset = l4 + 16;
    level.payloadOffset = headerEnd;
    level.payloadLength = l4Length - doff;
    level.tcpSeq = view.getUint32(l4 + 4);
    level.tcpAck = view.getUint32(l4 + 8);
    level.tcpFlags = u16(data, l4 + 12) & 0x01ff;
    level.tcpHeaderLength = doff;
    level.tcpWindow = u16(data, l4 + 14);
    level.udpLength = 0;
  } else if (protocol === IpProto.UDP) {
    if (l4 + 8 > stop) return false;
    const length = u16(data, l4 + 4);
    if (length < 8) return false;
    let udpEnd = l4 + length;
    if (length > l4Length || udpEnd > datagramEnd) {
      if (datagramEnd !== softEnd) return false;
      udpEnd = Math.min(udpEnd, datagramEnd);
    }
    const dstPort = u16(data, l4 + 2);
    if (!tunnelAfter(data, dstPort, l4 + 8, udpEnd, capEnd)) return false;
    level.srcPort = u16(data, l4);
    level.dstPort = dstPort;
    level.l4Checksum = u16(data, l4 + 6);
    level.l4ChecksumOffset = l4 + 6;
    level.payloadOffset = l4 + 8;
    level.payloadLength = length - 8;
    // The TCP fields keep what they held: they mean something only where the protocol is TCP.
    level.udpLength = length;
  } else return false;
  if (etherType === ETHERTYPE_IPV4) ipv4HeaderAt(data, ip, flags, level);
  else {
    level.ipVersion = 6;
    level.ipHeaderLength = IPV6_HEADER;
    level.srcOffset = ip + 8;
    level.dstOffset = ip + 24;
    level.ttl = data[ip + 7] as number;
    level.ipId = -1;
    level.dontFragment = false;
    level.ipChecksum = -1;
  }
  level.ipOffset = ip;
  level.ipTotalLength = total;
  level.bigTcp = false;
  level.moreFragments = (flags & MORE_FRAGMENTS) !== 0;
  level.fragmentOffset = 0;
  level.isFragment = level.moreFragments;
  level.ipv6FragmentHeaderOffset = -1;
  level.protocol = protocol;
  level.l4Offset = l4;
  level.l4Length = l4Length;
  level.icmpType = -1;
  level.icmpCode = -1;
  level.icmpMtu = -1;
  return true;
}

/** The fields of a 20-byte IPv4 header at `ip` that every IPv4 level has (`flags`: its flags and offset). */
function ipv4HeaderAt(data: Uint8Array, ip: number, flags: number, level: Level): void {
  level.ipVersion = 4;
  level.ipHeaderLength = IPV4_HEADER;
  level.srcOffset = ip + 12;
  level.dstOffset = ip + 16;
  level.ttl = data[ip + 8] as number;
  level.ipId = u16(data, ip + 4);
  level.dontFragment = (flags & 0x4000) !== 0;
  level.ipChecksum = u16(data, ip + 10);
}

/**
 * An IPv4 fragment past the first (20-byte header): the IP fields only, no transport header in it,
 * as the driver leaves such a level (the reassembler takes it from there). On a fragmenting
 * underlay half the frames are these. The TCP fields keep what they held, as for UDP.
 */
function laterFragmentAt(data: Uint8Array, ip: number, total: number, flags: number, level: Level): boolean {
  ipv4HeaderAt(data, ip, flags, level);
  level.ipOffset = ip;
  level.ipTotalLength = total;
  level.bigTcp = false;
  level.moreFragments = (flags & MORE_FRAGMENTS) !== 0;
  level.fragmentOffset = (flags & FRAGMENT_OFFSET) * 8;
  level.isFragment = true;
  level.ipv6FragmentHeaderOffset = -1;
  level.protocol = data[ip + 9] as number;
  level.l4Offset = -1;
  level.l4Length = total - IPV4_HEADER;
  noTransportHeader(level);
  return true;
}
