/**
 * Correlation: the same TCP data followed across hops.
 *
 * Each hop keeps, per flow and direction, a bounded trace (observe/trace.ts). Whenever a report is
 * made (once for files, again and again for a live session), from those traces:
 * 1. Clock offsets between captures (clock.ts).
 * 2. The order of the hops per flow (order.ts): by how long each hop's data waits for its ACK,
 *    unless --path or a topology file gives the order.
 * 3. What changed between neighbouring hops: super-frames split or merged (segmentation.ts),
 *    outer fragmentation and the MTU arithmetic (mtu.ts), data lost between hops or missed by one
 *    capture point (loss.ts), where checksums are partial (checksums.ts), and which capture
 *    points the topology lists but nobody captured.
 * Nothing here changes the traces: correlating twice gives the same answer.
 */

import type { FindingRecord } from '../findings/store.js';
import { type FlowKey, formatFlow, reverseFlow } from '../observe/flow-key.js';
import { namedTrace } from '../observe/flows.js';
import type { HopView } from '../observe/hop-view.js';
import { type FlowTrace, topSizes, traceSamples } from '../observe/trace.js';
import { mtuBlackHole } from './blackhole.js';
import { checksumsAlongPath } from './checksums.js';
import { estimateClocks } from './clock.js';
import { coverageFrom, span } from './coverage.js';
import { pathFinding } from './finding.js';
import { lossAndGaps } from './loss.js';
import { estimateMss } from './mss.js';
import { overlayMtu } from './mtu.js';
import { type Group, type JoinedGroup, joinTranslated } from './nat.js';
import { orderHops, type Seen, type Sides, sidesOf } from './order.js';
import { type PathShape, splitAndMerge, superCount } from './segmentation.js';
import type { Correlation, CorrelationOptions, PathReport } from './types.js';

export type { Correlation, CorrelationOptions, PathHop, PathReport } from './types.js';

/** Every flow trace of a hop (the same 5-tuple twice when two tenants use it in two VNIs). */
function tracesOf(hop: HopView): FlowTrace[] {
  const out: FlowTrace[] = [];
  for (const bucket of hop.state.flows.byHash.values()) {
    for (const entry of bucket) {
      const trace = namedTrace(entry);
      if (trace !== null) out.push(trace);
    }
  }
  return out;
}

/** The traces by key for clock estimation: a key a hop holds twice (two tenants) is left out. */
function uniqueByKey(traces: readonly FlowTrace[]): Map<string, FlowTrace> {
  const map = new Map<string, FlowTrace>();
  const twice = new Set<string>();
  for (const t of traces) {
    if (map.has(t.key)) twice.add(t.key);
    else map.set(t.key, t);
  }
  for (const key of twice) map.delete(key);
  return map;
}

/** Flows used to estimate clocks: the busiest ones are plenty, and keep the pairwise work small. */
const CLOCK_FLOWS = 64;
/** Connections looked for on both sides of a NAT (busiest first). */
const NAT_CANDIDATES = 2000;
/** Flows drawn as paths (busiest first); a capture of a million short flows does not need a million paths. */
const MAX_PATHS = 500;

/**
 * One 5-tuple's traces, split into connections when a hop holds it twice (two tenants, one VNI
 * each, with the same addresses): traces belong together when their sequence spaces meet
 * (independent connections start at unrelated random sequence numbers). Otherwise one group, as
 * the key says.
 */
function splitTenants(seen: Seen[]): Seen[][] {
  const hops = new Set(seen.map((s) => s.hop));
  if (hops.size === seen.length) return [seen];
  const volume = (s: Seen) => s.trace.fromA.bytes + s.trace.fromB.bytes;
  const clusters: Seen[][] = [];
  for (const s of [...seen].sort((x, y) => volume(y) - volume(x))) {
    const home = clusters.find(
      (c) => c.every((o) => o.hop !== s.hop) && c.some((o) => sameConnection(o.trace, s.trace)),
    );
    if (home !== undefined) home.push(s);
    else clusters.push([s]);
  }
  return clusters;
}

