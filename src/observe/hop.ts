/**
 * Observations at one capture point ("hop"): the per-frame facts hopscope derives from decoded
 * packets (checksum classes, super-frames, fragments, ICMP path-MTU messages, malformed frames)
 * and the findings drawn from them.
 *
 * `observeFrame` runs once per frame on the hot path: it reads the reused Packet, updates
 * counters and flow entries in place and notes findings; it formats nothing and creates objects
 * only for a new flow, a new finding or a new fragmented datagram.
 */

import type { DirectionValue } from '../capture/frame.js';
import { recordAck, recordSegment, type SegmentFacts } from '../correlate/trace.js';
import { Carrier, DecodeStatus, IpProto, type Level, type Packet, TcpFlag } from '../decode/packet.js';
import { createFindingStore, type FindingStore, MAX_EVIDENCE, noteFinding } from '../findings/store.js';
import {
  type ChecksumClass,
  classifyChecksum,
  classifyIpv4Header,
  completedChecksum,
  fold,
  pseudoHeaderSumV4,
  pseudoHeaderSumV6,
  sumWords,
  verifiesWithCompletedInner,
} from './checksum.js';
import {
  createFlowTable,
  describeFlow,
  type FlowEntry,
  type FlowTable,
  flowTrace,
  formatAddress,
  isFromA,
  lookupFlow,
} from './flows.js';
import { createFragmentState, type FragmentState, observeFragment } from './fragments.js';

export type HopKind = 'guest' | 'tap' | 'bridge' | 'vxlan' | 'geneve' | 'physical' | 'any' | 'unknown';
export type MtuSource = 'given' | 'topology' | 'inferred';

export interface HopIdentity {
  name: string;
  kind: HopKind;
  /** Where the kind came from: named by the user, the topology file, the interface name, or the traffic. */
  kindSource: 'given' | 'topology' | 'name' | 'traffic' | 'unknown';
  mtu: number | null;
  mtuSource: MtuSource | null;
  snaplen: number;
}

export interface ChecksumCounts {
  good: number;
  partial: number;
  lco: number;
  zero: number;
  bad: number;
  unverifiable: number;
}

/** Layer bits, to say in words which checksums a class was seen on. */
const LAYER = { IPV4: 1, TCP: 2, UDP: 4, ICMP: 8, ICMPV6: 16 } as const;
const INNER_SHIFT = 5;

export interface HopState extends HopIdentity {
  frames: number;
  bytes: number;
  linkTypes: number[];
  lastLinkType: number;
  checksums: ChecksumCounts;
  /** Per class, a bit mask of the layers it was seen on (outer bits low, inner bits << INNER_SHIFT). */
  checksumLayers: Record<ChecksumClass, number>;
  /** First frames of each notable checksum class, for the findings drawn at the end. */
  checksumEvidence: { partial: number[]; lco: number[]; bad: number[]; unverifiable: number[] };
  /** Frames whose headers the snap length cut (normal) and frames that were malformed. */
  headersCut: number;
  malformed: number;
  unsupported: number;
  tunnels: { vxlan: number; geneve: number; gre: number };
  superFrames: {
    count: number;
    maxPayload: number;
    /** Smallest MSS among the flows that had super-frames (-1: no SYN seen). */
    mss: number;
    outgoing: number;
    incoming: number;
    unknownDirection: number;
  };
  fragments: {
    count: number;
    datagrams: number;
    reassembled: number;
    maxFragment: number;
    overlaps: number;
    tooBig: number;
    timedOut: number;
    evicted: number;
    duplicates: number;
  };
  pmtu: { messages: number; minMtu: number };
  /** TCP checksums of merged (GRO/LRO) frames that only the merge made wrong. */
  groMergedChecksums: number;
  /** Segment and ACK samples kept for correlation (bounded by SAMPLE_BUDGET). */
  samplesKept: number;
  flows: FlowTable;
  findings: FindingStore;
  reassembly: FragmentState;
}

