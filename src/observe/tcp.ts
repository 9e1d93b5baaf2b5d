/**
 * TCP at one hop: the MSS each side announced, super-frames (segments larger than the MSS: TSO/GSO
 * before the split, GRO/LRO after a merge), the checksum of merged frames, and the flow trace the
 * correlator later follows across hops (trace.ts).
 */

import type { DirectionValue } from '../capture/frame.js';
import { type Level, type Packet, TcpFlag } from '../decode/packet.js';
import { DOUBLE_FIELD } from '../doubles.js';
import { noteFinding } from '../findings/store.js';
import type { ChecksumClass } from './checksum.js';
import { countChecksum, firstSegmentVerifies } from './checksums.js';
import { flowTrace } from './flows.js';
import type { HopState } from './hop.js';
import { type AckFacts, newSegmentFacts, recordAck, recordSegment } from './trace.js';
import { exceedsLink, fillSegmentFacts, flowAt, noteSuperFrame } from './transport.js';

/** Samples (segments and ACKs) a hop keeps for correlation across all its flows. */
export const SAMPLE_BUDGET = 1_000_000;

/** Reused for every ACK handed to the flow trace. */
const ackFacts: AckFacts = { ack: DOUBLE_FIELD, tsVal: DOUBLE_FIELD, window: 0, time: DOUBLE_FIELD };

/** Reused for every segment handed to the flow trace. */
const segment = newSegmentFacts();

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
  const flow = flowAt(hop, data, level);
  // Which endpoint sent it, as the lookup found (no second comparison of the addresses).
  const fromA = hop.flows.fromA;
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
      ackFacts.time = hop.clock.now;
      hop.samplesKept += recordAck(side, other, ackFacts, room);
    }
    return;
  }

  // The receiver's announced MSS bounds what the sender may put in one segment; with only the
  // sender's SYN seen, assume a symmetric MSS (what Linux peers on one overlay announce).
  const receiverMss = (fromA ? trace.fromB : trace.fromA).mss;
  const mss = receiverMss > 0 ? receiverMss : side.mss;
  const isSuper = mss > 0 ? payload > mss : exceedsLink(hop, packet, level);

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
  fillSegmentFacts(segment, hop, packet, index, frameNumber, payload, isSuper, cls);
  hop.samplesKept += recordSegment(side, segment, room);
  if (isSuper) noteSuperFrame(hop, 'segment.super-frame', flow, fromA, direction, payload, mss, frameNumber);
}
