/**
 * Observations at one capture point ("hop"): the hop's state, and `observeFrame`, which runs once
 * per frame on the hot path and hands each decoded layer to the observer of its concern:
 *
 *   checksums.ts  checksum classes of every layer      tcp.ts        MSS, super-frames, flow traces
 *   fragments.ts  reassembly of IP fragments           pmtu.ts       ICMP need-to-frag / too-big
 *   udp.ts        UDP flows, UDP GSO super-frames
 *
 * It reads the reused Packet, updates counters and flow entries in place and notes findings; it
 * formats nothing and creates objects only for a new flow, a new finding or a new fragmented
 * datagram. Words are the catalogue's business, when a report is made (report/model.ts).
 */

import type { DirectionValue } from '../capture/frame.js';
import { Carrier, DecodeStatus, IpProto, type Level, type Packet } from '../decode/packet.js';
import { DOUBLE_FIELD } from '../doubles.js';
import {
  type Clock,
  createFindingStore,
  type FindingStore,
  newClock,
  noteFinding,
} from '../findings/store.js';
import { classifyIpv4Header } from './checksum.js';
import {
  classifyTransport,
  countChecksum,
  createHopChecksums,
  type HopChecksums,
  INNER_SHIFT,
  LAYER,
  transportLayerBit,
} from './checksums.js';
import { createFlowTable, type FlowTable, retireIdleFlows } from './flows.js';
import {
  createFragmentCounts,
  createFragmentState,
  type FragmentCounts,
  type FragmentState,
  feedFragment,
  noteFragmentedFlow,
} from './fragments.js';
import { observePmtu } from './pmtu.js';
import { observeTcp } from './tcp.js';
import { observeUdp } from './udp.js';

export type HopKind = 'guest' | 'tap' | 'bridge' | 'vxlan' | 'geneve' | 'physical' | 'any' | 'unknown';
export type MtuSource = 'given' | 'system' | 'topology' | 'inferred';

export interface HopIdentity {
  name: string;
  kind: HopKind;
  /**
   * Where the kind came from: named by the user, read from the live system (`hopscope live`: link
   * info, sysfs), the topology file, the interface name, or the traffic.
   */
  kindSource: 'given' | 'system' | 'topology' | 'name' | 'traffic' | 'unknown';
  mtu: number | null;
  mtuSource: MtuSource | null;
  snaplen: number;
  /**
   * The device's offload features as ethtool -k reported them when a live capture started
   * (`tso: 'on'`), for the verdicts that depend on them; absent for captures read from files.
   */
  offloads?: Readonly<Record<string, string>>;
}

export interface HopState extends HopIdentity {
  frames: number;
  bytes: number;
  linkTypes: number[];
  lastLinkType: number;
  /** Capture time of the first and the latest frame (s since the epoch; -1 before the first). */
  firstTime: number;
  lastTime: number;
  /**
   * The frame being observed: its capture time (s), shared with the hop's finding store and
   * checksum counters (see findings/store.ts Clock), and its whole seconds.
   */
  clock: Clock;
  nowSec: number;
  checksums: HopChecksums;
  /**
   * Frames by wire length (the link header included): counters for the buckets of
   * FRAME_SIZE_BOUNDS, the last one for frames longer than any bound. Fixed size, updated in place.
   */
  frameSizes: Uint32Array;
  /** Frames whose headers the snap length cut (normal) and frames that were malformed. */
  headersCut: number;
  malformed: number;
  tunnels: { vxlan: number; geneve: number; gre: number; ipip: number };
  superFrames: {
    count: number;
    maxPayload: number;
    /** Smallest MSS among the flows that had super-frames (-1: no SYN seen). */
    mss: number;
    /** Of them, UDP datagrams (UDP GSO/GRO). */
    udp: number;
    outgoing: number;
    incoming: number;
    unknownDirection: number;
  };
  fragments: FragmentCounts;
  pmtu: { messages: number; minMtu: number };
  /** TCP checksums of merged (GRO/LRO) frames that only the merge made wrong. */
  groMergedChecksums: number;
  /** Segment and ACK samples kept for correlation (bounded by tcp.ts's SAMPLE_BUDGET). */
  samplesKept: number;
  /** Capture time at which idle flows are next retired. */
  nextSweep: number;
  flows: FlowTable;
  findings: FindingStore;
  /** Made with the hop's first fragment: a reassembler holds ~2 MB of tables, and most hops see none. */
  reassembly: FragmentState | null;
}

