/**
 * The decoded view of one frame, shared by every decoder and read by every observer.
 *
 * One `Packet` is allocated per pipeline and refilled for every frame (gopacket's
 * DecodingLayerParser idea): decoders write numbers and byte offsets into it, never copies or
 * strings, so decoding allocates nothing. Offsets index the frame's `data` view.
 *
 * A frame is a chain of network-layer "levels": the outer IP packet is level 0; an IP packet
 * carried inside it (VXLAN/Geneve/GRE payload, or the packet an ICMP error quotes) is level 1,
 * and so on. Each level records the link header in front of it, how it was carried, its IP
 * header and its transport header.
 */

import { DOUBLE_FIELD } from '../doubles.js';

export const MAX_LEVELS = 6;

/** Outcome of decoding a frame. Problems in packets are facts, never exceptions. */
export const DecodeStatus = {
  OK: 0,
  /** A header ran past the captured bytes because the snap length cut it: normal, not an error. */
  TRUNCATED: 1,
  /** A header is impossible or lies about its length, although the bytes were all captured. */
  MALFORMED: 2,
  /** A link type or protocol hopscope does not decode; what was decoded before it stays valid. */
  UNSUPPORTED: 3,
} as const;
export type DecodeStatusValue = (typeof DecodeStatus)[keyof typeof DecodeStatus];

/** How a level reached us. */
export const Carrier = {
  /** The frame's own network layer. */
  NONE: 0,
  VXLAN: 1,
  GENEVE: 2,
  GRE: 3,
  /** VXLAN-GPE (UDP 4790): inner IPv4, IPv6 or Ethernet, chosen by its next-protocol field. */
  VXLAN_GPE: 4,
  /** IP-in-IP: IPv4 or IPv6 straight after the outer IP header (IP protocols 4 and 41). */
  IPIP: 5,
  /**
   * Last of the tunnels: observers test `carrier >= VXLAN && carrier <= NVGRE`, so every tunnel
   * carrier lies in that range.
   */
  NVGRE: 6,
  /** The packet quoted in an ICMPv4/ICMPv6 error (usually cut after 8 transport bytes). */
  ICMP_QUOTE: 7,
  /** An IP datagram rebuilt from fragments by the observer, decoded again from its IP header. */
  REASSEMBLED: 8,
} as const;
export type CarrierValue = (typeof Carrier)[keyof typeof Carrier];

/** Transport protocols hopscope decodes (IP protocol numbers). */
export const IpProto = {
  HOPOPT: 0,
  ICMP: 1,
  TCP: 6,
  UDP: 17,
  IPV6_ROUTE: 43,
  IPV6_FRAG: 44,
  IPIP: 4,
  IPV6_IN_IP: 41,
  GRE: 47,
  ESP: 50,
  AH: 51,
  ICMPV6: 58,
  IPV6_NONXT: 59,
  IPV6_OPTS: 60,
} as const;

export const TcpFlag = { FIN: 0x01, SYN: 0x02, RST: 0x04, PSH: 0x08, ACK: 0x10, URG: 0x20 } as const;

export interface Level {
  // --- how this level was carried (level 0: Carrier.NONE) ---
  carrier: CarrierValue;
  /** Offset of the tunnel header (VXLAN/Geneve/GRE/ICMP; IP-in-IP: the inner IP header), -1 for none. */
  carrierOffset: number;
  /** Bytes of the tunnel header itself (VXLAN/VXLAN-GPE 8, Geneve 8 + options, GRE 4..16, ICMP 8, IP-in-IP 0). */
  carrierLength: number;
  /** VXLAN(-GPE) VNI, Geneve VNI, NVGRE VSID or GRE key; -1 when none. */
  vni: number;
  /** Geneve option bytes (0 otherwise). */
  geneveOptionsLength: number;
  /** UDP destination port the tunnel came on (4789, 8472, 6081, 4790 or a configured one), 0 otherwise. */
  tunnelPort: number;

  // --- link header in front of the IP header (Ethernet, inner Ethernet after VXLAN/Geneve) ---
  /** Offset of the Ethernet header, -1 when the level has none (raw IP, SLL, GRE, ICMP quote). */
  ethOffset: number;
  /** Number of 802.1Q/802.1ad tags, and the first two VLAN ids (-1 when absent). */
  vlanCount: number;
  vlanOuter: number;
  vlanInner: number;
  /** EtherType of the network layer (0x0800, 0x86dd, ...), 0 when not known. */
  etherType: number;

