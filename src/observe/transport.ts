/**
 * What TCP (tcp.ts) and UDP (udp.ts) observation share at one hop: finding the flow, the size
 * rule for a super-frame when no MSS bounds it, the tunnel overhead of the level, and counting a
 * super-frame with its finding.
 */

import type { DirectionValue } from '../capture/frame.js';
import { Carrier, type Level, type Packet } from '../decode/packet.js';
import { noteFinding } from '../findings/store.js';
import type { ChecksumClass } from './checksum.js';
import { type FlowEntry, flowKeyOf, lookupFlow } from './flows.js';
import type { HopState } from './hop.js';
import type { SegmentFacts } from './trace.js';

/** No Ethernet link carries IP packets above this; anything larger is a super-frame even without an MSS. */
const LARGEST_JUMBO = 9216;

const DIRECTION_NAMES = ['unknown', 'incoming', 'outgoing'] as const;

/** The level's flow at this hop; samples of flows retired or evicted meanwhile leave the hop's budget. */
export function flowAt(hop: HopState, data: Uint8Array, level: Level): FlowEntry {
  const flow = lookupFlow(hop.flows, data, level, hop.nowSec);
  if (hop.flows.freedSamples !== 0) {
    hop.samplesKept -= hop.flows.freedSamples;
    hop.flows.freedSamples = 0;
  }
  return flow;
}

/**
 * Larger than the link carries, with no MSS to judge by: than the hop's MTU when it is known, else
 * than any Ethernet link. A datagram rebuilt from fragments crossed the link in pieces no larger
 * than its MTU: its size says nothing about segmentation offload, only the jumbo bound does.
 */
export function exceedsLink(hop: HopState, packet: Packet, level: Level): boolean {
  const outer = packet.levels[0] as Level;
  if (level.bigTcp) return true;
  if (outer.carrier !== Carrier.REASSEMBLED && hop.mtu !== null && hop.mtuSource !== 'inferred')
    return outer.ipTotalLength > hop.mtu;
  return level.ipTotalLength > LARGEST_JUMBO;
}

/** Whether level `index` carries a tunnel: its transport is the tunnel's carrier, not a flow of its own. */
export function carriesTunnel(packet: Packet, index: number): boolean {
  if (index + 1 >= packet.levelCount) return false;
  const next = packet.levels[index + 1] as Level;
  return next.carrier >= Carrier.VXLAN && next.carrier <= Carrier.NVGRE;
}

/** Bytes the tunnel carrying level `index` adds (outer IP length - inner), or -1 outside a tunnel. */
export function tunnelOverhead(packet: Packet, index: number): number {
  const level = packet.levels[index] as Level;
  return index > 0 && level.carrier >= Carrier.VXLAN && level.carrier <= Carrier.NVGRE
    ? (packet.levels[0] as Level).ipTotalLength - level.ipTotalLength
    : -1;
}

/**
 * Fills the facts reused for every segment (TCP) or datagram (UDP) of level `index` handed to the
 * flow trace: all but `seq`, which only TCP has.
 */
export function fillSegmentFacts(
  facts: SegmentFacts,
  hop: HopState,
  packet: Packet,
  index: number,
  frameNumber: number,
  payload: number,
  isSuper: boolean,
  checksum: ChecksumClass | null,
): void {
  facts.payload = payload;
  facts.time = hop.clock.now;
  facts.frame = frameNumber;
  facts.isSuper = isSuper;
  facts.checksum = checksum;
  facts.fragmented = (packet.levels[0] as Level).carrier === Carrier.REASSEMBLED;
  facts.overhead = tunnelOverhead(packet, index);
  facts.ipLength = (packet.levels[index] as Level).ipTotalLength;
}

/** Counts one super-frame at the hop and in its per-flow finding (TCP: with the MSS it exceeded). */
export function noteSuperFrame(
  hop: HopState,
  code: 'segment.super-frame' | 'segment.udp-super-frame',
  flow: FlowEntry,
  fromA: boolean,
  direction: DirectionValue,
  payload: number,
  mss: number,
  frameNumber: number,
): void {
  const sf = hop.superFrames;
  sf.count++;
  if (code === 'segment.udp-super-frame') sf.udp++;
  if (payload > sf.maxPayload) sf.maxPayload = payload;
  if (mss > 0 && (sf.mss < 0 || mss < sf.mss)) sf.mss = mss;
  if (direction === 2) sf.outgoing++;
  else if (direction === 1) sf.incoming++;
  else sf.unknownDirection++;

  const record = noteFinding(hop.findings, code, flow.id * 4 + direction, frameNumber);
  const facts = record.facts;
  if (record.count === 1) {
    if (!record.otherFlows) record.flow = flowKeyOf(flow, fromA);
    // A tap's incoming frames come from the guest: its TSO/GSO, not a merge.
    facts.direction =
      direction === 1 && hop.kind === 'tap' ? 'incoming-from-guest' : DIRECTION_NAMES[direction];
    facts.maxPayload = payload;
    if (code === 'segment.super-frame') facts.mss = mss > 0 ? mss : null;
    facts.hopMtu = hop.mtu;
  } else if (payload > (facts.maxPayload as number)) {
    facts.maxPayload = payload;
  }
}