/** Data in either direction within a megabyte of each other's sequence space. */
function sameConnection(a: FlowTrace, b: FlowTrace): boolean {
  const pairs = [
    [a.fromA, b.fromA],
    [a.fromB, b.fromB],
  ] as const;
  for (const [da, db] of pairs) {
    if (da.base < 0 || db.base < 0) continue;
    const sa = span(coverageFrom(da, da.base));
    const sb = span(coverageFrom(db, da.base));
    if (sa === null || sb === null) continue;
    if (Math.max(sa[0], sb[0]) <= Math.min(sa[1], sb[1]) + 1_048_576) return true;
  }
  return false;
}

function busiest(traces: Map<string, FlowTrace>, limit: number): Map<string, FlowTrace> {
  if (traces.size <= limit) return traces;
  const volume = (t: FlowTrace) => traceSamples(t);
  return new Map([...traces].sort((a, b) => volume(b[1]) - volume(a[1])).slice(0, limit));
}

export function correlate(hops: readonly HopView[], options: CorrelationOptions = {}): Correlation {
  const traces = new Map<HopView, FlowTrace[]>();
  for (const hop of hops) traces.set(hop, tracesOf(hop));
  const active = hops.filter((hop) => (traces.get(hop)?.length ?? 0) > 0);
  const clockTraces = new Map<HopView, Map<string, FlowTrace>>();
  for (const hop of active)
    clockTraces.set(hop, busiest(uniqueByKey(traces.get(hop) as FlowTrace[]), CLOCK_FLOWS));
  const offsets = estimateClocks(active, clockTraces);
  const byFlow = new Map<string, Seen[]>();
  for (const hop of active) {
    for (const trace of traces.get(hop) as FlowTrace[]) {
      const list = byFlow.get(trace.key);
      if (list === undefined) byFlow.set(trace.key, [{ hop, trace }]);
      else list.push({ hop, trace });
    }
  }
  const groups: Group[] = [];
  for (const group of byFlow.values()) {
    const clusters = splitTenants(group);
    for (const seen of clusters) groups.push({ seen, tenants: clusters.length > 1 });
  }
  // The busiest connections are looked for on both sides of a NAT; the rest pass as they are.
  const volume = (g: Group) => g.seen.reduce((n, s) => n + s.trace.fromA.bytes + s.trace.fromB.bytes, 0);
  groups.sort((x, y) => volume(y) - volume(x));
  const joined: JoinedGroup[] = [
    ...joinTranslated(groups.slice(0, NAT_CANDIDATES)),
    ...groups.slice(NAT_CANDIDATES).map((g) => ({ ...g, translations: null })),
  ];
  const shared: Array<JoinedGroup & { bytesA: number; bytesB: number }> = [];
  for (const group of joined) {
    if (group.seen.length < 2) continue;
    let bytesA = 0;
    let bytesB = 0;
    for (const s of group.seen) {
      bytesA += s.trace.fromA.bytes;
      bytesB += s.trace.fromB.bytes;
    }
    if (bytesA + bytesB > 0) shared.push({ ...group, bytesA, bytesB });
  }
  shared.sort((x, y) => Math.max(y.bytesA, y.bytesB) - Math.max(x.bytesA, x.bytesB));
  const paths: Array<PathReport & { totalBytes: number }> = [];
  const findings: FindingRecord[] = [];
  for (const { seen, bytesA, bytesB, tenants, translations } of shared.slice(0, MAX_PATHS)) {
    const aSends = bytesA >= bytesB;
    const first = (seen[0] as Seen).trace.flow as FlowKey;
    // Two tenants with one 5-tuple are two paths, told apart by the tunnel id the underlay hops
    // saw each in.
    const vnis = new Set(seen.map((s) => s.trace.vni).filter((v) => v >= 0));
    const keyed = tenants && vnis.size === 1 ? { ...first, vni: [...vnis][0] as number } : first;
    const flow = aSends ? keyed : reverseFlow(keyed);
    const { order, orderedBy, contradictedBy } = orderHops(seen, offsets, aSends, options);
    const report = describePath(flow, order, orderedBy, aSends, findings);
    if (translations !== null) noteTranslation(order, translations, aSends, flow, findings);
    // Captures that missed much of the data stretch the waits that contradict the given order:
    // the order given is then the better evidence, and nothing is said against it.
    if (contradictedBy !== undefined && lossyHops(report).length === 0) {
      const sides = order.map((s) => sidesOf(s.trace, aSends).data);
      findings.push(
        pathFinding(
          'capture.order-contradicted',
          (order[0] as Seen).hop.name,
          flow,
          1,
          {
            source: orderedBy,
            given: order.map((s) => s.hop.name),
            evidence: contradictedBy.map((s) => s.hop.name),
          },
          [],
          sides,
          ['evidence'],
        ),
      );
    }
    if (report.orderedBy === 'evidence') noteUncertainOrder(report, order, aSends, findings);
    if (options.expected !== undefined) noteMissingHops(report, options.expected, hops, findings);
    paths.push({ ...report, totalBytes: Math.max(bytesA, bytesB) });
  }
  paths.sort((a, b) => b.totalBytes - a.totalBytes);
  const clockOffsets: Record<string, number | null> = {};
  for (const hop of active) {
    const offset = offsets.get(hop);
    clockOffsets[hop.name] = offset === undefined ? null : Math.round(offset * 1e6) / 1e6;
  }
  return { paths: paths.map(({ totalBytes: _t, ...path }) => path), clockOffsets, findings };
}

