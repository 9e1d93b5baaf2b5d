/**
 * UDP at one hop: the flows' datagram sizes (followed across hops like TCP's, by size, since UDP
 * has no sequence numbers) and UDP super-frames: datagrams larger than the link carries, handed
 * down whole by UDP segmentation offload (UDP GSO/USO, as QUIC and WireGuard use) before the
 * kernel or the NIC cuts them into segment-sized datagrams, or merged by UDP GRO forwarding.
 * A tunnel's own UDP (VXLAN, Geneve) is its carrier, not a flow of its own: left out.
 */

import type { DirectionValue } from '../capture/frame.js';
import { Carrier, type Level, type Packet } from '../decode/packet.js';
import { noteFinding } from '../findings/store.js';
import type { ChecksumClass } from './checksum.js';
import { flowKeyOf, flowTrace, isFromA, lookupFlow } from './flows.js';
import type { HopState } from './hop.js';
import { recordDatagram, type SegmentFacts } from './trace.js';

/** No Ethernet link carries IP packets above this. */
const LARGEST_JUMBO = 9216;

/** Reused for every datagram handed to the flow trace. */
const datagram: SegmentFacts = {
  seq: -1,
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

function carriesTunnel(packet: Packet, index: number): boolean {
  const next = packet.levels[index + 1];
  return (
    index + 1 < packet.levelCount &&
    next !== undefined &&
    next.carrier >= Carrier.VXLAN &&
    next.carrier <= Carrier.NVGRE
  );
}

export function observeUdp(
  hop: HopState,
  frameNumber: number,
  packet: Packet,
  data: Uint8Array,
  index: number,
  direction: DirectionValue,
  checksum: ChecksumClass | null,
): void {
  const level = packet.levels[index] as Level;
  if (level.srcPort < 0 || level.l4Offset < 0 || carriesTunnel(packet, index)) return;
  const payload = level.l4Length - 8;
  if (payload <= 0) return;
  const flow = lookupFlow(hop.flows, data, level, hop.nowSec);
  if (hop.flows.freedSamples !== 0) {
    hop.samplesKept -= hop.flows.freedSamples;
    hop.flows.freedSamples = 0;
  }
  const fromA = isFromA(flow, data, level);
  const trace = flowTrace(flow);
  const outer = packet.levels[0] as Level;
  // As for TCP without an MSS: larger than the hop's MTU when it is known, or than any Ethernet
  // link carries; a datagram rebuilt from fragments crossed the link in pieces.
  let isSuper: boolean;
  if (outer.carrier === Carrier.REASSEMBLED) isSuper = level.ipTotalLength > LARGEST_JUMBO || level.bigTcp;
  else if (hop.mtu !== null && hop.mtuSource !== 'inferred')
    isSuper = outer.ipTotalLength > hop.mtu || level.bigTcp;
  else isSuper = level.ipTotalLength > LARGEST_JUMBO || level.bigTcp;

  datagram.payload = payload;
  datagram.time = hop.now;
  datagram.frame = frameNumber;
  datagram.isSuper = isSuper;
  datagram.checksum = checksum;
  datagram.fragmented = outer.carrier === Carrier.REASSEMBLED;
  datagram.overhead =
    index > 0 && level.carrier >= Carrier.VXLAN && level.carrier <= Carrier.NVGRE
      ? outer.ipTotalLength - level.ipTotalLength
      : -1;
  datagram.ipLength = level.ipTotalLength;
  recordDatagram(fromA ? trace.fromA : trace.fromB, datagram);
  if (!isSuper) return;

  const sf = hop.superFrames;
  sf.count++;
  sf.udp++;
  if (payload > sf.maxPayload) sf.maxPayload = payload;
  if (direction === 2) sf.outgoing++;
  else if (direction === 1) sf.incoming++;
  else sf.unknownDirection++;
  const record = noteFinding(hop.findings, 'segment.udp-super-frame', flow.id * 4 + direction, frameNumber);
  const facts = record.facts;
  if (record.count === 1) {
    if (!record.otherFlows) record.flow = flowKeyOf(flow, fromA);
    facts.direction =
      direction === 1 && hop.kind === 'tap' ? 'incoming-from-guest' : DIRECTION_NAMES[direction];
    facts.maxPayload = payload;
    facts.hopMtu = hop.mtu;
  } else if (payload > (facts.maxPayload as number)) {
    facts.maxPayload = payload;
  }
}