  // --- network layer ---
  /** 4 or 6; 0 when this level's network layer is not IP (then nothing below is valid). */
  ipVersion: number;
  ipOffset: number;
  /** IPv4 IHL*4; IPv6 40 plus every extension header before the upper layer. */
  ipHeaderLength: number;
  /** Declared datagram length: IPv4 total length, IPv6 40 + payload length (or jumbo length). */
  ipTotalLength: number;
  /**
   * BIG TCP / jumbogram: IPv4 total length 0 or IPv6 payload length 0 with a hop-by-hop jumbo
   * option. Then ipTotalLength is taken from the jumbo option or, for IPv4, from the frame's
   * original length (derived, not read off the wire).
   */
  bigTcp: boolean;
  /** Offsets of source and destination addresses in data (4 or 16 bytes each). */
  srcOffset: number;
  dstOffset: number;
  ttl: number;
  /** IPv4 identification, or the IPv6 fragment header's identification (-1 when none). */
  ipId: number;
  dontFragment: boolean;
  moreFragments: boolean;
  /** Fragment offset in bytes. */
  fragmentOffset: number;
  /** IPv4 MF or offset != 0, or an IPv6 fragment header present. */
  isFragment: boolean;
  /** Offset of the IPv6 fragment header, -1 when none. */
  ipv6FragmentHeaderOffset: number;
  /** IPv4 header checksum as stored (-1 for IPv6). */
  ipChecksum: number;
  /** Upper-layer protocol (after IPv6 extension headers). */
  protocol: number;

  // --- transport layer ---
  /** Offset of the transport header; -1 when not decoded (non-first fragment, unknown protocol). */
  l4Offset: number;
  /** Declared transport length: ipTotalLength - ipHeaderLength. */
  l4Length: number;
  srcPort: number;
  dstPort: number;
  /** Stored TCP/UDP/ICMP checksum and where it sits; -1 when absent. */
  l4Checksum: number;
  l4ChecksumOffset: number;
  /** Offset and declared length of the transport payload (TCP data, UDP payload, ICMP body). */
  payloadOffset: number;
  payloadLength: number;

  tcpSeq: number;
  tcpAck: number;
  tcpFlags: number;
  tcpHeaderLength: number;
  tcpWindow: number;
  /** TCP options: MSS (-1 none), window scale shift (-1 none), SACK permitted, SACK blocks, timestamps. */
  tcpMss: number;
  tcpWindowScale: number;
  tcpSackPermitted: boolean;
  tcpSackBlocks: number;
  tcpHasTimestamps: boolean;
  tcpTsVal: number;
  tcpTsEcr: number;

  udpLength: number;

  icmpType: number;
  icmpCode: number;
  /** MTU announced by ICMPv4 fragmentation-needed (type 3 code 4) or ICMPv6 packet-too-big; -1 otherwise. */
  icmpMtu: number;
}

export interface Packet {
  status: DecodeStatusValue;
  /** A short constant description of what was truncated/malformed/unsupported (never formatted). */
  problem: string | null;
  /** Offset in data where the problem was found. */
  problemOffset: number;
  linkType: number;
  /** Bytes captured and original wire length of the frame. */
  capturedLength: number;
  /** Offset in data just past the captured bytes (start of the frame + capturedLength). */
  capturedEnd: number;
  originalLength: number;
  /** Direction from the link header (Linux SLL packet type): 0 unknown, 1 inbound, 2 outbound. */
  direction: 0 | 1 | 2;
  /** SLL2 interface index, -1 otherwise. */
  ifIndex: number;
  /** EtherType / protocol of the outermost network layer (0 when none). */
  etherType: number;
  levelCount: number;
  levels: Level[];
  /**
   * Changes with every decode into this (reused) packet: a value an observer derived from one
   * frame (a segment's checksum sum) is known to be about the same frame while it is unchanged.
   */
  serial: number;
}