export function createHopState(identity: HopIdentity): HopState {
  const hop: Omit<HopState, 'reassembly'> & { reassembly?: FragmentState } = {
    ...identity,
    frames: 0,
    bytes: 0,
    linkTypes: [],
    lastLinkType: -1,
    checksums: { good: 0, partial: 0, lco: 0, zero: 0, bad: 0, unverifiable: 0 },
    checksumLayers: { good: 0, partial: 0, lco: 0, zero: 0, bad: 0, unverifiable: 0 },
    checksumEvidence: { partial: [], lco: [], bad: [], unverifiable: [] },
    headersCut: 0,
    malformed: 0,
    unsupported: 0,
    tunnels: { vxlan: 0, geneve: 0, gre: 0 },
    superFrames: { count: 0, maxPayload: 0, mss: -1, outgoing: 0, incoming: 0, unknownDirection: 0 },
    fragments: {
      count: 0,
      datagrams: 0,
      reassembled: 0,
      maxFragment: 0,
      overlaps: 0,
      tooBig: 0,
      timedOut: 0,
      evicted: 0,
      duplicates: 0,
    },
    pmtu: { messages: 0, minMtu: -1 },
    samplesKept: 0,
    groMergedChecksums: 0,
    flows: createFlowTable(),
    findings: createFindingStore(identity.name),
  };
  hop.reassembly = createFragmentState(hop as HopState);
  return hop as HopState;
}

/** The frame's metadata the observers need (a subset of capture's Frame). */
export interface FrameMeta {
  number: number;
  timeSec: number;
  timeNs: number;
  direction: DirectionValue;
  capturedLength: number;
  linkType: number;
}

/** No Ethernet link carries IP packets above this; anything larger is a super-frame even without an MSS. */
const LARGEST_JUMBO = 9216;

export function observeFrame(hop: HopState, frame: FrameMeta, packet: Packet, data: Uint8Array): void {
  hop.frames++;
  hop.bytes += frame.capturedLength;
  if (frame.linkType !== hop.lastLinkType) {
    hop.lastLinkType = frame.linkType;
    if (!hop.linkTypes.includes(frame.linkType)) hop.linkTypes.push(frame.linkType);
  }

  if (packet.status === DecodeStatus.MALFORMED) noteMalformed(hop, frame.number, packet.problem);
  else if (packet.status === DecodeStatus.TRUNCATED) hop.headersCut++;
  else if (packet.status === DecodeStatus.UNSUPPORTED) hop.unsupported++;

  observeLevels(hop, frame, packet, data, 0);
}

/** Observes levels from `first` on; also used for the inner levels of reassembled datagrams. */
export function observeLevels(
  hop: HopState,
  frame: FrameMeta,
  packet: Packet,
  data: Uint8Array,
  first: number,
): void {
  const direction = frame.direction !== 0 ? frame.direction : packet.direction;
  for (let i = first; i < packet.levelCount; i++) {
    const level = packet.levels[i] as Level;
    if (level.ipVersion === 0 || level.carrier === Carrier.ICMP_QUOTE) continue;
    if (level.carrier === Carrier.VXLAN) hop.tunnels.vxlan++;
    else if (level.carrier === Carrier.GENEVE) hop.tunnels.geneve++;
    else if (level.carrier === Carrier.GRE || level.carrier === Carrier.NVGRE) hop.tunnels.gre++;
    const inner = i > 0 ? INNER_SHIFT : 0;

    if (level.ipVersion === 4 && level.carrier !== Carrier.REASSEMBLED) {
      const ipClass = classifyIpv4Header(data, level.ipOffset, level.ipHeaderLength, packet.capturedEnd);
      if (ipClass !== 'unverifiable') countChecksum(hop, ipClass, LAYER.IPV4 << inner, frame.number);
    }
    if (level.isFragment) {
      // The transport checksum and everything inside cover the whole datagram: they are observed
      // once the fragments are reassembled (see fragments.ts), not from one fragment.
      observeFragment(hop, frame, packet, data, i);
      return;
    }
    // A TCP checksum is counted by observeTcp, once it knows whether the segment is a merged one.
    const isTcp = level.protocol === IpProto.TCP && level.l4Offset >= 0;
    const checksum = observeTransportChecksum(hop, frame.number, packet, data, i, inner, !isTcp);
    if (level.icmpMtu >= 0) observePmtu(hop, frame.number, packet, data, i);
    if (isTcp) observeTcp(hop, frame, packet, data, i, direction, checksum, LAYER.TCP << inner);
  }
}

function isTunnel(level: Level): boolean {
  return level.carrier >= Carrier.VXLAN && level.carrier <= Carrier.NVGRE;
}

