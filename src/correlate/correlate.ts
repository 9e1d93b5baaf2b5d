/**
 * Correlation: the same TCP data followed across hops.
 *
 * Each hop kept, per flow and direction, a bounded trace (see trace.ts). Here, once every capture
 * has been read:
 * 1. Clock offsets between captures (clock.ts).
 * 2. The order of the hops per flow (order.ts): by how long each hop's data waits for its ACK,
 *    unless --path or a topology file gives the order.
 * 3. What changed between neighbouring hops: super-frames split into MSS segments (software GSO
 *    between two capture points, or NIC TSO after the last one before the wire), merged again
 *    (GRO/LRO), outer fragmentation, data lost between hops or missed by one capture point, and
 *    where checksums are partial.
 */

import type { FindingRecord } from '../findings/store.js';
import type { HopState } from '../observe/hop.js';
import { estimateClocks } from './clock.js';
import { clip, coverageFrom, covers, missing, span, total } from './coverage.js';
import { orderHops, type Seen, type Sides, sidesOf } from './order.js';
import { type DirectionTrace, type FlowTrace, topSizes } from './trace.js';
import type { Correlation, CorrelationOptions, PathReport } from './types.js';

export type { Correlation, CorrelationOptions, PathHop, PathReport } from './types.js';

function tracesOf(hop: HopState): Map<string, FlowTrace> {
  const map = new Map<string, FlowTrace>();
  for (const bucket of hop.flows.byHash.values()) {
    for (const entry of bucket) if (entry.trace !== null) map.set(entry.trace.key, entry.trace);
  }
  return map;
}

/** Flows used to estimate clocks: the busiest ones are plenty, and keep the pairwise work small. */
const CLOCK_FLOWS = 64;
/** Flows drawn as paths (busiest first); a capture of a million short flows does not need a million paths. */
const MAX_PATHS = 500;

function busiest(traces: Map<string, FlowTrace>, limit: number): Map<string, FlowTrace> {
  if (traces.size <= limit) return traces;
  const volume = (t: FlowTrace) =>
    t.fromA.sampleSeq.length + t.fromB.sampleSeq.length + t.fromA.ackKey.length;
  return new Map([...traces].sort((a, b) => volume(b[1]) - volume(a[1])).slice(0, limit));
}

function superCount(d: DirectionTrace, limit: number): number {
  let n = 0;
  for (const [size, frames] of d.sizes) if (size > limit) n += frames;
  return n;
}

/** The frame at `to` that carries the sequence number `from`'s frame started with. */
function matchingFrame(from: DirectionTrace, fromFrame: number, to: DirectionTrace): number {
  const at = from.sampleFrame.indexOf(fromFrame);
  if (at < 0) return 0;
  const seq = from.sampleSeq[at] as number;
  const there = to.sampleSeq.indexOf(seq);
  return there < 0 ? 0 : (to.sampleFrame[there] as number);
}

function newFinding(
  code: FindingRecord['code'],
  hop: string,
  flow: string,
  count: number,
  facts: Record<string, string | number>,
  evidence: Array<{ hop: string; frame: number }>,
): FindingRecord {
  const useful = evidence.filter((e) => e.frame > 0).slice(0, 10);
  return {
    code,
    hop,
    flow,
    count: Math.max(1, count),
    evidence: useful.filter((e) => e.hop === hop).map((e) => e.frame),
    evidenceHops: useful,
    facts: { ...facts, count: Math.max(1, count) },
  };
}

