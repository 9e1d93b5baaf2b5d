/**
 * Checksum classes at one hop: every IPv4 header and every TCP, UDP and ICMP checksum, outer and
 * inner layers alike, counted per class with the layers each class was seen on and its first
 * frames. The arithmetic (partial sums, LCO) is in checksum.ts; this file applies it to a
 * decoded packet and counts. Findings are drawn from the counters when a report is made.
 */

import { IpProto, type Level, type Packet } from '../decode/packet.js';
import { DOUBLE_FIELD } from '../doubles.js';
import { type Clock, MAX_EVIDENCE } from '../findings/store.js';
import {
  type ChecksumClass,
  completedChecksum,
  detail,
  fold,
  isPartialSum,
  pseudoHeaderSumV4,
  pseudoHeaderSumV6,
  sumWords,
  verifiesWithCompletedInner,
  ZeroKind,
} from './checksum.js';
import { carriesTunnel } from './transport.js';

export interface ChecksumCounts {
  good: number;
  partial: number;
  lco: number;
  zero: number;
  bad: number;
  unverifiable: number;
}

/** The classes findings are drawn for, with their first frames. */
export type NotableClass = 'partial' | 'lco' | 'bad' | 'unverifiable';

/** A notable class's first frames (the findings' evidence) and capture times of its first and last occurrence. */
export interface NotableSeen {
  frames: number[];
  firstTime: number;
  lastTime: number;
}

/** Zero checksums that need their own words: how many, and where (the findings' evidence). */
export interface ZeroSeen extends NotableSeen {
  count: number;
}

export interface HopChecksums {
  counts: ChecksumCounts;
  /** Among the 'zero' class: IPv4 headers left to the NIC by a TSO sender, UDP over IPv6 outside tunnels. */
  zeroKinds: { ipv4Tso: ZeroSeen; udp6: ZeroSeen };
  /** Per class, a bit mask of the layers it was seen on (outer bits low, inner bits << INNER_SHIFT). */
  layers: Record<ChecksumClass, number>;
  seen: Record<NotableClass, NotableSeen>;
  /** The hop's clock (the frame being observed; see findings/store.ts Clock). */
  clock: Clock;
}

/** Layer bits, to say which checksums a class was seen on. */
export const LAYER = { IPV4: 1, TCP: 2, UDP: 4, ICMP: 8, ICMPV6: 16 } as const;
export const INNER_SHIFT = 5;

export function createHopChecksums(clock: Clock): HopChecksums {
  const none = (): NotableSeen => {
    // Capture times: doubles from the start (see doubles.ts).
    const seen = { frames: [], firstTime: DOUBLE_FIELD, lastTime: DOUBLE_FIELD };
    seen.firstTime = -1;
    seen.lastTime = -1;
    return seen;
  };
  return {
    counts: { good: 0, partial: 0, lco: 0, zero: 0, bad: 0, unverifiable: 0 },
    layers: { good: 0, partial: 0, lco: 0, zero: 0, bad: 0, unverifiable: 0 },
    seen: { partial: none(), lco: none(), bad: none(), unverifiable: none() },
    zeroKinds: { ipv4Tso: { ...none(), count: 0 }, udp6: { ...none(), count: 0 } },
    clock,
  };
}

function noteNotable(seen: NotableSeen, frame: number, clock: Clock): void {
  // The time is read here, not passed in: a double passed to a call V8 did not inline is boxed, a
  // heap number per notable frame (1 byte a frame over a NIC's capture of partial checksums).
  const time = clock.now;
  const frames = seen.frames;
  // Not frames[-1] of an empty list: an out-of-bounds read, new at each hop, deoptimises the caller.
  const n = frames.length;
  if (n < MAX_EVIDENCE && (n === 0 || frames[n - 1] !== frame)) frames.push(frame);
  if (seen.firstTime < 0) seen.firstTime = time;
  seen.lastTime = time;
}

/**
 * Counts one checksum: per-class counters and evidence, no finding lookups, and each class's
 * fields named in the code (a keyed access by class name costs a tenth of the hot path).
 */
export function countChecksum(c: HopChecksums, cls: ChecksumClass, layerBit: number, frame: number): void {
  const counts = c.counts;
  const clock = c.clock;
  const layers = c.layers;
  switch (cls) {
    case 'good':
      counts.good++;
      layers.good |= layerBit;
      return;
    case 'partial':
      counts.partial++;
      layers.partial |= layerBit;
      noteNotable(c.seen.partial, frame, clock);
      return;
    case 'lco':
      counts.lco++;
      layers.lco |= layerBit;
      noteNotable(c.seen.lco, frame, clock);
      return;
    case 'zero':
      counts.zero++;
      layers.zero |= layerBit;
      if (detail.pending !== ZeroKind.ALLOWED) {
        const seen = detail.pending === ZeroKind.IPV4_TSO ? c.zeroKinds.ipv4Tso : c.zeroKinds.udp6;
        seen.count++;
        noteNotable(seen, frame, clock);
        detail.pending = ZeroKind.ALLOWED;
      }
      return;
    case 'bad':
      counts.bad++;
      layers.bad |= layerBit;
      noteNotable(c.seen.bad, frame, clock);
      return;
    case 'unverifiable':
      counts.unverifiable++;
      layers.unverifiable |= layerBit;
      noteNotable(c.seen.unverifiable, frame, clock);
      return;
  }
}

