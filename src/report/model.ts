/**
 * The report model: the analysis turned into the stable, documented JSON form (see README,
 * "JSON output"). Text and other renderers start from this model, so every output says the same.
 * Keys listed in the README never change meaning; new keys may be added.
 */

import { LinkType } from '../capture/frame.js';
import type { PathReport } from '../correlate/types.js';
import {
  CAPTURE_DROPS_NOTE,
  catalogEntry,
  type Facts,
  type FindingCode,
  type FindingScope,
  fillTemplate,
  SEVERITY_RANK,
  type Severity,
} from '../findings/catalog.js';
import type { FindingRecord } from '../findings/store.js';
import { type FlowKey, formatFlow } from '../observe/flow-key.js';
import { FRAME_SIZE_BOUNDS } from '../observe/hop.js';
import { type HopView, hopFindings } from '../observe/hop-view.js';
import type { AnalysisResult } from '../pipeline/session.js';

export const REPORT_VERSION = 1;

export interface ReportCapture {
  path: string;
  /** The capture's hop (the first, when a pcapng holds several interfaces); null when unreadable. */
  hop: string | null;
  hops: string[];
  format: string | null;
  compressed: boolean;
  linkTypes: string[];
  frames: number;
  snaplen: number | null;
  errors: string[];
}

export interface ReportHop {
  name: string;
  kind: string;
  kindSource: string;
  mtu: number | null;
  mtuSource: string | null;
  /** Offload features ethtool -k reported for the device (live captures only; absent otherwise). */
  offloads?: Record<string, string>;
  frames: number;
  bytes: number;
  linkTypes: string[];
  checksums: { good: number; partial: number; lco: number; zero: number; bad: number; unverifiable: number };
  superFrames: {
    count: number;
    maxPayload: number;
    mss: number | null;
    /** Of them, UDP datagrams (UDP GSO/GRO). */
    udp: number;
    outgoing: number;
    incoming: number;
    unknownDirection: number;
  };
  fragments: {
    count: number;
    datagrams: number;
    reassembled: number;
    maxFragment: number;
    incomplete: number;
    overlaps: number;
    tooBig: number;
  };
  pmtu: { messages: number; minMtu: number | null };
  tunnels: { vxlan: number; geneve: number; gre: number; ipip: number };
  malformed: number;
  headersCut: number;
  flows: number;
  /**
   * Frames by wire length (link header included), the non-empty buckets in size order: `min` to
   * `max` bytes (max null: longer than the largest bound).
   */
  frameSizes: Array<{ min: number; max: number | null; frames: number }>;
  /** Capture time of the hop's first and last frame (ISO 8601, the hop's clock), when known. */
  firstSeen: string | null;
  lastSeen: string | null;
}

export interface ReportFinding {
  code: FindingCode;
  severity: Severity;
  group: string;
  /** What the finding is about: a capture file, a hop, a flow at a hop, or a flow along its path. */
  scope: FindingScope;
  hop: string;
  /** The flow in words ("TCP 10.0.0.1:1234 -> 10.0.0.2:80 (VNI 97)"), and as data. */
  flow: string | null;
  flowKey: FlowKey | null;
  title: string;
  explanation: string;
  fix: string;
  count: number;
  evidence: Array<{ hop: string; frame: number }>;
  /** The numbers, hop names and enums the words were made from (for scripts: no English to parse). */
  facts: Facts;
  /** Facts hopscope computed or assumed rather than read off the wire (Wireshark's generated fields). */
  derived: string[];
  /** Capture time of the first and the last occurrence (ISO 8601, the hop's clock), when known. */
  firstSeen: string | null;
  lastSeen: string | null;
  /** One sentence for the terminal summary, when the finding has one. */
  summary?: string;
}

export interface Report {
  version: number;
  tool: { name: 'hopscope'; version: string };
  captures: ReportCapture[];
  hops: ReportHop[];
  findings: ReportFinding[];
  /** Per flow seen at two or more hops: the hops in path order and what changed between them. */
  paths: PathReport[];
  /** Estimated clock offset of each hop against the reference hop, in seconds (derived). */
  clockOffsets: Record<string, number | null>;
}

const LINK_TYPE_NAMES: Readonly<Record<number, string>> = {
  [LinkType.NULL]: 'null',
  [LinkType.ETHERNET]: 'ethernet',
  [LinkType.RAW]: 'raw',
  [LinkType.LOOP]: 'loop',
  [LinkType.LINUX_SLL]: 'linux-sll',
  [LinkType.IPV4]: 'ipv4',
  [LinkType.IPV6]: 'ipv6',
  [LinkType.LINUX_SLL2]: 'linux-sll2',
};

export function linkTypeName(linkType: number): string {
  return LINK_TYPE_NAMES[linkType] ?? `linktype-${linkType}`;
}

function reportHop(view: HopView): ReportHop {
  const hop = view.state;
  const sf = hop.superFrames;
  const fr = hop.fragments;
  return {
    name: view.name,
    kind: view.kind,
    kindSource: view.kindSource,
    mtu: view.mtu,
    mtuSource: view.mtuSource,
    ...(view.offloads !== undefined ? { offloads: { ...view.offloads } } : {}),
    frames: hop.frames,
    bytes: hop.bytes,
    linkTypes: hop.linkTypes.map(linkTypeName),
    checksums: { ...hop.checksums.counts },
    superFrames: {
      count: sf.count,
      maxPayload: sf.maxPayload,
      mss: sf.mss > 0 ? sf.mss : null,
      udp: sf.udp,
      outgoing: sf.outgoing,
      incoming: sf.incoming,
      unknownDirection: sf.unknownDirection,
    },
    fragments: {
      count: fr.count,
      datagrams: fr.datagrams,
      reassembled: fr.reassembled,
      maxFragment: fr.maxFragment,
      incomplete: fr.timedOut + fr.evicted + fr.retired,
      overlaps: fr.overlaps,
      tooBig: fr.tooBig,
    },
    pmtu: { messages: hop.pmtu.messages, minMtu: hop.pmtu.minMtu >= 0 ? hop.pmtu.minMtu : null },
    tunnels: { ...hop.tunnels },
    malformed: hop.malformed,
    headersCut: hop.headersCut,
    flows: hop.flows.nextId - 1,
    frameSizes: frameSizes(hop.frameSizes),
    firstSeen: hop.firstTime >= 0 ? isoTime(hop.firstTime) : null,
    lastSeen: hop.lastTime >= 0 ? isoTime(hop.lastTime) : null,
  };
}