export function correlate(hops: readonly HopState[], options: CorrelationOptions = {}): Correlation {
  const traces = new Map<HopState, Map<string, FlowTrace>>();
  for (const hop of hops) traces.set(hop, tracesOf(hop));
  const active = hops.filter((hop) => (traces.get(hop)?.size ?? 0) > 0);
  const clockTraces = new Map<HopState, Map<string, FlowTrace>>();
  for (const hop of active)
    clockTraces.set(hop, busiest(traces.get(hop) as Map<string, FlowTrace>, CLOCK_FLOWS));
  const offsets = estimateClocks(active, clockTraces);
  const byFlow = new Map<string, Seen[]>();
  for (const hop of active) {
    for (const trace of (traces.get(hop) as Map<string, FlowTrace>).values()) {
      const list = byFlow.get(trace.key);
      if (list === undefined) byFlow.set(trace.key, [{ hop, trace }]);
      else list.push({ hop, trace });
    }
  }
  const paths: Array<PathReport & { totalBytes: number }> = [];
  const findings: FindingRecord[] = [];
  const shared: Array<{ seen: Seen[]; bytesA: number; bytesB: number }> = [];
  for (const seen of byFlow.values()) {
    if (seen.length < 2) continue;
    let bytesA = 0;
    let bytesB = 0;
    for (const s of seen) {
      bytesA += s.trace.fromA.bytes;
      bytesB += s.trace.fromB.bytes;
    }
    if (bytesA + bytesB > 0) shared.push({ seen, bytesA, bytesB });
  }
  shared.sort((x, y) => Math.max(y.bytesA, y.bytesB) - Math.max(x.bytesA, x.bytesB));
  for (const { seen, bytesA, bytesB } of shared.slice(0, MAX_PATHS)) {
    const aSends = bytesA >= bytesB;
    const first = (seen[0] as Seen).trace;
    const flow = aSends
      ? `${first.protocolName} ${first.endpointA} -> ${first.endpointB}`
      : `${first.protocolName} ${first.endpointB} -> ${first.endpointA}`;
    const { order, orderedBy } = orderHops(seen, offsets, aSends, options);
    const report = describePath(flow, order, orderedBy, aSends, findings);
    if (options.expected !== undefined) noteMissingHops(report, options.expected, hops, findings);
    paths.push({ ...report, totalBytes: Math.max(bytesA, bytesB) });
  }
  paths.sort((a, b) => b.totalBytes - a.totalBytes);
  const clockOffsets: Record<string, number> = {};
  for (const hop of active) clockOffsets[hop.name] = Math.round((offsets.get(hop) ?? 0) * 1e6) / 1e6;
  return { paths: paths.map(({ totalBytes: _t, ...p }) => p), clockOffsets, findings };
}