export function transportLayerBit(protocol: number): number {
  if (protocol === IpProto.TCP) return LAYER.TCP;
  if (protocol === IpProto.UDP) return LAYER.UDP;
  if (protocol === IpProto.ICMP) return LAYER.ICMP;
  if (protocol === IpProto.ICMPV6) return LAYER.ICMPV6;
  return 0;
}

/**
 * The transport length the checksum covers: UDP's own length field (RFC 768: the pseudo-header
 * carries it, and bytes past it in the IP payload are not UDP's), else the IP payload length.
 * A jumbo UDP (length field 0, RFC 2675) has had its length taken from the IP layer by the decoder.
 */
function coveredLength(level: Level): number {
  return level.protocol === IpProto.UDP ? level.udpLength : level.l4Length;
}

function pseudoSumOf(data: Uint8Array, level: Level, length: number): number {
  // A length above 16 bits (BIG TCP) is summed as its two 16-bit halves: the 32-bit length of
  // RFC 2675's pseudo-header, and what Linux's csum_tcpudp_magic adds for IPv4 BIG TCP alike.
  return level.ipVersion === 4
    ? pseudoHeaderSumV4(data, level.ipOffset, level.protocol, length)
    : pseudoHeaderSumV6(data, level.ipOffset, level.protocol, length);
}

/**
 * The last segment sum taken. A tunnel's outer datagram contains the inner segment: its sum, the
 * check for local checksum offload and the inner checksum's class all need the inner segment's
 * sum, which is summed once per frame instead of three times (summing is most of the cost of
 * whole frames). Keyed by the decode (packet and its serial) as well as the bytes' place: a
 * reused buffer holds another frame's bytes at the same offsets.
 */
const lastSum = {
  packet: null as Packet | null,
  serial: -1,
  data: null as Uint8Array | null,
  start: -1,
  end: -1,
  sum: 0,
};

function rangeSum(packet: Packet, data: Uint8Array, start: number, end: number): number {
  const m = lastSum;
  if (
    m.packet === packet &&
    m.serial === packet.serial &&
    m.data === data &&
    m.start === start &&
    m.end === end
  )
    return m.sum;
  const sum = sumWords(data, start, end);
  m.packet = packet;
  m.serial = packet.serial;
  m.data = data;
  m.start = start;
  m.end = end;
  m.sum = sum;
  return sum;
}

/**
 * Unfolded sum over the whole transport segment, or -1 when the capture does not hold all of it.
 * A tunnel's outer UDP datagram is summed as its headers plus the inner segment's sum, when the
 * inner segment ends with it and starts an even number of bytes in (its words line up).
 */
function segmentSum(packet: Packet, data: Uint8Array, index: number, length: number): number {
  const level = packet.levels[index] as Level;
  const end = level.l4Offset + length;
  if (end > packet.capturedEnd || length <= 0) return -1;
  if (level.protocol === IpProto.UDP && carriesTunnel(packet, index)) {
    const inner = packet.levels[index + 1] as Level;
    if (
      inner.l4Offset > level.l4Offset &&
      !inner.isFragment &&
      (inner.l4Offset - level.l4Offset) % 2 === 0 &&
      (inner.protocol === IpProto.TCP || inner.protocol === IpProto.UDP) &&
      inner.l4Offset + coveredLength(inner) === end
    )
      return sumWords(data, level.l4Offset, inner.l4Offset) + rangeSum(packet, data, inner.l4Offset, end);
  }
  return rangeSum(packet, data, level.l4Offset, end);
}