/** Counts one checksum. Per-class counters and evidence, no finding lookups: this runs for every layer. */
function countChecksum(hop: HopState, cls: ChecksumClass, layerBit: number, frame: number): void {
  const counts = hop.checksums;
  const layers = hop.checksumLayers;
  switch (cls) {
    case 'good':
      counts.good++;
      layers.good |= layerBit;
      return;
    case 'partial':
      counts.partial++;
      layers.partial |= layerBit;
      addEvidence(hop.checksumEvidence.partial, frame);
      return;
    case 'lco':
      counts.lco++;
      layers.lco |= layerBit;
      addEvidence(hop.checksumEvidence.lco, frame);
      return;
    case 'zero':
      counts.zero++;
      layers.zero |= layerBit;
      return;
    case 'bad':
      counts.bad++;
      layers.bad |= layerBit;
      addEvidence(hop.checksumEvidence.bad, frame);
      return;
    case 'unverifiable':
      counts.unverifiable++;
      layers.unverifiable |= layerBit;
      addEvidence(hop.checksumEvidence.unverifiable, frame);
      return;
  }
}

function addEvidence(frames: number[], frame: number): void {
  if (frames.length < MAX_EVIDENCE && frames[frames.length - 1] !== frame) frames.push(frame);
}

function transportLayerBit(protocol: number): number {
  if (protocol === IpProto.TCP) return LAYER.TCP;
  if (protocol === IpProto.UDP) return LAYER.UDP;
  if (protocol === IpProto.ICMP) return LAYER.ICMP;
  if (protocol === IpProto.ICMPV6) return LAYER.ICMPV6;
  return 0;
}

function pseudoSum(data: Uint8Array, level: Level): number {
  return level.ipVersion === 4
    ? pseudoHeaderSumV4(data, level.ipOffset, level.protocol, level.l4Length)
    : pseudoHeaderSumV6(data, level.ipOffset, level.protocol, level.l4Length);
}

/** Unfolded sum over the whole transport segment, or -1 when the capture does not hold all of it. */
function segmentSum(data: Uint8Array, level: Level, capturedEnd: number): number {
  const end = level.l4Offset + level.l4Length;
  if (end > capturedEnd || level.l4Length <= 0) return -1;
  return sumWords(data, level.l4Offset, end);
}

function observeTransportChecksum(
  hop: HopState,
  frameNumber: number,
  packet: Packet,
  data: Uint8Array,
  index: number,
  inner: number,
  count: boolean,
): ChecksumClass | null {
  const level = packet.levels[index] as Level;
  if (level.l4Offset < 0 || level.l4Checksum < 0 || level.bigTcp) return null;
  const bit = transportLayerBit(level.protocol) << inner;
  if (bit === 0) return null;
  const sum = segmentSum(data, level, packet.capturedEnd);
  if (level.protocol === IpProto.ICMP) {
    // ICMPv4 has no pseudo-header and no offload.
    const cls: ChecksumClass = sum < 0 ? 'unverifiable' : fold(sum) === 0xffff ? 'good' : 'bad';
    countChecksum(hop, cls, bit, frameNumber);
    return cls;
  }
  const pseudo = pseudoSum(data, level);
  let cls = classifyChecksum(
    level.l4Checksum,
    pseudo,
    sum < 0 ? null : sum,
    level.protocol === IpProto.UDP && level.ipVersion === 4,
  );
  if (
    cls === 'bad' &&
    level.protocol === IpProto.UDP &&
    isLocalChecksumOffload(packet, data, index, pseudo, sum)
  ) {
    cls = 'lco';
  }
  if (count) countChecksum(hop, cls, bit, frameNumber);
  return cls;
}

/**
 * An outer UDP checksum that verifies once the inner transport checksum (stored partial) is
 * completed: local checksum offload (see domain.md). Needs the whole outer datagram captured.
 */
function isLocalChecksumOffload(
  packet: Packet,
  data: Uint8Array,
  index: number,
  outerPseudo: number,
  outerSum: number,
): boolean {
  const innerLevel = packet.levels[index + 1];
  if (innerLevel === undefined || index + 1 >= packet.levelCount || !isTunnel(innerLevel)) return false;
  if (innerLevel.l4ChecksumOffset < 0 || innerLevel.isFragment || innerLevel.protocol !== IpProto.TCP) {
    if (innerLevel.protocol !== IpProto.UDP || innerLevel.l4ChecksumOffset < 0) return false;
  }
  const innerSum = segmentSum(data, innerLevel, packet.capturedEnd);
  if (innerSum < 0) return false;
  const innerPseudo = pseudoSum(data, innerLevel);
  let stored = innerLevel.l4Checksum;
  let completed = completedChecksum(innerPseudo, innerSum, stored);
  const outer = packet.levels[index] as Level;
  if ((innerLevel.l4ChecksumOffset - outer.l4Offset) % 2 !== 0) {
    // The field straddles the outer sum's word boundaries: its bytes count swapped there.
    stored = ((stored & 0xff) << 8) | (stored >> 8);
    completed = ((completed & 0xff) << 8) | (completed >> 8);
  }
  return verifiesWithCompletedInner(outerPseudo, outerSum, stored, completed);
}

