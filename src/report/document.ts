/**
 * What the HTML and Markdown reports show, worked out once from the report model: the verdict,
 * the path of the busiest flow with what happened between its hops, the findings grouped (one
 * code and flow told once with its hops), the timeline. Every sentence comes from the catalogue
 * (REPORT_WORDS and the findings' own templates); the renderers only lay this out.
 */

import type { PathReport } from '../correlate/types.js';
import { type Facts, reportWords, SEVERITY_RANK, type Severity } from '../findings/catalog.js';
import { endpointText } from '../observe/flow-key.js';
import type { ReportContext } from './context.js';
import { type EvidenceFrame, type EvidenceTag, evidenceKey, GROUP_TAGS } from './evidence.js';
import { isoTime, type Report, type ReportFinding, type ReportHop } from './model.js';

export function n(value: number): string {
  return value.toLocaleString('en-US');
}

/** "1 hop", "10 hops". */
export function count(value: number, word: string): string {
  return `${n(value)} ${word}${value === 1 ? '' : 's'}`;
}

/** "10 captures · 10 hops · 7,525 frames · from … for 1.183 s": the report's size in one line. */
export function sizeLine(report: Report, doc: ReportDocument, separator: string): string {
  const parts = [
    count(report.captures.length, 'capture'),
    count(report.hops.length, 'hop'),
    count(doc.frames, 'frame'),
  ];
  if (doc.timeline.start !== null)
    parts.push(`from ${doc.timeline.start} for ${doc.timeline.span.toFixed(3)} s`);
  return parts.join(separator);
}

export interface VerdictProblem {
  text: string;
  fix: string;
  severity: Severity;
  anchor: string;
}

export interface Verdict {
  headline: string;
  problems: VerdictProblem[];
  fine: string[];
  /** False when nothing is wrong. */
  wrong: boolean;
}

export interface PathNode {
  hop: string;
  kind: string;
  mtu: number | null;
  mtuInferred: boolean;
  /** "TSO on", "GRO off": from the topology, when it recorded them. */
  offloads: string[];
  /** Largest frames seen for this flow here ("65,160 × 30"). */
  sizes: string;
  problem: boolean;
  /** Said under the hop (capture gaps, "still whole"). */
  notes: string[];
}

export interface EdgeLabel {
  text: string;
  /** This step is (part of) a problem: drawn red with a warning sign. */
  problem: boolean;
}

export interface PathEdge {
  labels: EdgeLabel[];
  /** Some label of the step is a problem. */
  problem: boolean;
}

function addLabel(edge: PathEdge | undefined, text: string, problem: boolean): void {
  if (edge === undefined) return;
  edge.labels.push({ text, problem });
  if (problem) edge.problem = true;
}

export interface PathPicture {
  flow: string;
  nodes: PathNode[];
  /** edges[i] lies between nodes[i] and nodes[i + 1]. */
  edges: PathEdge[];
  /** The picture in words (the SVG's text alternative, and the Markdown). */
  alt: string;
}

export interface GroupedFinding {
  anchor: string;
  first: ReportFinding;
  members: ReportFinding[];
  /** Evidence frames in order, each with the tags that matter for this finding. */
  evidence: Array<{ hop: string; frame: number; line: EvidenceFrame | null }>;
  tags: readonly EvidenceTag[];
}

export interface TimelineRow {
  anchor: string;
  label: string;
  severity: Severity;
  /** Seconds from the start of the captures (clock offsets applied when known). */
  start: number;
  end: number;
}

export interface Timeline {
  start: string | null;
  span: number;
  rows: TimelineRow[];
}

export interface ReportDocument {
  verdict: Verdict;
  path: PathPicture | null;
  hops: ReportHop[];
  groups: GroupedFinding[];
  timeline: Timeline;
  frames: number;
  /** Flows after the busiest one that crossed two or more hops (at most OTHER_PATHS). */
  otherPaths: PathPicture[];
  /** Flows left out beyond those. */
  morePaths: number;
}

const OTHER_PATHS = 9;

