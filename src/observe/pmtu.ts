/**
 * Path-MTU messages at one hop: ICMP "fragmentation needed" and ICMPv6 "packet too big", with the
 * MTU they announce, the flow they quote (looked up in the hop's flow table) and who sent them.
 * A message sent from the quoted flow's own destination is a tunnel device answering for the
 * guest (Linux vxlan/geneve on a bridge), not a router on the path.
 */

import { Carrier, type Level, type Packet } from '../decode/packet.js';
import { noteFinding } from '../findings/store.js';
import { type FlowEntry, flowKeyOf, formatAddress, isFromA, lookupFlow } from './flows.js';
import type { HopState } from './hop.js';

function sameAddress(data: Uint8Array, a: number, b: number, version: number): boolean {
  const length = version === 4 ? 4 : 16;
  for (let i = 0; i < length; i++) if (data[a + i] !== data[b + i]) return false;
  return true;
}

export function observePmtu(
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
  const hasQuote =
    quoted !== undefined &&
    index + 1 < packet.levelCount &&
    quoted.carrier === Carrier.ICMP_QUOTE &&
    quoted.ipVersion !== 0;
  const flow: FlowEntry | null =
    hasQuote && quoted.srcPort >= 0 ? lookupFlow(hop.flows, data, quoted, hop.nowSec) : null;
  const record = noteFinding(
    hop.findings,
    'pmtu.frag-needed',
    flow === null ? 0 : flow.id * 65536 + level.icmpMtu,
    frameNumber,
  );
  if (record.count !== 1) return;
  if (flow !== null && quoted !== undefined && !record.otherFlows)
    record.flow = flowKeyOf(flow, isFromA(flow, data, quoted));
  const facts = record.facts;
  facts.mtu = level.icmpMtu;
  facts.from = formatAddress(data, level.srcOffset, level.ipVersion);
  facts.quotedSize = hasQuote && quoted.ipTotalLength > 0 ? quoted.ipTotalLength : null;
  facts.sender =
    hasQuote && quoted.dstOffset >= 0 && sameAddress(data, level.srcOffset, quoted.dstOffset, level.ipVersion)
      ? 'flow-destination'
      : 'path';
}
