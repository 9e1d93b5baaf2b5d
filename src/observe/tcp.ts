/**
 * TCP at one hop: the MSS each side announced, super-frames (segments larger than the MSS: TSO/GSO
 * before the split, GRO/LRO after a merge), the checksum of merged frames, and the flow trace the
 * correlator later follows across hops (trace.ts).
 */

import type { DirectionValue } from '../capture/frame.js';
import { Carrier, type Level, type Packet, TcpFlag } from '../decode/packet.js';
import { noteFinding } from '../findings/store.js';
import type { ChecksumClass } from './checksum.js';
import { countChecksum, firstSegmentVerifies } from './checksums.js';
import { flowKeyOf, flowTrace, isFromA, lookupFlow } from './flows.js';
import type { HopState } from './hop.js';
import { type AckFacts, recordAck, recordSegment, type SegmentFacts } from './trace.js';

/** No Ethernet link carries IP packets above this; anything larger is a super-frame even without an MSS. */
const LARGEST_JUMBO = 9216;

/** Samples (segments and ACKs) a hop keeps for correlation across all its flows. */
export const SAMPLE_BUDGET = 1_000_000;

/** Reused for every ACK handed to the flow trace. */
const ackFacts: AckFacts = { ack: 0, tsVal: 0, window: 0, time: 0 };

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

const DIRECTION_NAMES = ['unknown', 'incoming', 'outgoing'] as const;

/** Does a merged frame's checksum verify over its first segment (the sizes the first may have had)? */
function isFirstSegmentChecksum(
  hop: HopState,
  packet: Packet,
  data: Uint8Array,
  index: number,
  mss: number,
): boolean {
  const level = packet.levels[index] as Level;
  const options = level.tcpHeaderLength - 20;
  if (mss > 0) {
    if (firstSegmentVerifies(packet, data, index, mss)) return true;
    if (options > 0 && firstSegmentVerifies(packet, data, index, mss - options)) return true;
  }
  if (index === 0 && hop.mtu !== null && hop.mtuSource !== 'inferred') {
    const fromMtu = hop.mtu - level.ipHeaderLength - level.tcpHeaderLength;
    if (fromMtu !== mss && firstSegmentVerifies(packet, data, index, fromMtu)) return true;
  }
  return false;
}

export function observeTcp(
  hop: HopState,
  frameNumber: number,
  packet: Packet,
  data: Uint8Array,
  index: number,
  direction: DirectionValue,
  checksum: ChecksumClass | null,
  checksumBit: number,
): void {
  const level = packet.levels[index] as Level;
  const flow = lookupFlow(hop.flows, data, level, hop.nowSec);
  if (hop.flows.freedSamples !== 0) {
    // Flows retired or evicted took their samples with them.
    hop.samplesKept -= hop.flows.freedSamples;
    hop.flows.freedSamples = 0;
  }
  const fromA = isFromA(flow, data, level);
  const trace = flowTrace(flow);
  const side = fromA ? trace.fromA : trace.fromB;
  const room = hop.samplesKept < SAMPLE_BUDGET;
  if ((level.tcpFlags & TcpFlag.SYN) !== 0 && level.tcpMss > 0) side.mss = level.tcpMss;
  const payload = level.payloadLength;
  if (payload <= 0) {
    if (checksum !== null) countChecksum(hop.checksums, checksum, checksumBit, frameNumber);
    if (
      (level.tcpFlags & (TcpFlag.SYN | TcpFlag.FIN | TcpFlag.RST)) === 0 &&
      (level.tcpFlags & TcpFlag.ACK) !== 0
    ) {
      const other = fromA ? trace.fromB : trace.fromA;
      ackFacts.ack = level.tcpAck;
      ackFacts.tsVal = level.tcpTsVal;
      ackFacts.window = level.tcpWindow;
      ackFacts.time = hop.now;
      hop.samplesKept += recordAck(side, other, ackFacts, room);
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
  // A datagram rebuilt from fragments crossed the link in pieces no larger than its MTU: its size
  // says nothing about segmentation offload, only the jumbo bound does.
  else if (outer.carrier === Carrier.REASSEMBLED)
    isSuper = level.ipTotalLength > LARGEST_JUMBO || level.bigTcp;
  else if (hop.mtu !== null && hop.mtuSource !== 'inferred')
    isSuper = outer.ipTotalLength > hop.mtu || level.bigTcp;
  else isSuper = level.ipTotalLength > LARGEST_JUMBO || level.bigTcp;

  // GRO/LRO keep the first segment's checksum on the merged frame. Linux software GRO stores the
  // partial pseudo-header sum instead (classified 'partial' already); fraglist GRO and some LRO
  // keep the first segment's. A wrong checksum is excused only when it is exactly that one: it
  // verifies over the headers and the first segment's payload (the MSS, or the MSS less the TCP
  // options every segment carries, or what the hop's MTU leaves), with that segment's length.
  // Otherwise it is bad. The direction does not matter: a bridge or tap sends merged frames on.
  let cls = checksum;
  if (cls === 'bad' && isSuper && isFirstSegmentChecksum(hop, packet, data, index, mss)) {
    cls = 'unverifiable';
    hop.groMergedChecksums++;
    const record = noteFinding(hop.findings, 'checksum.gro-merged', 0, frameNumber);
    if (record.count === 1) record.facts.firstFrame = frameNumber;
  }
  if (cls !== null) countChecksum(hop.checksums, cls, checksumBit, frameNumber);

  segment.seq = level.tcpSeq;
  segment.payload = payload;
  segment.time = hop.now;
  segment.frame = frameNumber;
  segment.isSuper = isSuper;
  segment.checksum = cls;
  segment.fragmented = outer.carrier === Carrier.REASSEMBLED;
  segment.overhead =
    index > 0 && level.carrier >= Carrier.VXLAN && level.carrier <= Carrier.NVGRE
      ? outer.ipTotalLength - level.ipTotalLength
      : -1;
  segment.ipLength = level.ipTotalLength;
  hop.samplesKept += recordSegment(side, segment, room);
  if (!isSuper) return;

  const sf = hop.superFrames;
  sf.count++;
  if (payload > sf.maxPayload) sf.maxPayload = payload;
  if (mss > 0 && (sf.mss < 0 || mss < sf.mss)) sf.mss = mss;
  if (direction === 2) sf.outgoing++;
  else if (direction === 1) sf.incoming++;
  else sf.unknownDirection++;

  const record = noteFinding(hop.findings, 'segment.super-frame', flow.id * 4 + direction, frameNumber);
  const facts = record.facts;
  if (record.count === 1) {
    if (!record.otherFlows) record.flow = flowKeyOf(flow, fromA);
    // A tap's incoming frames come from the guest: its TSO/GSO, not a merge.
    facts.direction =
      direction === 1 && hop.kind === 'tap' ? 'incoming-from-guest' : DIRECTION_NAMES[direction];
    facts.maxPayload = payload;
    facts.mss = mss > 0 ? mss : null;
    facts.hopMtu = hop.mtu;
  } else if (payload > (facts.maxPayload as number)) {
    facts.maxPayload = payload;
  }
}
