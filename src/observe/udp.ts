/**
 * UDP at one hop: the flows' datagram sizes (followed across hops like TCP's, by size, since UDP
 * has no sequence numbers) and UDP super-frames: datagrams larger than the link carries, handed
 * down whole by UDP segmentation offload (UDP GSO/USO, as QUIC and WireGuard use) before the
 * kernel or the NIC cuts them into segment-sized datagrams, or merged by UDP GRO forwarding.
 * A tunnel's own UDP (VXLAN, Geneve) is its carrier, not a flow of its own: left out.
 */

import type { DirectionValue } from '../capture/frame.js';
import type { Level, Packet } from '../decode/packet.js';
import type { ChecksumClass } from './checksum.js';
import { flowTrace } from './flows.js';
import type { HopState } from './hop.js';
import { newSegmentFacts, recordDatagram } from './trace.js';
import { carriesTunnel, exceedsLink, fillSegmentFacts, flowAt, noteSuperFrame } from './transport.js';

/** Reused for every datagram handed to the flow trace. */
const datagram = newSegmentFacts(-1);

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
  const flow = flowAt(hop, data, level);
  // Which endpoint sent it, as the lookup found (no second comparison of the addresses).
  const fromA = hop.flows.fromA;
  const trace = flowTrace(flow);
  // As for TCP without an MSS.
  const isSuper = exceedsLink(hop, packet, level);

  fillSegmentFacts(datagram, hop, packet, index, frameNumber, payload, isSuper, checksum);
  recordDatagram(fromA ? trace.fromA : trace.fromB, datagram);
  if (isSuper)
    noteSuperFrame(hop, 'segment.udp-super-frame', flow, fromA, direction, payload, -1, frameNumber);
}