function describePath(
  flow: string,
  order: Seen[],
  orderedBy: PathReport['orderedBy'],
  aSends: boolean,
  findings: FindingRecord[],
): PathReport {
  const sides = order.map((s) => sidesOf(s.trace, aSends));
  const names = order.map((s) => s.hop.name);
  // The MSS the receiver announced bounds the sender's segments; without a SYN, the smallest
  // largest-payload of any hop stands for the wire-sized segment.
  const announced = Math.max(-1, ...sides.map((s) => s.back.mss));
  const withData = sides.filter((s) => s.data.frames > 0);
  const limit = announced > 0 ? announced : Math.min(...withData.map((s) => s.data.maxPayload));
  const supers = sides.map((s) => superCount(s.data, limit));
  const report: PathReport = {
    flow,
    hops: order.map((s, i) => ({
      hop: s.hop.name,
      frames: (sides[i] as Sides).data.frames,
      bytes: (sides[i] as Sides).data.bytes,
      sizes: topSizes((sides[i] as Sides).data, 3).map(([size, frames]) => ({ size, frames })),
      superFrames: supers[i] as number,
    })),
    mss: announced > 0 ? announced : null,
    splitAt: null,
    mergedAt: null,
    fragmentedAt: null,
    lostAt: null,
    gaps: [],
    missing: [],
    orderedBy,
  };
  if (withData.length < 2) return report;

  // Split and merge between neighbours that both carried data.
  const dataHops = order.map((_, i) => i).filter((i) => (sides[i] as Sides).data.frames > 0);
  for (let k = 0; k + 1 < dataHops.length; k++) {
    const p = dataHops[k] as number;
    const q = dataHops[k + 1] as number;
    const sp = sides[p] as Sides;
    const sq = sides[q] as Sides;
    if (
      report.splitAt === null &&
      (supers[p] as number) > 0 &&
      supers[q] === 0 &&
      sq.data.frames > sp.data.frames
    ) {
      const tunnelEdge = sq.data.overhead >= 0 && sp.data.overhead < 0;
      report.splitAt = {
        from: names[p] as string,
        to: names[q] as string,
        segmentSize: sq.data.maxPayload,
        mechanism: tunnelEdge ? 'software GSO at the tunnel’s physical NIC' : 'software GSO',
      };
      const frameP = sp.data.firstSuperFrame;
      findings.push(
        newFinding(
          'segment.split',
          names[p] as string,
          flow,
          supers[p] as number,
          {
            from: names[p] as string,
            to: names[q] as string,
            segmentSize: sq.data.maxPayload,
            mechanism: report.splitAt.mechanism,
            maxPayload: sp.data.maxPayload,
            fromFrames: sp.data.frames,
            toFrames: sq.data.frames,
            why: tunnelEdge
              ? `The kernel's GSO cut them after ${names[p]} and before or at ${names[q]}, in software: the NIC under the tunnel does not segment encapsulated TCP itself (tx-udp_tnl-segmentation off or absent), so the host's CPU does it.`
              : `The split happened between these two capture points, in software (GSO) or by a device without TSO.`,
            fixText: `Nothing to fix: this is segmentation offload working. Captures at ${names[p]} show frames larger than the MTU because they are taken before the split. If the host's CPU is busy segmenting, a NIC with tx-udp_tnl-segmentation moves the work to hardware.`,
          },
          [
            { hop: names[p] as string, frame: frameP },
            { hop: names[q] as string, frame: matchingFrame(sp.data, frameP, sq.data) },
          ],
        ),
      );
    }
    if (
      report.mergedAt === null &&
      supers[p] === 0 &&
      (supers[q] as number) > 0 &&
      sq.data.frames < sp.data.frames
    ) {
      report.mergedAt = { from: names[p] as string, to: names[q] as string, maxPayload: sq.data.maxPayload };
      const frameQ = sq.data.firstSuperFrame;
      findings.push(
        newFinding(
          'segment.merged',
          names[q] as string,
          flow,
          supers[q] as number,
          {
            from: names[p] as string,
            to: names[q] as string,
            segmentSize: sp.data.maxPayload,
            maxPayload: sq.data.maxPayload,
            fromFrames: sp.data.frames,
            toFrames: sq.data.frames,
          },
          [
            { hop: names[q] as string, frame: frameQ },
            { hop: names[p] as string, frame: matchingFrame(sq.data, frameQ, sp.data) },
          ],
        ),
      );
    }
  }
  if (report.splitAt === null && (supers[dataHops[0] as number] as number) > 0) {
    // Never seen split. At the first hop that carries the flow inside a tunnel (the sender's
    // NIC), super-frames mean the NIC's hardware splits them after the capture point.
    const nic = dataHops.find((i) => (sides[i] as Sides).data.overhead >= 0 && (supers[i] as number) > 0);
    const at = nic ?? dataHops[dataHops.length - 1];
    if (at !== undefined && (supers[at] as number) > 0) {
      const sa = sides[at] as Sides;
      const mechanism =
        nic !== undefined
          ? 'NIC hardware TSO after the capture point'
          : 'not split between capture points (NIC TSO after the last one, or a virtual path end to end)';
      report.splitAt = { from: names[at] as string, to: null, segmentSize: limit, mechanism };
      findings.push(
        newFinding(
          'segment.split',
          names[at] as string,
          flow,
          supers[at] as number,
          {
            from: names[at] as string,
            to: 'the wire',
            segmentSize: limit,
            mechanism,
            maxPayload: sa.data.maxPayload,
            fromFrames: sa.data.frames,
            toFrames: 'no capture',
            why:
              nic !== undefined
                ? `${names[at]} is the last capture point before the wire and still shows super-frames: the NIC's TSO (tx-udp_tnl-segmentation for tunnels) splits them in hardware after the capture point, so no capture on this host shows the wire-sized segments.`
                : 'No capture point shows them split: the split happens after the last capture point (NIC TSO), or the path is virtual from end to end and never needs it.',
            fixText:
              'Nothing to fix: hardware segmentation offload. Capture on the wire (a mirror port) to see the segments.',
          },
          [{ hop: names[at] as string, frame: sa.data.firstSuperFrame }],
        ),
      );
    }
  }

  // Where the tunnel's outer packets were fragmented: the first hop that rebuilt this flow's data from fragments.
  const fragIndex = dataHops.find((i) => (sides[i] as Sides).data.fragmented > 0);
  const overheadHop = dataHops.find((i) => (sides[i] as Sides).data.overhead >= 0);
  const overhead = overheadHop !== undefined ? (sides[overheadHop] as Sides).data.overhead : -1;
  const senderMss = Math.max(-1, ...sides.map((s) => s.data.mss));
  const isV6 = flow.includes('[');
  const ipTcp = isV6 ? 60 : 40;
  const overlayMtu =
    senderMss > 0
      ? senderMss + ipTcp
      : Math.max(...sides.map((s) => Math.min(s.data.maxIpLength, limit + ipTcp)));
  if (fragIndex !== undefined) {
    const s = sides[fragIndex] as Sides;
    const hop = (order[fragIndex] as Seen).hop;
    report.fragmentedAt = {
      hop: hop.name,
      mtu: hop.mtu,
      overhead: s.data.overhead >= 0 ? s.data.overhead : null,
      innerSize: s.data.maxIpLength,
    };
    const underlay = hop.mtu;
    if (underlay !== null && overhead >= 0 && overlayMtu + overhead > underlay) {
      findings.push(
        overlayFinding(flow, hop.name, overlayMtu, senderMss, overhead, underlay, ipTcp, {
          consequence: `The tunnel's outer packets are IP-fragmented at ${hop.name}: ${s.data.fragmented} segments of this flow arrived there in fragments${hop.mtuSource === 'inferred' ? ` (underlay MTU inferred from the largest fragment, ${underlay})` : ''}.`,
          evidence: [{ hop: hop.name, frame: s.data.firstFragmentedFrame }],
        }),
      );
    }
  } else {
    // No fragments: the kernel may have answered with ICMP need-to-frag instead (PMTU discovery).
    for (const s of order) {
      const record = findPmtuFinding(s.hop, flow);
      if (record === null) continue;
      const icmpMtu = Number(record.facts.mtu);
      if (!(icmpMtu > 0) || overlayMtu <= icmpMtu) continue;
      const oh = overhead >= 0 ? overhead : isV6 ? 70 : 50;
      findings.push(
        overlayFinding(flow, s.hop.name, overlayMtu, senderMss, oh, icmpMtu + oh, ipTcp, {
          consequence: `No fragment is seen because the tunnel answers the guest with ICMP "fragmentation needed" (MTU ${icmpMtu}, ${record.count} messages at ${s.hop.name}) and the guest lowers its segments; guests or firewalls that drop that ICMP stall instead (a PMTU black hole).${overhead >= 0 ? '' : ` The overhead (${oh}) is assumed: no capture shows the tunnel.`}`,
          evidence: record.evidence.map((frame) => ({ hop: s.hop.name, frame })),
        }),
      );
      break;
    }
  }

  lossAndGaps(flow, order, sides, dataHops, report, findings);
  checksumsAlongPath(flow, order, sides, findings);
  return report;
}

