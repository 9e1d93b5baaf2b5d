/**
 * Fragments at one hop: every IPv4/IPv6 fragment goes to the hop's reassembler (reassembly.ts);
 * a completed datagram is decoded again from its rebuilt IP header and handed back to the hop's
 * observer, so a fragmented tunnel packet's inner frame is observed whole (its checksums, its TCP
 * segment) exactly once. noteFragmentedFlow records what was fragmented: a plain IP flow
 * (`fragment.ip`) or a tunnel's outer packets (`fragment.outer`, with the inner size and the
 * overhead; the MTU advice is worked out when a report is made).
 */

import { decodeIpAt } from '../decode/decode.js';
import { Carrier, createPacket, DecodeStatus, IpProto, type Level, type Packet } from '../decode/packet.js';
import {
  type Clock,
  type FindingRecord,
  type FindingStore,
  MAX_EVIDENCE,
  noteFinding,
} from '../findings/store.js';
import { type FlowTable, flowKeyOf, isFromA, lookupFlow } from './flows.js';
import {
  createFragmentInput,
  createReassembler,
  type FragmentInput,
  type FragmentProblem,
  fillFragmentInput,
  type Reassembler,
} from './reassembly.js';

export interface FragmentCounts {
  count: number;
  datagrams: number;
  reassembled: number;
  maxFragment: number;
  overlaps: number;
  tooBig: number;
  timedOut: number;
  evicted: number;
  /** IPv4 queues retired when their ID came round again (reassembly.ts maxDistance): incomplete too. */
  retired: number;
}

export function createFragmentCounts(): FragmentCounts {
  return {
    count: 0,
    datagrams: 0,
    reassembled: 0,
    maxFragment: 0,
    overlaps: 0,
    tooBig: 0,
    timedOut: 0,
    evicted: 0,
    retired: 0,
  };
}

/** A datagram the reassembler completed, decoded again (valid until the next fragment). */
export interface RebuiltDatagram {
  packet: Packet;
  bytes: Uint8Array;
  length: number;
  frames: readonly number[];
  fragmentCount: number;
}

export interface FragmentState {
  reassembler: Reassembler;
  input: FragmentInput;
  /** The rebuilt datagram decoded again (reused). */
  scratch: Packet;
  rebuilt: RebuiltDatagram;
}

export function createFragmentState(counts: FragmentCounts, findings: FindingStore): FragmentState {
  const scratch = createPacket();
  const state: FragmentState = {
    reassembler: createReassembler({
      onProblem: (problem) => onFragmentProblem(counts, findings, problem),
    }),
    input: createFragmentInput(),
    scratch,
    rebuilt: { packet: scratch, bytes: new Uint8Array(0), length: 0, frames: [], fragmentCount: 0 },
  };
  return state;
}

function onFragmentProblem(counts: FragmentCounts, findings: FindingStore, problem: FragmentProblem): void {
  const frame = problem.frame > 0 ? problem.frame : (problem.frames[0] ?? 0);
  let record: FindingRecord;
  if (problem.kind === 'overlap' && !problem.identical) {
    counts.overlaps++;
    record = noteFinding(findings, 'fragment.overlap', 0, frame);
  } else if (problem.kind === 'too-big') {
    counts.tooBig++;
    record = noteFinding(findings, 'fragment.too-big', 0, frame);
  } else if (problem.kind === 'timeout' || problem.kind === 'evicted' || problem.kind === 'too-far') {
    if (problem.kind === 'timeout') counts.timedOut++;
    else if (problem.kind === 'evicted') counts.evicted++;
    else counts.retired++;
    record = noteFinding(findings, 'fragment.incomplete', 0, frame);
    for (const f of problem.frames)
      if (record.evidence.length < MAX_EVIDENCE && !record.evidence.includes(f)) record.evidence.push(f);
  } else {
    return;
  }
  if (record.count === 1) record.facts.reason = problem.reason;
}