/**
 * Upper bounds (inclusive, bytes on the wire with the link header) of the frame-size buckets: the
 * sizes that tell MTUs apart (1,280 IPv6 minimum, 1,400-1,450 underlays, 1,514/1,518 Ethernet at
 * 1,500, 9,018 jumbo) and powers of two for super-frames.
 */
export const FRAME_SIZE_BOUNDS: readonly number[] = [
  64, 128, 256, 512, 1024, 1294, 1414, 1464, 1514, 1518, 2048, 4096, 9018, 16384, 32768, 65535,
];

/**
 * The bucket of every length up to the last bound, looked up per frame (a scan of the bounds took
 * nine comparisons for a 1,514-byte frame); longer frames go to the overflow bucket.
 */
const BUCKET_OF_LENGTH: Uint8Array = (() => {
  const last = FRAME_SIZE_BOUNDS[FRAME_SIZE_BOUNDS.length - 1] as number;
  const table = new Uint8Array(last + 1);
  let bucket = 0;
  for (let length = 0; length <= last; length++) {
    while (length > (FRAME_SIZE_BOUNDS[bucket] as number)) bucket++;
    table[length] = bucket;
  }
  return table;
})();

/** The bucket of a frame length: the first bound it does not exceed, or the overflow bucket. */
export function frameSizeBucket(length: number): number {
  return length < BUCKET_OF_LENGTH.length ? (BUCKET_OF_LENGTH[length] as number) : FRAME_SIZE_BOUNDS.length;
}

/** Flows idle this long (capture time, s) are retired, their counts kept in the hop's totals. */
export const FLOW_IDLE_SEC = 600;
/** Idle time after which flows retire when the flow table is a quarter full. */
const BUSY_IDLE_SEC = 15;
/** How often (capture time, s) idle flows are looked for. */
const SWEEP_EVERY_SEC = 60;

/** Every field of HopIdentity, optional ones too (their value may be undefined). */
type EveryIdentityField = { [K in keyof Required<HopIdentity>]: HopIdentity[K] };