function findPmtuFinding(hop: HopState, flow: string): FindingRecord | null {
  for (const byFlow of hop.findings.byCode) {
    for (const record of byFlow.values()) {
      if (record.code === 'pmtu.frag-needed' && record.flow !== null && record.flow.startsWith(flow))
        return record;
    }
  }
  return null;
}

function overlayFinding(
  flow: string,
  hop: string,
  overlayMtu: number,
  mss: number,
  overhead: number,
  underlay: number,
  ipTcp: number,
  extra: { consequence: string; evidence: Array<{ hop: string; frame: number }> },
): FindingRecord {
  const maxOverlayMtu = underlay - overhead;
  return newFinding(
    'mtu.overlay-exceeds-underlay',
    hop,
    flow,
    1,
    {
      overlayMtu,
      mss: mss > 0 ? mss : 'not seen',
      overhead,
      tunnel: 'the tunnel',
      needed: overlayMtu + overhead,
      underlayMtu: underlay,
      maxOverlayMtu,
      clampMss: maxOverlayMtu - ipTcp,
      clampPayload: maxOverlayMtu - ipTcp - 12,
      consequence: extra.consequence,
    },
    extra.evidence,
  );
}

function lossAndGaps(
  flow: string,
  order: Seen[],
  sides: Sides[],
  dataHops: number[],
  report: PathReport,
  findings: FindingRecord[],
): void {
  const originHop = dataHops[0] as number;
  const origin = (sides[originHop] as Sides).data.base;
  const coverage = dataHops.map((i) => coverageFrom((sides[i] as Sides).data, origin));
  for (let k = 0; k + 1 < dataHops.length; k++) {
    const a = coverage[k] as number[];
    const b = coverage[k + 1] as number[];
    const sa = span(a);
    const sb = span(b);
    if (sa === null || sb === null) continue;
    // Only the time both captures cover: captures start and stop at different moments.
    const lo = Math.max(sa[0], sb[0]);
    const hi = Math.min(sa[1], sb[1]);
    if (hi <= lo) continue;
    const holes = missing(clip(a, lo, hi), clip(b, lo, hi));
    if (holes.length === 0) continue;
    const later = coverage.slice(k + 2);
    const gapBytes = holes.filter((h) => later.some((c) => covers(c, h)));
    const lostBytes = holes.filter((h) => !later.some((c) => covers(c, h)));
    const from = (order[dataHops[k] as number] as Seen).hop.name;
    const to = (order[dataHops[k + 1] as number] as Seen).hop.name;
    const seg = Math.max(1, (sides[dataHops[k + 1] as number] as Sides).data.maxPayload);
    if (total(gapBytes) > 0) {
      const bytes = total(gapBytes);
      const frames = Math.ceil(bytes / seg);
      report.gaps.push({ hop: to, bytes, frames });
      const after = later.findIndex((c) => gapBytes.some((h) => covers(c, h)));
      findings.push(
        newFinding(
          'capture.gap',
          to,
          flow,
          frames,
          {
            hop: to,
            bytes,
            frames,
            from,
            after:
              (order[dataHops[k + 2 + Math.max(0, after)] as number] as Seen | undefined)?.hop.name ??
              'later hops',
          },
          [],
        ),
      );
    }
    if (total(lostBytes) > 0 && report.lostAt === null) {
      const bytes = total(lostBytes);
      const frames = Math.ceil(bytes / seg);
      report.lostAt = { from, to, bytes, frames };
      findings.push(newFinding('loss.between-hops', from, flow, frames, { from, to, bytes, frames }, []));
    }
  }
}