function describePath(
  flow: PathReport['flowKey'],
  order: Seen[],
  orderedBy: PathReport['orderedBy'],
  aSends: boolean,
  findings: FindingRecord[],
): PathReport {
  const sides = order.map((s) => sidesOf(s.trace, aSends));
  const names = order.map((s) => s.hop.name);
  // The MSS the receiver announced bounds the sender's segments; without its SYN (a capture that
  // started mid-connection) it is estimated from what the hops carried (mss.ts).
  const announced = Math.max(-1, ...sides.map((s) => s.back.mss));
  const withData = sides.filter((s) => s.data.frames > 0);
  const estimated =
    announced > 0
      ? null
      : estimateMss(
          sides.map((s) => s.data),
          order,
          flow.ipVersion,
        );
  const limit =
    announced > 0 ? announced : (estimated?.mss ?? Math.min(...withData.map((s) => s.data.maxPayload)));
  const supers = sides.map((s) => superCount(s.data, limit));
  const report: PathReport = {
    flow: formatFlow(flow),
    flowKey: flow,
    hops: order.map((s, i) => ({
      hop: s.hop.name,
      frames: (sides[i] as Sides).data.frames,
      bytes: (sides[i] as Sides).data.bytes,
      sizes: topSizes((sides[i] as Sides).data, 3).map(([size, frames]) => ({ size, frames })),
      superFrames: supers[i] as number,
    })),
    mss: announced > 0 ? announced : null,
    mssEstimated: estimated,
    splitAt: null,
    mergedAt: null,
    fragmentedAt: null,
    lostAt: null,
    gaps: [],
    missing: [],
    orderedBy,
  };
  if (withData.length < 2) return report;
  const dataHops = order.map((_, i) => i).filter((i) => (sides[i] as Sides).data.frames > 0);
  const shape: PathShape = { flow, order, sides, names, dataHops, supers, limit };
  splitAndMerge(shape, report, findings);
  // UDP has no sequence numbers to place losses by, and no MSS for the MTU arithmetic.
  if (flow.protocol !== 6) return report;
  overlayMtu(shape, report, findings);
  lossAndGaps(shape, report, findings);
  mtuBlackHole(shape, findings);
  checksumsAlongPath(shape, report, findings);
  return report;
}

/** A capture that missed this share of the path's data or more makes an order from the ACK waits doubtful. */
const ORDER_UNCERTAIN_SHARE = 0.1;

/**
 * An order taken from the ACK waits, on captures that missed much of the data: an ACK a capture
 * missed stretches its waits (to the next ACK it has), and such captures move a hop to the other
 * side of the tunnel (a lab run with whole frames, ten tcpdumps dropping up to 60 %: a sender's
 * tunnel device placed after the NICs). Said once per path, with the hops whose gaps reach
 * ORDER_UNCERTAIN_SHARE of the most any hop carried.
 */