function observePmtu(
  hop: HopState,
  frameNumber: number,
  packet: Packet,
  data: Uint8Array,
  index: number,
): void {
  const level = packet.levels[index] as Level;
  const quoted = packet.levels[index + 1];
  hop.pmtu.messages++;
  if (hop.pmtu.minMtu < 0 || level.icmpMtu < hop.pmtu.minMtu) hop.pmtu.minMtu = level.icmpMtu;
  let flow: FlowEntry | null = null;
  if (
    quoted !== undefined &&
    index + 1 < packet.levelCount &&
    quoted.carrier === Carrier.ICMP_QUOTE &&
    quoted.ipVersion !== 0 &&
    quoted.srcPort >= 0
  ) {
    flow = lookupFlow(hop.flows, data, quoted, 0);
  }
  const record = noteFinding(
    hop.findings,
    'pmtu.frag-needed',
    flow === null ? 0 : flow.id * 65536 + level.icmpMtu,
    frameNumber,
  );
  if (record.count !== 1) return;
  record.flow =
    flow !== null && quoted !== undefined ? describeFlow(flow, isFromA(flow, data, quoted)) : null;
  const from = formatAddress(data, level.srcOffset, level.ipVersion);
  record.facts.mtu = level.icmpMtu;
  record.facts.from = from;
  record.facts.quoteSize =
    quoted !== undefined && quoted.ipTotalLength > 0
      ? ` (the quoted packet was ${quoted.ipTotalLength} bytes)`
      : '';
  const fromDestination =
    quoted !== undefined &&
    quoted.dstOffset >= 0 &&
    sameAddress(data, level.srcOffset, quoted.dstOffset, level.ipVersion);
  record.facts.who = fromDestination
    ? `The message comes from the flow's own destination address: on a VXLAN/Geneve bridge this is the host's tunnel device answering for the guest, because inner packet + encapsulation exceed the underlay MTU (${level.icmpMtu} = underlay MTU - overhead).`
    : 'A router or tunnel on the path sent it; the sender lowers its packets to this size.';
}

function sameAddress(data: Uint8Array, a: number, b: number, version: number): boolean {
  const length = version === 4 ? 4 : 16;
  for (let i = 0; i < length; i++) if (data[a + i] !== data[b + i]) return false;
  return true;
}

/** Reused for every segment handed to the flow trace. */
const segment: SegmentFacts = {
  seq: 0,
  payload: 0,
  time: 0,
  frame: 0,
  isSuper: false,
  checksum: null,
  fragmented: false,
  overhead: -1,
  ipLength: 0,
};

/** Samples (segments and ACKs) a hop keeps for correlation across all its flows. */
const SAMPLE_BUDGET = 4_000_000;

