/**
 * The report model: the analysis turned into the stable, documented JSON form (see README,
 * "JSON output"). Text and other renderers start from this model, so every output says the same.
 * Keys listed in the README never change meaning; new keys may be added.
 */

import { LinkType } from '../capture/frame.js';
import type { PathReport } from '../correlate/correlate.js';
import {
  catalogEntry,
  type FindingCode,
  fillTemplate,
  SEVERITY_RANK,
  type Severity,
} from '../findings/catalog.js';
import type { FindingRecord } from '../findings/store.js';
import type { HopState } from '../observe/hop.js';
import type { AnalysisResult } from '../pipeline/analyze.js';

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
  frames: number;
  bytes: number;
  linkTypes: string[];
  checksums: { good: number; partial: number; lco: number; zero: number; bad: number; unverifiable: number };
  superFrames: {
    count: number;
    maxPayload: number;
    mss: number | null;
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
  tunnels: { vxlan: number; geneve: number; gre: number };
  malformed: number;
  headersCut: number;
  flows: number;
}

export interface ReportFinding {
  code: FindingCode;
  severity: Severity;
  group: string;
  hop: string;
  flow: string | null;
  title: string;
  explanation: string;
  fix: string;
  count: number;
  evidence: Array<{ hop: string; frame: number }>;
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
  clockOffsets: Record<string, number>;
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

function reportHop(hop: HopState): ReportHop {
  const sf = hop.superFrames;
  const fr = hop.fragments;
  return {
    name: hop.name,
    kind: hop.kind,
    kindSource: hop.kindSource,
    mtu: hop.mtu,
    mtuSource: hop.mtuSource,
    frames: hop.frames,
    bytes: hop.bytes,
    linkTypes: hop.linkTypes.map(linkTypeName),
    checksums: { ...hop.checksums },
    superFrames: {
      count: sf.count,
      maxPayload: sf.maxPayload,
      mss: sf.mss > 0 ? sf.mss : null,
      outgoing: sf.outgoing,
      incoming: sf.incoming,
      unknownDirection: sf.unknownDirection,
    },
    fragments: {
      count: fr.count,
      datagrams: fr.datagrams,
      reassembled: fr.reassembled,
      maxFragment: fr.maxFragment,
      incomplete: fr.timedOut + fr.evicted,
      overlaps: fr.overlaps,
      tooBig: fr.tooBig,
    },
    pmtu: { messages: hop.pmtu.messages, minMtu: hop.pmtu.minMtu >= 0 ? hop.pmtu.minMtu : null },
    tunnels: { ...hop.tunnels },
    malformed: hop.malformed,
    headersCut: hop.headersCut,
    flows: hop.flows.nextId - 1,
  };
}

function reportFinding(record: FindingRecord): ReportFinding {
  const entry = catalogEntry(record.code);
  const facts = { count: record.count, ...record.facts };
  return {
    code: record.code,
    severity: entry.severity,
    group: entry.group,
    hop: record.hop,
    flow: record.flow,
    title: fillTemplate(entry.title, facts),
    explanation: fillTemplate(entry.explanation, facts),
    fix: fillTemplate(entry.fix, facts),
    count: record.count,
    evidence: record.evidenceHops ?? record.evidence.map((frame) => ({ hop: record.hop, frame })),
    ...(typeof record.facts.summary === 'string' ? { summary: record.facts.summary } : {}),
  };
}

export function buildReport(result: AnalysisResult, version: string): Report {
  const hopOrder = new Map(result.hops.map((hop, index) => [hop.name, index]));
  const records: FindingRecord[] = [...result.captureFindings];
  for (const hop of result.hops) {
    for (const byFlow of hop.findings.byCode) for (const record of byFlow.values()) records.push(record);
  }
  records.push(...result.correlation.findings);
  const findings = records.map(reportFinding);
  findings.sort(
    (a, b) =>
      SEVERITY_RANK[b.severity] - SEVERITY_RANK[a.severity] ||
      (hopOrder.get(a.hop) ?? -1) - (hopOrder.get(b.hop) ?? -1) ||
      a.code.localeCompare(b.code) ||
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