/** "host1-vxlan-97 → host1-phy0: split into 45 × 1,448" for each step of a path where something happened. */
export function pathSteps(path: PathPicture): Array<{ text: string; problem: boolean }> {
  const steps: Array<{ text: string; problem: boolean }> = [];
  path.edges.forEach((edge, i) => {
    for (const label of edge.labels) {
      steps.push({
        text: reportWords('pathStep', {
          from: path.nodes[i]?.hop ?? '',
          to: path.nodes[i + 1]?.hop ?? '',
          what: label.text,
        }),
        problem: label.problem,
      });
    }
  });
  for (const node of path.nodes) {
    for (const note of node.notes)
      steps.push({ text: reportWords('hopStep', { hop: node.hop, what: note }), problem: false });
  }
  return steps;
}

function anchorOf(code: string, index: number): string {
  return `finding-${code.replace(/[^a-z0-9]+/g, '-')}-${index + 1}`;
}

/** Findings with the same code and flow at several hops are told once, with the hops listed. */
export function groupFindings(report: Report, context: ReportContext): GroupedFinding[] {
  const groups = new Map<string, { first: ReportFinding; members: ReportFinding[] }>();
  for (const finding of report.findings) {
    const key = `${finding.code}\u0000${finding.flow ?? ''}`;
    const group = groups.get(key);
    if (group === undefined) groups.set(key, { first: finding, members: [finding] });
    else group.members.push(finding);
  }
  return [...groups.values()].map(({ first, members }, index) => {
    const seen = new Set<string>();
    const evidence: GroupedFinding['evidence'] = [];
    for (const member of members) {
      for (const { hop, frame } of member.evidence) {
        const key = evidenceKey(hop, frame);
        if (seen.has(key)) continue;
        seen.add(key);
        evidence.push({ hop, frame, line: context.evidence[key] ?? null });
      }
    }
    return {
      anchor: anchorOf(first.code, index),
      first,
      members,
      evidence,
      tags: GROUP_TAGS[first.group] ?? [],
    };
  });
}

function hopList(names: Iterable<string>): string[] {
  return [...new Set(names)];
}

/** `hops`: the report's hops in path order, as the hop cards show them, so the lists read along the path. */
function buildVerdict(
  report: Report,
  groups: GroupedFinding[],
  frames: number,
  hops: readonly Report['hops'][number][],
): Verdict {
  // The same problem in several flows (same title and fix) is one line of the verdict.
  const alike = new Map<string, GroupedFinding[]>();
  for (const g of groups) {
    if (SEVERITY_RANK[g.first.severity] < SEVERITY_RANK.warn) continue;
    const key = `${g.first.title}\u0000${g.first.fix}`;
    alike.set(key, [...(alike.get(key) ?? []), g]);
  }
  // A capture that could not be read at all (no format recognised): nothing of it was analysed.
  const unreadable: VerdictProblem[] = report.captures
    .filter((c) => c.format === null && c.errors.length > 0)
    .map((c) => ({
      text: reportWords('unreadable', { path: c.path, error: c.errors[0] ?? '' }),
      fix: reportWords('unreadableFix', {}),
      severity: 'error',
      anchor: 'environment',
    }));
  const problems = [...alike.values()].map((same) => {
    const g = same[0] as GroupedFinding;
    const hops = hopList(same.flatMap((s) => s.members.map((m) => m.hop)));
    const flows = new Set(same.map((s) => s.first.flow).filter((f) => f !== null)).size;
    return {
      text: reportWords(flows > 1 ? 'wrongFlows' : 'wrong', { title: g.first.title, hops, flows: n(flows) }),
      fix: g.first.fix,
      severity: g.first.severity,
      anchor: g.anchor,
    };
  });
  const fine: string[] = [];
  const offloadHops = hops.filter((h) => h.checksums.partial + h.checksums.lco > 0);
  if (offloadHops.length > 0) {
    const kinds: string[] = [];
    if (offloadHops.some((h) => h.checksums.partial > 0)) kinds.push('transmit offload');
    if (offloadHops.some((h) => h.checksums.lco > 0)) kinds.push('local checksum offload');
    if (report.findings.some((f) => f.code === 'checksum.gro-merged')) kinds.push('GRO merges');
    fine.push(
      reportWords('fineChecksums', {
        count: n(offloadHops.reduce((sum, h) => sum + h.checksums.partial + h.checksums.lco, 0)),
        hops: offloadHops.map((h) => h.name),
        kinds,
      }),
    );
  }
  const superHops = hops.filter((h) => h.superFrames.count > 0);
  if (superHops.length > 0) {
    fine.push(
      reportWords('fineSuperFrames', {
        count: n(superHops.reduce((sum, h) => sum + h.superFrames.count, 0)),
        hops: superHops.map((h) => h.name),
      }),
    );
  }
  const split = report.paths[0]?.splitAt;
  if (split !== undefined && split !== null) {
    fine.push(
      reportWords('fineSplit', {
        segmentSize: n(split.segmentSize),
        from: split.from,
        to: split.to,
        mechanism: split.mechanism,
      }),
    );
  }
  problems.unshift(...unreadable);
  if (problems.length === 0) {
    fine.push(
      reportWords('noWrong', { frames: count(frames, 'frame'), hops: count(report.hops.length, 'hop') }),
    );
  }
  const headline = reportWords('headline', {
    problems: problems.length,
    first:
      unreadable[0] !== undefined
        ? unreadable[0].text
        : problems[0] !== undefined
          ? (groups.find((g) => g.anchor === problems[0]?.anchor)?.first.title ?? '')
          : '',
  });
  return { headline, problems, fine, wrong: problems.length > 0 };
}