/** The class of level `index`'s transport checksum, or null when it has none to check. */
export function classifyTransport(packet: Packet, data: Uint8Array, index: number): ChecksumClass | null {
  const level = packet.levels[index] as Level;
  if (level.l4Offset < 0 || level.l4Checksum < 0) return null;
  if (transportLayerBit(level.protocol) === 0) return null;
  const length = coveredLength(level);
  if (level.protocol === IpProto.UDP) {
    // A UDP length below 8 or beyond the IP payload is a malformed header (the decoder says so),
    // not a checksum to judge.
    if (length < 8 || length > level.l4Length) return null;
    if (level.l4Checksum === 0) {
      // UDP over IPv4: "no checksum" (RFC 768). Over IPv6 only tunnels may omit it (RFC 6935,
      // 6936; Linux udp6zerocsumtx/udp6zerocsumrx); anywhere else IPv6 receivers drop it.
      detail.pending =
        level.ipVersion === 4 || carriesTunnel(packet, index) ? ZeroKind.ALLOWED : ZeroKind.UDP6;
      return 'zero';
    }
  }
  if (level.protocol === IpProto.ICMP) {
    // ICMPv4 has no pseudo-header and no offload.
    const sum = segmentSum(packet, data, index, length);
    return sum < 0 ? 'unverifiable' : fold(sum) === 0xffff ? 'good' : 'bad';
  }
  const pseudo = pseudoSumOf(data, level, length);
  // Exactly the partial pseudo-header sum: offload, whatever the payload, so the payload (a
  // super-frame's 64 KiB, every frame of a sending hop) is not summed for it.
  if (isPartialSum(level.l4Checksum, pseudo)) return 'partial';
  const sum = segmentSum(packet, data, index, length);
  const cls = sum < 0 ? 'unverifiable' : fold(pseudo + sum) === 0xffff ? 'good' : 'bad';
  if (
    cls === 'bad' &&
    level.protocol === IpProto.UDP &&
    isLocalChecksumOffload(packet, data, index, pseudo, sum)
  )
    return 'lco';
  return cls;
}

/**
 * An outer UDP checksum that verifies once the inner transport checksum is completed: local
 * checksum offload (see domain.md). Only when the inner checksum is itself stored partial (its
 * pseudo-header sum): completing any other inner checksum would absorb whatever changed inside
 * the inner segment, and the outer would always seem to verify. Needs the whole outer datagram.
 */
function isLocalChecksumOffload(
  packet: Packet,
  data: Uint8Array,
  index: number,
  outerPseudo: number,
  outerSum: number,
): boolean {
  if (!carriesTunnel(packet, index)) return false;
  const innerLevel = packet.levels[index + 1] as Level;
  if (innerLevel.l4ChecksumOffset < 0 || innerLevel.isFragment) return false;
  if (innerLevel.protocol !== IpProto.TCP && innerLevel.protocol !== IpProto.UDP) return false;
  const innerLength = coveredLength(innerLevel);
  if (innerLength > innerLevel.l4Length) return false;
  const innerSum = segmentSum(packet, data, index + 1, innerLength);
  if (innerSum < 0) return false;
  const innerPseudo = pseudoSumOf(data, innerLevel, innerLength);
  let stored = innerLevel.l4Checksum;
  if (!isPartialSum(stored, innerPseudo)) return false;
  let completed = completedChecksum(innerPseudo, innerSum, stored);
  const outer = packet.levels[index] as Level;
  if ((innerLevel.l4ChecksumOffset - outer.l4Offset) % 2 !== 0) {
    // The field straddles the outer sum's word boundaries: its bytes count swapped there.
    stored = ((stored & 0xff) << 8) | (stored >> 8);
    completed = ((completed & 0xff) << 8) | (completed >> 8);
  }
  return verifiesWithCompletedInner(outerPseudo, outerSum, stored, completed);
}

/**
 * A merged (GRO/LRO) TCP super-frame whose stored checksum is exactly the one of its first
 * merged segment: the checksum that verifies over the TCP header and the first `firstPayload`
 * payload bytes, with the pseudo-header length of that segment (what fraglist GRO and some LRO
 * keep; Linux software GRO stores the partial sum instead). Needs those bytes captured.
 */
export function firstSegmentVerifies(
  packet: Packet,
  data: Uint8Array,
  index: number,
  firstPayload: number,
): boolean {
  const level = packet.levels[index] as Level;
  if (level.protocol !== IpProto.TCP || level.l4Offset < 0 || level.tcpHeaderLength < 20) return false;
  if (firstPayload <= 0 || firstPayload >= level.payloadLength) return false;
  const length = level.tcpHeaderLength + firstPayload;
  const end = level.l4Offset + length;
  if (end > packet.capturedEnd) return false;
  return fold(pseudoSumOf(data, level, length) + sumWords(data, level.l4Offset, end)) === 0xffff;
}

/** The layers of a mask by name, e.g. ["TCP", "outer UDP"] (facts for the catalogue's {layers|list}). */
export function layerNames(mask: number): string[] {
  const names: string[] = [];
  const outer: Array<[number, string]> = [
    [LAYER.IPV4, 'IPv4 header'],
    [LAYER.TCP, 'TCP'],
    [LAYER.UDP, 'UDP'],
    [LAYER.ICMP, 'ICMP'],
    [LAYER.ICMPV6, 'ICMPv6'],
  ];
  const hasInner = mask >> INNER_SHIFT !== 0;
  for (const [bit, name] of outer) if ((mask & bit) !== 0) names.push(hasInner ? `outer ${name}` : name);
  for (const [bit, name] of outer) if (((mask >> INNER_SHIFT) & bit) !== 0) names.push(`inner ${name}`);
  return names;
}