function createLevel(): Level {
  const level: Level = {
    carrier: Carrier.NONE,
    carrierOffset: -1,
    carrierLength: 0,
    vni: -1,
    geneveOptionsLength: 0,
    tunnelPort: 0,
    ethOffset: -1,
    vlanCount: 0,
    vlanOuter: -1,
    vlanInner: -1,
    etherType: 0,
    ipVersion: 0,
    ipOffset: -1,
    ipHeaderLength: 0,
    ipTotalLength: 0,
    bigTcp: false,
    srcOffset: -1,
    dstOffset: -1,
    ttl: 0,
    ipId: -1,
    dontFragment: false,
    moreFragments: false,
    fragmentOffset: 0,
    isFragment: false,
    ipv6FragmentHeaderOffset: -1,
    ipChecksum: -1,
    protocol: -1,
    l4Offset: -1,
    l4Length: 0,
    srcPort: -1,
    dstPort: -1,
    l4Checksum: -1,
    l4ChecksumOffset: -1,
    payloadOffset: -1,
    payloadLength: 0,
    tcpSeq: DOUBLE_FIELD,
    tcpAck: DOUBLE_FIELD,
    tcpFlags: 0,
    tcpHeaderLength: 0,
    tcpWindow: 0,
    tcpMss: -1,
    tcpWindowScale: -1,
    tcpSackPermitted: false,
    tcpSackBlocks: 0,
    tcpHasTimestamps: false,
    tcpTsVal: DOUBLE_FIELD,
    tcpTsEcr: DOUBLE_FIELD,
    udpLength: 0,
    icmpType: -1,
    icmpCode: -1,
    icmpMtu: -1,
  };
  // The 32-bit TCP numbers are doubles from the start (see doubles.ts), then empty.
  resetTcp(level);
  return level;
}

/**
 * Restores a level to its empty state in place (same shape, so V8 keeps one hidden class).
 * Explicit assignments: about 50x faster than Object.assign(level, EMPTY_LEVEL) on Node 20.
 * Keep in sync with createLevel (a test compares the two).
 */
export function resetLevel(level: Level): void {
  level.carrier = Carrier.NONE;
  level.carrierOffset = -1;
  level.carrierLength = 0;
  level.vni = -1;
  level.geneveOptionsLength = 0;
  level.tunnelPort = 0;
  level.ethOffset = -1;
  level.vlanCount = 0;
  level.vlanOuter = -1;
  level.vlanInner = -1;
  level.etherType = 0;
  level.ipVersion = 0;
  level.ipOffset = -1;
  level.ipHeaderLength = 0;
  level.ipTotalLength = 0;
  level.bigTcp = false;
  level.srcOffset = -1;
  level.dstOffset = -1;
  level.ttl = 0;
  level.ipId = -1;
  level.dontFragment = false;
  level.moreFragments = false;
  level.fragmentOffset = 0;
  level.isFragment = false;
  level.ipv6FragmentHeaderOffset = -1;
  level.ipChecksum = -1;
  level.protocol = -1;
  level.l4Offset = -1;
  level.l4Length = 0;
  // The TCP fields are reset by resetTcp when a TCP header is decoded: they mean something only
  // where protocol is TCP (every reader asks that first), and twelve stores per level per frame
  // were a measurable part of decoding.
  noTransportHeader(level);
}

/**
 * The fields a transport header fills, as a level without one has them (an IPv4 fragment past
 * the first: the fast path writes them so).
 */
export function noTransportHeader(level: Level): void {
  level.srcPort = -1;
  level.dstPort = -1;
  level.l4Checksum = -1;
  level.l4ChecksumOffset = -1;
  level.payloadOffset = -1;
  level.payloadLength = 0;
  level.udpLength = 0;
  level.icmpType = -1;
  level.icmpCode = -1;
  level.icmpMtu = -1;
}

/** The TCP fields of a level in their empty state: decodeTcp starts with it. */
export function resetTcp(level: Level): void {
  level.tcpSeq = 0;
  level.tcpAck = 0;
  level.tcpFlags = 0;
  level.tcpHeaderLength = 0;
  level.tcpWindow = 0;
  level.tcpMss = -1;
  level.tcpWindowScale = -1;
  level.tcpSackPermitted = false;
  level.tcpSackBlocks = 0;
  level.tcpHasTimestamps = false;
  level.tcpTsVal = 0;
  level.tcpTsEcr = 0;
}

/** A level in its empty state (what createLevel produces, and resetLevel with resetTcp). */
export const EMPTY_LEVEL: Readonly<Level> = Object.freeze(createLevel());

export function createPacket(): Packet {
  const levels: Level[] = [];
  for (let i = 0; i < MAX_LEVELS; i++) levels.push(createLevel());
  return {
    status: DecodeStatus.OK,
    problem: null,
    problemOffset: -1,
    linkType: 0,
    capturedLength: 0,
    capturedEnd: 0,
    originalLength: 0,
    direction: 0,
    ifIndex: -1,
    etherType: 0,
    levelCount: 0,
    levels,
    serial: 0,
  };
}