function largestSizes(sizes: ReadonlyArray<{ size: number; frames: number }>): string {
  return sizes
    .slice(0, 2)
    .map((s) => `${n(s.size)} × ${n(s.frames)}`)
    .join(', ');
}

function offloadWords(context: ReportContext, hop: string, short: ReadonlyArray<[string, string]>): string[] {
  const features = context.offloads[hop];
  if (features === undefined) return [];
  return short
    .filter(([name]) => features[name] !== undefined)
    .map(([name, label]) => `${label} ${features[name]}`);
}

/** The offload features shown in the picture (the others are in the hop table). */
const PICTURE_OFFLOADS: ReadonlyArray<[string, string]> = [
  ['tcp-segmentation-offload', 'TSO'],
  ['generic-receive-offload', 'GRO'],
  ['tx-udp_tnl-segmentation', 'tnl-TSO'],
];

function buildPath(
  report: Report,
  context: ReportContext,
  groups: GroupedFinding[],
  path: PathReport | undefined,
): PathPicture | null {
  const hopByName = new Map(report.hops.map((h) => [h.name, h]));
  const names = path !== undefined ? path.hops.map((h) => h.hop) : report.hops.map((h) => h.name);
  // One hop is no path: the hop table says everything about it.
  if (names.length < 2) return null;
  const flow = path?.flow ?? null;
  // A finding's flow names its VNI after the flow ("... (VNI 97)"); the path's does not.
  const onPath = (f: ReportFinding) =>
    f.flow === null || flow === null || f.flow === flow || f.flow.startsWith(`${flow} (`);
  const problemHops = new Set(
    groups
      .filter((g) => SEVERITY_RANK[g.first.severity] >= SEVERITY_RANK.warn)
      .flatMap((g) => g.members.filter(onPath).map((m) => m.hop)),
  );
  const nodes: PathNode[] = names.map((name) => {
    const hop = hopByName.get(name);
    const sizes = path?.hops.find((h) => h.hop === name)?.sizes ?? [];
    return {
      hop: name,
      kind: hop?.kind ?? 'unknown',
      mtu: hop?.mtu ?? null,
      mtuInferred: hop?.mtuSource === 'inferred',
      offloads: offloadWords(context, name, PICTURE_OFFLOADS),
      sizes: largestSizes(sizes),
      problem: problemHops.has(name),
      notes: [],
    };
  });
  const edges: PathEdge[] = names.slice(1).map(() => ({ labels: [], problem: false }));
  const edgeAt = (from: string, to: string | null): PathEdge | undefined => {
    const i = names.indexOf(from);
    const j = to === null ? -1 : names.indexOf(to);
    if (i < 0) return undefined;
    // Hops between from and to that were not captured for this flow: the edge just before `to`.
    return edges[j > i ? j - 1 : i];
  };
  if (path !== undefined) {
    const split = path.splitAt;
    if (split !== null) {
      const fromSizes = path.hops.find((h) => h.hop === split.from)?.sizes ?? [];
      const biggest = Math.max(0, ...fromSizes.map((s) => s.size));
      if (split.to !== null && split.mechanism !== 'not-split') {
        addLabel(
          edgeAt(split.from, split.to),
          reportWords('edgeSplit', {
            segments: n(Math.ceil(biggest / split.segmentSize)),
            segmentSize: n(split.segmentSize),
          }),
          false,
        );
      } else {
        nodes
          .find((node) => node.hop === split.from)
          ?.notes.push(reportWords('edgeNotSplit', { mechanism: split.mechanism }));
      }
    }
    if (path.mergedAt !== null) {
      addLabel(
        edgeAt(path.mergedAt.from, path.mergedAt.to),
        reportWords('edgeMerged', { maxPayload: n(path.mergedAt.maxPayload) }),
        false,
      );
    }
    const fragmented = path.fragmentedAt;
    if (fragmented !== null) {
      const at = names.indexOf(fragmented.hop);
      const facts = report.findings.find(
        (f) => f.code === 'fragment.outer' && f.hop === fragmented.hop && onPath(f),
      )?.facts;
      addLabel(
        at > 0 ? edges[at - 1] : undefined,
        reportWords('edgeFragmented', fragmentFacts(facts, fragmented.mtu)),
        true,
      );
    }
    if (path.lostAt !== null) {
      addLabel(
        edgeAt(path.lostAt.from, path.lostAt.to),
        reportWords('edgeLost', { frames: n(path.lostAt.frames), bytes: n(path.lostAt.bytes) }),
        true,
      );
    }
    for (const gap of path.gaps) {
      nodes
        .find((node) => node.hop === gap.hop)
        ?.notes.push(reportWords('hopGap', { frames: n(gap.frames) }));
    }
    for (const finding of report.findings) {
      if (!onPath(finding) || finding.flow === null) continue;
      const from = typeof finding.facts.from === 'string' ? finding.facts.from : null;
      const to = typeof finding.facts.to === 'string' ? finding.facts.to : null;
      if (from === null || to === null) continue;
      if (finding.code === 'mtu.black-hole') {
        addLabel(edgeAt(from, to), reportWords('edgeBlackHole', blackHoleFacts(finding.facts)), true);
      } else if (finding.code === 'loss.between-hops' && path.lostAt === null) {
        // Losses TCP repaired (retransmitted) are findings without a lostAt on the path.
        const facts = finding.facts;
        addLabel(
          edgeAt(from, to),
          reportWords('edgeLost', {
            frames: n(Number(facts.frames ?? 0)),
            bytes: n(Number(facts.bytes ?? 0)),
          }),
          true,
        );
      } else if (finding.code === 'nat.between-hops') {
        addLabel(edgeAt(from, to), reportWords('edgeNat', {}), false);
      }
    }
  }
  const firstProblem = groups.find((g) => SEVERITY_RANK[g.first.severity] >= SEVERITY_RANK.warn);
  const alt = reportWords('pathAlt', {
    flow: flow ?? 'the captures',
    hops: nodes
      .map((node, i) => {
        const hop = reportWords('pathHop', {
          hop: node.hop,
          kind: node.kind,
          mtu: node.mtu !== null ? n(node.mtu) : null,
        });
        const labels = edges[i]?.labels ?? [];
        if (i === nodes.length - 1) return hop;
        return (
          hop +
          (labels.length > 0
            ? reportWords('pathEdge', { labels: labels.map((label) => label.text).join('; ') })
            : ' → ')
        );
      })
      .join(''),
    problemHop: firstProblem?.first.hop ?? null,
    problemText: firstProblem?.first.title ?? '',
  });
  return { flow: flow ?? 'all captured hops', nodes, edges, alt };
}