/** Feeds one fragment (level `index` of `packet`); returns the datagram it completed, or null. */
export function feedFragment(
  state: FragmentState,
  counts: FragmentCounts,
  frameNumber: number,
  clock: Clock,
  packet: Packet,
  data: Uint8Array,
  index: number,
): RebuiltDatagram | null {
  // The time is read from the clock here, not passed in, and set on the input here (see
  // fillFragmentInput): a double passed to a call that V8 does not inline is boxed, and a
  // fragmenting underlay is made of fragments (a heap number per frame: 7.5 of the 10 MB a warm run
  // of the bench's fragments scenario allocated).
  const level = packet.levels[index] as Level;
  counts.count++;
  if (level.ipTotalLength > counts.maxFragment) counts.maxFragment = level.ipTotalLength;
  if (level.fragmentOffset === 0) counts.datagrams++;
  if (!fillFragmentInput(state.input, data, packet.capturedEnd, level, frameNumber)) return null;
  state.input.time = clock.now;
  const result = state.reassembler.add(state.input);
  if (result.status !== 'complete') return null;
  counts.reassembled++;

  const scratch = state.scratch;
  scratch.status = DecodeStatus.OK;
  scratch.problem = null;
  scratch.problemOffset = -1;
  scratch.linkType = packet.linkType;
  scratch.capturedLength = result.capturedPrefix;
  scratch.capturedEnd = result.capturedPrefix;
  scratch.originalLength = result.length;
  scratch.direction = packet.direction;
  scratch.ifIndex = packet.ifIndex;
  scratch.etherType = packet.etherType;
  scratch.levelCount = 0;
  decodeIpAt(result.bytes, 0, result.capturedPrefix, scratch, Carrier.REASSEMBLED);
  if (scratch.levelCount === 0) return null;
  const rebuilt = state.rebuilt;
  rebuilt.bytes = result.bytes;
  rebuilt.length = result.length;
  rebuilt.frames = result.frames;
  rebuilt.fragmentCount = result.fragmentCount;
  return rebuilt;
}

const TUNNEL_NAMES: Readonly<Record<number, string>> = {
  [Carrier.VXLAN]: 'VXLAN',
  [Carrier.GENEVE]: 'Geneve',
  [Carrier.GRE]: 'GRE',
  [Carrier.NVGRE]: 'NVGRE',
  [Carrier.VXLAN_GPE]: 'VXLAN-GPE',
  [Carrier.IPIP]: 'IP-in-IP',
};

/** Records which flow a rebuilt datagram belongs to, and for tunnels the sizes the fix needs. */
export function noteFragmentedFlow(
  flows: FlowTable,
  findings: FindingStore,
  datagram: RebuiltDatagram,
  nowSec: number,
): void {
  const packet = datagram.packet;
  const bytes = datagram.bytes;
  const outer = packet.levels[0] as Level;
  const inner = packet.levelCount > 1 ? (packet.levels[1] as Level) : null;
  const tunnelled =
    inner !== null &&
    inner.carrier >= Carrier.VXLAN &&
    inner.carrier <= Carrier.NVGRE &&
    inner.ipVersion !== 0;
  const flowLevel = tunnelled && inner !== null ? inner : outer;
  const flow = flowLevel.ipVersion !== 0 ? lookupFlow(flows, bytes, flowLevel, nowSec) : null;
  const code = tunnelled ? 'fragment.outer' : 'fragment.ip';
  let record: FindingRecord | null = null;
  const frames = datagram.frames;
  for (let i = 0; i < datagram.fragmentCount; i++) {
    record = noteFinding(
      findings,
      code,
      flow === null ? 0 : flow.id,
      frames[Math.min(i, frames.length - 1)] ?? 0,
    );
  }
  if (record === null) return;
  const facts = record.facts;
  if (record.count === datagram.fragmentCount) {
    if (flow !== null && !record.otherFlows) record.flow = flowKeyOf(flow, isFromA(flow, bytes, flowLevel));
    facts.datagrams = 0;
    facts.reassembled = 0;
    facts.outerSize = 0;
  }
  facts.reassembled = (facts.reassembled as number) + 1;
  facts.datagrams = (facts.datagrams as number) + 1;
  if (datagram.length > (facts.outerSize as number)) facts.outerSize = datagram.length;
  if (tunnelled && inner !== null) {
    const innerSize = inner.ipTotalLength;
    if (innerSize > ((facts.innerSize as number | undefined) ?? 0)) {
      facts.innerSize = innerSize;
      facts.innerPayload =
        inner.protocol === IpProto.TCP && inner.l4Offset >= 0 ? inner.payloadLength : innerSize;
      // Overhead counted against the underlay MTU: outer IP datagram minus the inner IP packet
      // (outer IP + UDP + tunnel header + inner Ethernet: 50 for VXLAN over IPv4).
      facts.overhead = datagram.length - innerSize;
      facts.tunnel = TUNNEL_NAMES[inner.carrier] ?? 'tunnel';
      facts.innerHeaders = inner.ipHeaderLength + (inner.protocol === IpProto.TCP ? 20 : 8);
      // The outer IPv4 header each fragment repeats: what sizes the last fragment (the report's
      // "1,396 + 174").
      if (outer.ipVersion === 4) facts.outerHeader = outer.ipHeaderLength;
    }
  }
}

/** The source ended: fragments still waiting will never complete. */
export function endFragments(state: FragmentState): void {
  state.reassembler.expire(Number.POSITIVE_INFINITY);
}
