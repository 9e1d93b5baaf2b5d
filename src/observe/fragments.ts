/**
 * Fragments at one hop: every IPv4/IPv6 fragment goes to the hop's reassembler; a completed
 * datagram is decoded again from its rebuilt IP header, so a fragmented tunnel packet's inner
 * frame is observed whole (its checksums, its TCP segment) exactly once, and the finding can say
 * what was fragmented: a plain IP flow (`fragment.ip`) or a tunnel's outer packets
 * (`fragment.outer`, with the inner size, the overhead, the MTU and the numbers of the fix).
 */

import { decodeIpAt } from '../decode/decode.js';
import { Carrier, createPacket, DecodeStatus, IpProto, type Level, type Packet } from '../decode/packet.js';
import { type FindingRecord, noteFinding } from '../findings/store.js';
import { describeFlow, isFromA, lookupFlow } from './flows.js';
import type { FrameMeta, HopState } from './hop.js';
import { observeLevels } from './hop.js';
import {
  createFragmentInput,
  createReassembler,
  type FragmentInput,
  type FragmentProblem,
  fillFragmentInput,
  type Reassembler,
} from './reassembly.js';

export interface FragmentState {
  reassembler: Reassembler;
  input: FragmentInput;
  /** The rebuilt datagram decoded again (reused). */
  scratch: Packet;
  /** Frame metadata for observing the rebuilt datagram (reused). */
  meta: FrameMeta;
}

export function createFragmentState(hop: HopState): FragmentState {
  return {
    reassembler: createReassembler({ onProblem: (problem) => onFragmentProblem(hop, problem) }),
    input: createFragmentInput(),
    scratch: createPacket(),
    meta: { number: 0, timeSec: 0, timeNs: 0, direction: 0, capturedLength: 0, linkType: 0 },
  };
}

function onFragmentProblem(hop: HopState, problem: FragmentProblem): void {
  const frame = problem.frame > 0 ? problem.frame : (problem.frames[0] ?? 0);
  let record: FindingRecord;
  if (problem.kind === 'overlap' && !problem.identical) {
    hop.fragments.overlaps++;
    record = noteFinding(hop.findings, 'fragment.overlap', 0, frame);
  } else if (problem.kind === 'too-big') {
    hop.fragments.tooBig++;
    record = noteFinding(hop.findings, 'fragment.too-big', 0, frame);
  } else if (problem.kind === 'timeout' || problem.kind === 'evicted') {
    if (problem.kind === 'timeout') hop.fragments.timedOut++;
    else hop.fragments.evicted++;
    record = noteFinding(hop.findings, 'fragment.incomplete', 0, frame);
    for (const f of problem.frames)
      if (record.evidence.length < 10 && !record.evidence.includes(f)) record.evidence.push(f);
  } else {
    return;
  }
  if (record.count === 1) record.facts.reason = problem.reason;
}

const TUNNEL_NAMES: Readonly<Record<number, string>> = {
  [Carrier.VXLAN]: 'VXLAN',
  [Carrier.GENEVE]: 'Geneve',
  [Carrier.GRE]: 'GRE',
  [Carrier.NVGRE]: 'NVGRE',
};

/** Feeds one fragment (level `index` of `packet`) to the reassembler and observes what completes. */
export function observeFragment(
  hop: HopState,
  frame: FrameMeta,
  packet: Packet,
  data: Uint8Array,
  index: number,
): void {
  const state = hop.reassembly;
  const level = packet.levels[index] as Level;
  hop.fragments.count++;
  if (level.ipTotalLength > hop.fragments.maxFragment) hop.fragments.maxFragment = level.ipTotalLength;
  if (level.fragmentOffset === 0) hop.fragments.datagrams++;
  const time = frame.timeSec + frame.timeNs / 1e9;
  if (!fillFragmentInput(state.input, data, packet.capturedEnd, level, frame.number, time)) return;
  const result = state.reassembler.add(state.input);
  if (result.status !== 'complete') return;
  hop.fragments.reassembled++;

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
  if (scratch.levelCount === 0) return;

  const meta = state.meta;
  meta.number = frame.number;
  meta.timeSec = frame.timeSec;
  meta.timeNs = frame.timeNs;
  meta.direction = frame.direction;
  meta.capturedLength = result.capturedPrefix;
  meta.linkType = frame.linkType;
  observeLevels(hop, meta, scratch, result.bytes, 0);
  noteFragmentedFlow(
    hop,
    scratch,
    result.bytes,
    result.length,
    result.frames,
    result.fragmentCount,
    frame.timeSec,
  );
}

function noteFragmentedFlow(
  hop: HopState,
  datagram: Packet,
  bytes: Uint8Array,
  length: number,
  frames: readonly number[],
  fragmentCount: number,
  nowSec: number,
): void {
  const outer = datagram.levels[0] as Level;
  const inner = datagram.levelCount > 1 ? (datagram.levels[1] as Level) : null;
  const tunnelled =
    inner !== null &&
    inner.carrier >= Carrier.VXLAN &&
    inner.carrier <= Carrier.NVGRE &&
    inner.ipVersion !== 0;
  const flowLevel = tunnelled && inner !== null ? inner : outer;
  const flow = flowLevel.ipVersion !== 0 ? lookupFlow(hop.flows, bytes, flowLevel, nowSec) : null;
  const code = tunnelled ? 'fragment.outer' : 'fragment.ip';
  let record: FindingRecord | null = null;
  for (let i = 0; i < fragmentCount; i++) {
    record = noteFinding(
      hop.findings,
      code,
      flow === null ? 0 : flow.id,
      frames[Math.min(i, frames.length - 1)] ?? 0,
    );
  }
  if (record === null) return;
  const facts = record.facts;
  if (record.count === fragmentCount) {
    record.flow = flow !== null ? describeFlow(flow, isFromA(flow, bytes, flowLevel)) : null;
    facts.datagrams = 0;
    facts.reassembled = 0;
    facts.maxFragment = 0;
    facts.outerSize = 0;
  }
  facts.reassembled = (facts.reassembled as number) + 1;
  facts.datagrams = (facts.datagrams as number) + 1;
  if (length > (facts.outerSize as number)) facts.outerSize = length;
  if (tunnelled && inner !== null) {
    const innerSize = inner.ipTotalLength;
    // Overhead counted against the underlay MTU: outer IP datagram minus the inner IP packet
    // (outer IP + UDP + tunnel header + inner Ethernet: 50 for VXLAN over IPv4).
    const overhead = length - innerSize;
    if (innerSize > ((facts.innerSize as number | undefined) ?? 0)) {
      facts.innerSize = innerSize;
      facts.innerPayload =
        inner.protocol === IpProto.TCP && inner.l4Offset >= 0 ? inner.payloadLength : innerSize;
      facts.overhead = overhead;
      facts.tunnel = TUNNEL_NAMES[inner.carrier] ?? 'tunnel';
      facts.innerHeaders = inner.ipHeaderLength + (inner.protocol === IpProto.TCP ? 20 : 8);
    }
  }
}

/** At the end of a capture: fragments still waiting are incomplete; fill the MTU facts. */
export function finishFragments(hop: HopState): void {
  hop.reassembly.reassembler.expire(Number.POSITIVE_INFINITY);
  const stats = hop.reassembly.reassembler.stats;
  hop.fragments.duplicates = stats.duplicates;
}
