/**
 * The MTU black hole: full-size segments reach one hop and never the next, though the sender
 * sends them again and again; small segments pass; no fragment, and no ICMP "fragmentation
 * needed" reaches the sender (none sent: a tunnel over IPv6, or over IPv4 with DF set, drops
 * without fragmenting; or sent and filtered on its way). The transfer stalls.
 *
 * Every part is evidence: the bytes one hop carried past the last byte the next hop saw, none of
 * them at any later hop; some of them sent more than once at that hop; the payload sizes that
 * vanished all larger than every size that passed. The arithmetic (the overlay's packets plus the
 * tunnel's overhead against the underlay MTU the topology gives) says why; without the underlay
 * MTU, or when the packets fit it, this is not called an MTU black hole.
 */

import { CODE_INDEX } from '../findings/catalog.js';
import { MTU_ADVICE_FACTS, mtuAdvice } from '../findings/mtu-advice.js';
import type { FindingRecord } from '../findings/store.js';
import { sameFlow } from '../observe/flow-key.js';
import type { HopView } from '../observe/hop-view.js';
import { type DirectionTrace, sampleCount, sampleFrame, sampleSeq, sizePairs } from '../observe/trace.js';
import { clip, coverageFrom, intersect, repeatedFrom, span } from './coverage.js';
import { pathFinding } from './finding.js';
import type { Seen, Sides } from './order.js';
import type { PathShape } from './segmentation.js';

/** The hop's ICMP need-to-frag finding about this flow, if it saw one. */
function icmpAt(hop: HopView, shape: PathShape): FindingRecord | null {
  const records = hop.state.findings.byCode[CODE_INDEX['pmtu.frag-needed']];
  for (const record of records?.values() ?? []) {
    if (record.flow !== null && sameFlow(record.flow, shape.flow)) return record;
  }
  return null;
}

/** The first sampled segment at `d` that starts inside `ranges` (bytes from `origin`). */
function firstFrameIn(d: DirectionTrace, ranges: number[], origin: number): number {
  for (let i = 0; i < sampleCount(d); i++) {
    const at = (sampleSeq(d, i) - origin) | 0;
    for (let k = 0; k < ranges.length; k += 2) {
      if (at >= (ranges[k] as number) && at < (ranges[k + 1] as number)) return sampleFrame(d, i);
    }
  }
  return 0;
}

export function mtuBlackHole(shape: PathShape, findings: FindingRecord[]): void {
  const { order, sides, names, dataHops, flow, limit } = shape;
  const data = (i: number) => (sides[i] as Sides).data;
  // Fragments carry the large packets on: that path is slow, not a black hole (mtu.ts says why).
  if (dataHops.some((i) => data(i).fragmented > 0)) return;
  const origin = data(dataHops[0] as number).base;
  const coverage = dataHops.map((i) => coverageFrom(data(i), origin));
  for (let k = 0; k + 1 < dataHops.length; k++) {
    const p = dataHops[k] as number;
    const q = dataHops[k + 1] as number;
    const sb = span(coverage[k + 1] as number[]);
    if (sb === null) continue;
    // What this hop carried after the last byte the next hop saw, and no later hop saw either.
    const tail = clip(coverage[k] as number[], sb[1], Number.POSITIVE_INFINITY);
    if (tail.length === 0) continue;
    if (coverage.slice(k + 1).some((c) => intersect(c, tail).length > 0)) continue;
    // Sent again (at least once) and still gone: not a capture that stopped early.
    const resent = intersect(repeatedFrom(data(p), origin), tail);
    if (resent.length === 0) continue;
    // Only small segments pass: every size the next hop carried is below every size that vanished.
    const passing = data(q).maxPayload;
    const vanishing = sizePairs(data(p))
      .map(([size]) => size)
      .filter((size) => size > passing && size <= limit)
      .sort((a, b) => a - b);
    if (vanishing.length === 0) continue;
    // The arithmetic: the overlay's full-size packet plus the tunnel's overhead, against the
    // underlay MTU of the first tunnelled hop from here on.
    const underlayIndex = dataHops.slice(k + 1).find((i) => data(i).overhead >= 0);
    if (underlayIndex === undefined) return;
    const underlayHop = (order[underlayIndex] as Seen).hop;
    const underlay = underlayHop.mtu;
    const overhead = data(underlayIndex).overhead;
    const ipTcp = flow.ipVersion === 6 ? 60 : 40;
    const senderMss = Math.max(-1, ...sides.map((s) => s.data.mss));
    const overlaySize = senderMss > 0 ? senderMss + ipTcp : Math.min(data(p).maxIpLength, limit + ipTcp);
    if (underlay === null || overlaySize + overhead <= underlay) return;
    // Where the ICMP went: seen nowhere, or seen at hops that do not include the sender's first.
    const icmpHops = order
      .map((s, i) => ({ i, record: icmpAt(s.hop, shape) }))
      .filter((x): x is { i: number; record: FindingRecord } => x.record !== null);
    const sender = names[0] as string;
    const nearest = icmpHops[0];
    const icmp = nearest === undefined ? 'none' : nearest.i === 0 ? 'reached' : 'filtered';
    const icmpMtu =
      nearest !== undefined && typeof nearest.record.facts.mtu === 'number' ? nearest.record.facts.mtu : null;
    const before = dataHops.slice(0, k + 1);
    const frame = firstFrameIn(data(p), tail, origin);
    findings.push(
      pathFinding(
        'mtu.black-hole',
        names[p] as string,
        flow,
        data(p).repeats,
        {
          from: names[p] as string,
          to: names[q] as string,
          vanishing,
          largestPassing: passing,
          repeats: data(p).repeats,
          resentAt: before.filter((i) => data(i).repeats > 0).map((i) => names[i] as string),
          resentCounts: before.filter((i) => data(i).repeats > 0).map((i) => data(i).repeats),
          overlayMtu: overlaySize,
          mss: senderMss > 0 ? senderMss : null,
          overhead,
          underlayMtu: underlay,
          underlayMtuSource: underlayHop.mtuSource,
          underlayHop: underlayHop.name,
          ...mtuAdvice(underlay, overhead, overlaySize, ipTcp),
          icmp,
          icmpAt: nearest === undefined ? null : (names[nearest.i] as string),
          icmpMtu,
          sender,
        },
        [
          { hop: names[p] as string, frame },
          ...(nearest?.record.evidence ?? []).map((f) => ({
            hop: names[nearest?.i ?? 0] as string,
            frame: f,
          })),
        ],
        [data(p), data(q)],
        [...MTU_ADVICE_FACTS],
      ),
    );
    return;
  }
}