/**
 * The largest payload the underlay carries (the MSS clamp's payload, from its MTU and the
 * encapsulation), and the largest segment seen passing, when it says something else.
 */
function blackHoleFacts(facts: Facts): Facts {
  const passing = typeof facts.largestPassing === 'number' ? facts.largestPassing : null;
  const limit = typeof facts.clampPayload === 'number' ? facts.clampPayload : passing;
  return {
    limit: limit !== null ? n(limit) : '?',
    largestPassing: passing !== null && passing !== limit ? n(passing) : null,
  };
}

/** "1,396 + 174": the first and the last fragment of a full-size outer packet (IPv4 underlay). */
function fragmentFacts(facts: Facts | undefined, mtu: number | null): Facts {
  const outerSize = Number(facts?.outerSize ?? 0);
  const first = Number(facts?.maxFragment ?? 0);
  const header = Number(facts?.outerHeader ?? 0);
  const last = outerSize - first + header;
  // Two fragments only: a larger packet makes more, and "a + b" would not say it.
  const two = header > 0 && first > 0 && last > header && last <= first;
  return {
    outerSize: n(outerSize),
    mtu: mtu !== null ? n(mtu) : '?',
    firstFragment: two ? n(first) : null,
    lastFragment: two ? n(last) : null,
  };
}