function noteUncertainOrder(
  report: PathReport,
  order: readonly Seen[],
  aSends: boolean,
  findings: FindingRecord[],
): void {
  const lossy = lossyHops(report);
  if (lossy.length === 0) return;
  const carried = carriedBytes(report);
  const hops = [...new Set(lossy.map((g) => g.hop))];
  const worst = Math.max(...lossy.map((g) => g.bytes));
  findings.push(
    pathFinding(
      'capture.order-uncertain',
      hops[0] as string,
      report.flowKey,
      hops.length,
      { hops, percent: Math.floor((100 * worst) / carried), carried },
      [],
      order.map((s) => sidesOf(s.trace, aSends).data),
      ['percent'],
    ),
  );
}

/** The path's capture gaps of ORDER_UNCERTAIN_SHARE or more of what its busiest hop carried. */
function lossyHops(report: PathReport): PathReport['gaps'] {
  const carried = carriedBytes(report);
  return carried <= 0 ? [] : report.gaps.filter((g) => g.bytes >= carried * ORDER_UNCERTAIN_SHARE);
}

/** The data bytes of the path's busiest hop (0 when none carried any). */
function carriedBytes(report: PathReport): number {
  return Math.max(0, ...report.hops.map((h) => h.bytes));
}

/**
 * Hops the topology lists between this path's first and last captured hop that were not given:
 * what happens there (a split, a loss) can only be placed between their captured neighbours.
 */
function noteMissingHops(
  report: PathReport,
  expected: readonly string[],
  hops: readonly HopView[],
  findings: FindingRecord[],
): void {
  const have = new Set(hops.map((h) => h.name));
  const onPath = report.hops.map((h) => h.hop);
  const first = expected.indexOf(onPath[0] ?? '');
  const last = expected.indexOf(onPath[onPath.length - 1] ?? '');
  if (first < 0 || last < 0 || last <= first) return;
  report.missing = expected.slice(first + 1, last).filter((name) => !have.has(name));
  for (const name of report.missing) {
    const at = expected.indexOf(name);
    const before = [...expected.slice(0, at)].reverse().find((n) => onPath.includes(n)) ?? '?';
    const after = expected.slice(at + 1).find((n) => onPath.includes(n)) ?? '?';
    findings.push(
      pathFinding('capture.hop-missing', before, report.flowKey, 1, { missing: name, before, after }, [], []),
    );
  }
}

/**
 * Where the addresses changed along a translated path: the first neighbours whose hops saw the
 * connection under different 5-tuples (nat.between-hops), with both 5-tuples in the data's
 * direction.
 */
function noteTranslation(
  order: readonly Seen[],
  translations: ReadonlyArray<{ flow: FlowKey; hops: string[] }>,
  aSends: boolean,
  flow: FlowKey,
  findings: FindingRecord[],
): void {
  const tupleOf = (name: string) => translations.findIndex((t) => t.hops.includes(name));
  for (let i = 0; i + 1 < order.length; i++) {
    const from = (order[i] as Seen).hop.name;
    const to = (order[i + 1] as Seen).hop.name;
    const a = translations[tupleOf(from)];
    const b = translations[tupleOf(to)];
    if (a === undefined || b === undefined || a === b) continue;
    const oriented = (k: FlowKey) => formatFlow(aSends ? k : reverseFlow(k), false);
    findings.push(
      pathFinding(
        'nat.between-hops',
        to,
        flow,
        1,
        {
          from,
          to,
          before: oriented(a.flow),
          after: oriented(b.flow),
          beforeHops: order
            .slice(0, i + 1)
            .map((s) => s.hop.name)
            .filter((n) => a.hops.includes(n)),
          afterHops: order
            .slice(i + 1)
            .map((s) => s.hop.name)
            .filter((n) => b.hops.includes(n)),
        },
        [],
        [sidesOf((order[i] as Seen).trace, aSends).data, sidesOf((order[i + 1] as Seen).trace, aSends).data],
      ),
    );
  }
}