function checksumsAlongPath(flow: string, order: Seen[], sides: Sides[], findings: FindingRecord[]): void {
  const partial: string[] = [];
  const good: string[] = [];
  const bad: string[] = [];
  let partialCount = 0;
  const evidence: Array<{ hop: string; frame: number }> = [];
  order.forEach((s, i) => {
    const d = (sides[i] as Sides).data;
    if (d.checksumPartial > 0) {
      partial.push(s.hop.name);
      partialCount += d.checksumPartial;
      evidence.push({ hop: s.hop.name, frame: d.firstPartialFrame });
    }
    if (d.checksumGood > 0) good.push(s.hop.name);
    if (d.checksumBad > 0) bad.push(s.hop.name);
  });
  if (partial.length === 0) return;
  const goodPart =
    good.length > 0
      ? ` They are complete and correct at ${good.join(', ')} (after the NIC).`
      : ' They stay partial along every captured hop: the path is virtual (veth, tap, bridge, tunnel) and the sum is completed, or not needed, at the end.';
  const badPart =
    bad.length > 0
      ? ` Real errors: ${bad.join(', ')} (see checksum.bad there).`
      : ' None of this flow’s TCP checksums is really wrong.';
  findings.push(
    newFinding(
      'checksum.partial',
      (order[0] as Seen).hop.name,
      flow,
      partialCount,
      {
        layers: 'TCP',
        pathPart: ` Along this flow's path they are partial at ${partial.join(', ')}: ignore tcpdump's "incorrect" there.${goodPart}${badPart}`,
        summary: `Partial (offload, not errors) at ${partial.join(', ')}.${goodPart}${badPart}`,
      },
      evidence,
    ),
  );
}

/**
 * Hops the topology lists between this path's first and last captured hop that were not given:
 * what happens there (a split, a loss) can only be placed between their captured neighbours.
 */
function noteMissingHops(
  report: PathReport,
  expected: readonly string[],
  hops: readonly HopState[],
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
      newFinding('capture.hop-missing', before, report.flow, 1, { missing: name, before, after }, []),
    );
  }
}