function observeTcp(
  hop: HopState,
  frame: FrameMeta,
  packet: Packet,
  data: Uint8Array,
  index: number,
  direction: DirectionValue,
  checksum: ChecksumClass | null,
  checksumBit: number,
): void {
  const level = packet.levels[index] as Level;
  const flow = lookupFlow(hop.flows, data, level, frame.timeSec);
  const fromA = isFromA(flow, data, level);
  const trace = flowTrace(flow);
  const side = fromA ? trace.fromA : trace.fromB;
  const time = frame.timeSec + frame.timeNs / 1e9;
  const sample = hop.samplesKept < SAMPLE_BUDGET;
  if ((level.tcpFlags & TcpFlag.SYN) !== 0 && level.tcpMss > 0) side.mss = level.tcpMss;
  const payload = level.payloadLength;
  if (payload <= 0) {
    if (checksum !== null) countChecksum(hop, checksum, checksumBit, frame.number);
    if (
      (level.tcpFlags & (TcpFlag.SYN | TcpFlag.FIN | TcpFlag.RST)) === 0 &&
      (level.tcpFlags & TcpFlag.ACK) !== 0
    ) {
      recordAck(side, level.tcpAck, level.tcpTsVal, level.tcpWindow, time, sample);
      if (sample) hop.samplesKept++;
    }
    return;
  }

  // The receiver's announced MSS bounds what the sender may put in one segment; with only the
  // sender's SYN seen, assume a symmetric MSS (what Linux peers on one overlay announce).
  const receiverMss = (fromA ? trace.fromB : trace.fromA).mss;
  const mss = receiverMss > 0 ? receiverMss : side.mss;
  const outer = packet.levels[0] as Level;
  let isSuper: boolean;
  if (mss > 0) isSuper = payload > mss;
  else if (hop.mtu !== null && hop.mtuSource !== 'inferred')
    isSuper = outer.ipTotalLength > hop.mtu || level.bigTcp;
  else isSuper = level.ipTotalLength > LARGEST_JUMBO || level.bigTcp;

  // GRO/LRO keep the first segment's checksum on the merged frame: wrong for the whole, verified
  // already by the receiver, not corruption. Counted as unverifiable and told apart.
  let cls = checksum;
  if (cls === 'bad' && isSuper && direction !== 2) {
    cls = 'unverifiable';
    hop.groMergedChecksums++;
    const record = noteFinding(hop.findings, 'checksum.gro-merged', 0, frame.number);
    if (record.count === 1) record.facts.firstFrame = frame.number;
  }
  if (cls !== null) countChecksum(hop, cls, checksumBit, frame.number);

  segment.seq = level.tcpSeq;
  segment.payload = payload;
  segment.time = time;
  segment.frame = frame.number;
  segment.isSuper = isSuper;
  segment.checksum = cls;
  segment.fragmented = outer.carrier === Carrier.REASSEMBLED;
  segment.overhead =
    index > 0 && level.carrier >= Carrier.VXLAN && level.carrier <= Carrier.NVGRE
      ? outer.ipTotalLength - level.ipTotalLength
      : -1;
  segment.ipLength = level.ipTotalLength;
  recordSegment(side, segment, sample);
  if (sample) hop.samplesKept++;
  if (!isSuper) return;

  const sf = hop.superFrames;
  sf.count++;
  if (payload > sf.maxPayload) sf.maxPayload = payload;
  if (mss > 0 && (sf.mss < 0 || mss < sf.mss)) sf.mss = mss;
  if (direction === 2) sf.outgoing++;
  else if (direction === 1) sf.incoming++;
  else sf.unknownDirection++;

  const record = noteFinding(hop.findings, 'segment.super-frame', flow.id * 4 + direction, frame.number);
  const facts = record.facts;
  if (record.count === 1) {
    record.flow = describeFlow(flow, fromA);
    const fromGuest = direction === 1 && hop.kind === 'tap';
    facts.direction =
      direction === 2
        ? 'TSO/GSO, outgoing'
        : fromGuest
          ? 'the guest’s TSO/GSO, incoming'
          : direction === 1
            ? 'GRO/LRO, incoming'
            : 'TSO/GSO or GRO';
    facts.mechanism =
      direction === 2
        ? 'The sender’s stack handed down super-frames (TSO/GSO); GSO or the NIC splits them into MSS-sized segments after this point.'
        : fromGuest
          ? 'The guest’s TSO/GSO made them and the tap (virtio) hands them to the host unsplit; the host splits them later, or its NIC does.'
          : direction === 1
            ? 'Received as super-frames: GRO (kernel) or LRO (NIC) merged segments, or a virtual device (veth, tap) passed a sender’s super-frame on unsplit.'
            : 'Either the sender’s TSO/GSO has not split them yet, or GRO/LRO on the receiving side merged them; this capture does not record the direction. Analyse captures of the neighbouring hops together to tell which.';
    facts.maxPayload = payload;
    facts.mss = mss > 0 ? mss : 'not seen (no SYN in the capture)';
    facts.mtuPart = hop.mtu !== null ? ` and the hop MTU of ${hop.mtu}` : '';
  } else if (payload > (facts.maxPayload as number)) {
    facts.maxPayload = payload;
  }
}

function noteMalformed(hop: HopState, frameNumber: number, problem: string | null): void {
  hop.malformed++;
  const record = noteFinding(hop.findings, 'capture.malformed', 0, frameNumber);
  if (record.count === 1) {
    record.facts.problem = problem ?? 'undecodable header';
    record.facts.firstFrame = frameNumber;
  }
}

/** Names the layers a checksum class was seen on, e.g. "TCP and outer UDP". */
export function describeLayers(mask: number): string {
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
  if (names.length <= 1) return names[0] ?? '';
  return `${names.slice(0, -1).join(', ')} and ${names[names.length - 1]}`;
}