function buildTimeline(report: Report, groups: GroupedFinding[]): Timeline {
  const offset = (hop: string) => report.clockOffsets[hop] ?? 0;
  const seconds = (iso: string | null, hop: string) =>
    iso === null ? null : Date.parse(iso) / 1000 - offset(hop);
  const starts = report.hops.map((h) => seconds(h.firstSeen, h.name)).filter((t): t is number => t !== null);
  const ends = report.hops.map((h) => seconds(h.lastSeen, h.name)).filter((t): t is number => t !== null);
  if (starts.length === 0) return { start: null, span: 0, rows: [] };
  const start = Math.min(...starts);
  const span = Math.max(0, Math.max(...ends) - start);
  const rows: TimelineRow[] = [];
  for (const group of groups) {
    const firsts = group.members
      .map((m) => seconds(m.firstSeen, m.hop))
      .filter((t): t is number => t !== null);
    const lasts = group.members.map((m) => seconds(m.lastSeen, m.hop)).filter((t): t is number => t !== null);
    if (firsts.length === 0) continue;
    // The flow in short (source port, destination): the code already says what it is about.
    const key = group.first.flowKey;
    const where =
      key !== null
        ? `:${key.srcPort} → ${endpointText(key.dst, key.ipVersion, key.dstPort)}`
        : group.members.length > 1
          ? `${group.members.length} hops`
          : group.first.hop;
    rows.push({
      anchor: group.anchor,
      label: `${group.first.code} · ${where}`,
      severity: group.first.severity,
      start: Math.min(...firsts) - start,
      end: Math.max(...(lasts.length > 0 ? lasts : firsts)) - start,
    });
  }
  // On the reference hop's clock, which a hostile capture may put past any date: then no start.
  return { start: isoTime(start), span, rows };
}

export function buildDocument(report: Report, context: ReportContext): ReportDocument {
  const frames = report.hops.reduce((sum, hop) => sum + hop.frames, 0);
  const groups = groupFindings(report, context);
  const path = buildPath(report, context, groups, report.paths[0]);
  // The next busiest flows, told in words: what happened along each.
  const otherPaths = report.paths
    .slice(1, 1 + OTHER_PATHS)
    .map((p) => buildPath(report, context, groups, p))
    .filter((p): p is PathPicture => p !== null);
  const order = path?.nodes.map((node) => node.hop) ?? [];
  const rank = (name: string) => {
    const at = order.indexOf(name);
    return at < 0 ? order.length : at;
  };
  const hops = report.hops
    .map((hop, index) => ({ hop, index }))
    .sort((a, b) => rank(a.hop.name) - rank(b.hop.name) || a.index - b.index)
    .map(({ hop }) => hop);
  return {
    verdict: buildVerdict(report, groups, frames, hops),
    path,
    hops,
    groups,
    timeline: buildTimeline(report, groups),
    frames,
    otherPaths,
    morePaths: Math.max(0, report.paths.length - 1 - otherPaths.length),
  };
}