function frameSizes(counts: Uint32Array): ReportHop['frameSizes'] {
  const out: ReportHop['frameSizes'] = [];
  for (let i = 0; i < counts.length; i++) {
    const frames = counts[i] as number;
    if (frames === 0) continue;
    const min = i === 0 ? 0 : (FRAME_SIZE_BOUNDS[i - 1] as number) + 1;
    out.push({ min, max: FRAME_SIZE_BOUNDS[i] ?? null, frames });
  }
  return out;
}

/** Latest instant a Date holds (ECMA-262: 8.64e15 ms); a hostile capture's timestamps may lie beyond. */
const LAST_DATE_SEC = 8.64e12;

/**
 * Seconds since the epoch as ISO 8601, or null before 1970 or past what a Date holds: a capture's
 * timestamps, or one corrected by a clock offset measured between two such, may be anywhere.
 */
export function isoTime(seconds: number): string | null {
  if (!(seconds >= 0 && seconds <= LAST_DATE_SEC)) return null;
  return new Date(Math.round(seconds * 1000)).toISOString();
}

/** The hops a finding speaks of: its own, the two ends of a path verdict, its evidence. */
function findingHops(record: FindingRecord): Set<string> {
  const hops = new Set([record.hop]);
  for (const key of ['from', 'to']) {
    const value = record.facts[key];
    if (typeof value === 'string') hops.add(value);
  }
  for (const e of record.evidenceHops ?? []) hops.add(e.hop);
  return hops;
}

function reportFinding(record: FindingRecord, drops: ReadonlyMap<string, number>): ReportFinding {
  const entry = catalogEntry(record.code);
  const facts: Facts = { count: record.count, ...record.facts };
  const dropped =
    record.code === 'capture.dropped' ? [] : [...findingHops(record)].filter((h) => drops.has(h));
  if (dropped.length > 0) {
    facts.captureDroppedAt = dropped;
    facts.captureDropped = dropped.reduce((sum, hop) => sum + (drops.get(hop) ?? 0), 0);
  }
  const phrases = entry.phrases ?? {};
  const summary = entry.summary !== undefined ? fillTemplate(entry.summary, facts, phrases) : '';
  return {
    code: record.code,
    severity: entry.severity,
    group: entry.group,
    scope: record.scope ?? (entry.scope === 'hop' && record.flow !== null ? 'flow' : entry.scope),
    hop: record.hop,
    flow: record.flow !== null ? formatFlow(record.flow) : null,
    flowKey: record.flow,
    title: fillTemplate(entry.title, facts, phrases),
    explanation:
      fillTemplate(entry.explanation, facts, phrases) +
      (dropped.length > 0 ? fillTemplate(CAPTURE_DROPS_NOTE, facts, phrases) : ''),
    fix: fillTemplate(entry.fix, facts, phrases),
    count: record.count,
    evidence: record.evidenceHops ?? record.evidence.map((frame) => ({ hop: record.hop, frame })),
    facts,
    derived: record.derived,
    firstSeen: isoTime(record.firstTime),
    lastSeen: isoTime(record.lastTime),
    ...(summary !== '' ? { summary } : {}),
  };
}

/**
 * Finding codes in code-unit order. Codes are lowercase ASCII (`segment.super-frame`), for which
 * this is the order localeCompare gives, without its first call building ICU's collator (~5 ms of
 * every run; test/report/code-order.test.ts checks the two agree on the catalogue).
 */
export function compareCodes(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

export function buildReport(result: AnalysisResult, version: string): Report {
  const hopOrder = new Map(result.hops.map((hop, index) => [hop.name, index]));
  const records: FindingRecord[] = [...result.captureFindings];
  for (const hop of result.hops) records.push(...hopFindings(hop));
  records.push(...result.correlation.findings);
  // Hops whose capture dropped frames: every verdict drawn there says so.
  const drops = new Map<string, number>();
  for (const record of result.captureFindings)
    if (record.code === 'capture.dropped') drops.set(record.hop, (drops.get(record.hop) ?? 0) + record.count);
  const findings = records.map((record) => reportFinding(record, drops));
  findings.sort(
    (a, b) =>
      SEVERITY_RANK[b.severity] - SEVERITY_RANK[a.severity] ||
      (hopOrder.get(a.hop) ?? -1) - (hopOrder.get(b.hop) ?? -1) ||
      compareCodes(a.code, b.code) ||
      b.count - a.count,
  );
  return {
    version: REPORT_VERSION,
    tool: { name: 'hopscope', version },
    captures: result.captures.map((c) => ({
      path: c.path,
      hop: c.hops[0] ?? null,
      hops: c.hops,
      format: c.format,
      compressed: c.compressed,
      linkTypes: c.linkTypes.map(linkTypeName),
      frames: c.frames,
      snaplen: c.snaplen,
      errors: c.errors,
    })),
    hops: result.hops.map(reportHop),
    findings,
    paths: result.correlation.paths,
    clockOffsets: result.correlation.clockOffsets,
  };
}