export function createHopState(identity: HopIdentity): HopState {
  const clock = newClock();
  // Every field written out, no `...identity`: V8 builds a spread object by one path for the first
  // objects and by another later (from the tenth hop on, a map of its own with most fields out of
  // line), and observeFrame's compiled code, made for the first hops' map, is thrown away there.
  // Typed with EveryIdentityField: a field added to HopIdentity fails to compile until copied here.
  const hop: HopState & EveryIdentityField = {
    name: identity.name,
    kind: identity.kind,
    kindSource: identity.kindSource,
    mtu: identity.mtu,
    mtuSource: identity.mtuSource,
    snaplen: identity.snaplen,
    offloads: identity.offloads,
    // Byte counts, times and epoch seconds: doubles from the start (see doubles.ts).
    frames: 0,
    bytes: DOUBLE_FIELD,
    linkTypes: [],
    lastLinkType: -1,
    firstTime: DOUBLE_FIELD,
    lastTime: DOUBLE_FIELD,
    clock,
    nowSec: DOUBLE_FIELD,
    checksums: createHopChecksums(clock),
    frameSizes: new Uint32Array(FRAME_SIZE_BOUNDS.length + 1),
    headersCut: 0,
    malformed: 0,
    tunnels: { vxlan: 0, geneve: 0, gre: 0, ipip: 0 },
    superFrames: { count: 0, maxPayload: 0, mss: -1, udp: 0, outgoing: 0, incoming: 0, unknownDirection: 0 },
    fragments: createFragmentCounts(),
    pmtu: { messages: 0, minMtu: -1 },
    groMergedChecksums: 0,
    samplesKept: 0,
    nextSweep: DOUBLE_FIELD,
    flows: createFlowTable(),
    findings: createFindingStore(identity.name, clock),
    reassembly: null,
  };
  hop.bytes = 0;
  hop.firstTime = -1;
  hop.lastTime = -1;
  hop.nowSec = -1;
  hop.nextSweep = -1;
  return hop;
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

export function observeFrame(hop: HopState, frame: FrameMeta, packet: Packet, data: Uint8Array): void {
  hop.frames++;
  hop.bytes += frame.capturedLength;
  if (frame.linkType !== hop.lastLinkType) {
    hop.lastLinkType = frame.linkType;
    if (!hop.linkTypes.includes(frame.linkType)) hop.linkTypes.push(frame.linkType);
  }
  const time = frame.timeSec + frame.timeNs / 1e9;
  hop.clock.now = time;
  hop.nowSec = frame.timeSec;
  if (hop.firstTime < 0) hop.firstTime = time;
  if (time > hop.lastTime) hop.lastTime = time;
  if (time >= hop.nextSweep) sweepIdleFlows(hop);
  const bucket = frameSizeBucket(packet.originalLength);
  hop.frameSizes[bucket] = (hop.frameSizes[bucket] as number) + 1;

  if (packet.status === DecodeStatus.MALFORMED) noteMalformed(hop, frame.number, packet.problem);
  else if (packet.status === DecodeStatus.TRUNCATED) hop.headersCut++;

  const direction = frame.direction !== 0 ? frame.direction : packet.direction;
  observeLevels(hop, frame.number, direction, packet, data);
}

/** Every level of a packet, outer to inner; also the levels of a reassembled datagram. */
function observeLevels(
  hop: HopState,
  frameNumber: number,
  direction: DirectionValue,
  packet: Packet,
  data: Uint8Array,
): void {
  for (let i = 0; i < packet.levelCount; i++) {
    const level = packet.levels[i] as Level;
    if (level.ipVersion === 0 || level.carrier === Carrier.ICMP_QUOTE) continue;
    if (level.carrier === Carrier.VXLAN || level.carrier === Carrier.VXLAN_GPE) hop.tunnels.vxlan++;
    else if (level.carrier === Carrier.GENEVE) hop.tunnels.geneve++;
    else if (level.carrier === Carrier.IPIP) hop.tunnels.ipip++;
    else if (level.carrier === Carrier.GRE || level.carrier === Carrier.NVGRE) hop.tunnels.gre++;
    const inner = i > 0 ? INNER_SHIFT : 0;

    if (level.ipVersion === 4 && level.carrier !== Carrier.REASSEMBLED) {
      const ipClass = classifyIpv4Header(data, level.ipOffset, level.ipHeaderLength, packet.capturedEnd);
      if (ipClass !== 'unverifiable') countChecksum(hop.checksums, ipClass, LAYER.IPV4 << inner, frameNumber);
    }
    if (level.isFragment) {
      // The transport checksum and everything inside cover the whole datagram: they are observed
      // once the fragments are reassembled, not from one fragment.
      hop.reassembly ??= createFragmentState(hop.fragments, hop.findings);
      const rebuilt = feedFragment(hop.reassembly, hop.fragments, frameNumber, hop.clock, packet, data, i);
      if (rebuilt !== null) {
        observeLevels(hop, frameNumber, direction, rebuilt.packet, rebuilt.bytes);
        noteFragmentedFlow(hop.flows, hop.findings, rebuilt, hop.nowSec);
      }
      return;
    }
    const checksum = classifyTransport(packet, data, i);
    const bit = transportLayerBit(level.protocol) << inner;
    if (level.protocol === IpProto.TCP && level.l4Offset >= 0) {
      // Counted by observeTcp, once it knows whether the segment is a merged one.
      observeTcp(hop, frameNumber, packet, data, i, direction, checksum, bit);
    } else {
      if (checksum !== null) countChecksum(hop.checksums, checksum, bit, frameNumber);
      if (level.protocol === IpProto.UDP) observeUdp(hop, frameNumber, packet, data, i, direction, checksum);
    }
    if (level.icmpMtu >= 0) observePmtu(hop, frameNumber, packet, data, i);
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

/**
 * Retires flows idle for FLOW_IDLE_SEC, or for BUSY_IDLE_SEC when the table is a quarter full (a hop
 * with thousands of new flows a minute); their samples leave the hop's budget with them.
 */
function sweepIdleFlows(hop: HopState): void {
  const time = hop.clock.now;
  const busy = hop.flows.size > hop.flows.maxFlows / 4;
  if (hop.nextSweep >= 0) retireIdleFlows(hop.flows, time, busy ? BUSY_IDLE_SEC : FLOW_IDLE_SEC);
  // A busy hop is swept as often as its flows may idle, so a retired flow goes soon after it stops.
  hop.nextSweep = time + (busy ? BUSY_IDLE_SEC : SWEEP_EVERY_SEC);
}
