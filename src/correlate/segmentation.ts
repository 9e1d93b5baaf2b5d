/**
 * Where a flow's super-frames became wire-sized segments (segment.split: software GSO between two
 * capture points, or NIC TSO after the last one before the wire) and where segments were merged
 * again (segment.merged: GRO/LRO), from the payload sizes each hop saw in path order.
 */

import type { FindingRecord } from '../findings/store.js';
import type { FlowKey } from '../observe/flow-key.js';
import { type DirectionTrace, sampleCount, sampleFrame, sampleSeq, sizePairs } from '../observe/trace.js';
import { coverageFrom, span } from './coverage.js';
import { pathFinding } from './finding.js';
import type { Seen, Sides } from './order.js';
import type { PathReport, SplitMechanism } from './types.js';

/** Frames of one direction larger than `limit` (the MSS, or the wire-sized segment). */
export function superCount(d: DirectionTrace, limit: number): number {
  let n = 0;
  for (const [size, frames] of sizePairs(d)) if (size > limit) n += frames;
  return n;
}

/**
 * Whether two hops saw some of the same data: overlapping sequence space for TCP, overlapping
 * capture time for UDP (no sequence numbers).
 */
function sharesData(a: DirectionTrace, b: DirectionTrace): boolean {
  if (a.intervals !== null && b.intervals !== null) {
    const sa = span(coverageFrom(a, a.base));
    const sb = span(coverageFrom(b, a.base));
    return sa !== null && sb !== null && Math.max(sa[0], sb[0]) < Math.min(sa[1], sb[1]);
  }
  return a.firstTime <= b.lastTime && b.firstTime <= a.lastTime;
}

/** The frame at `to` that carries the sequence number the super-frame at `from` started with. */
function matchingFrame(from: DirectionTrace, to: DirectionTrace): number {
  if (from.firstSuperSeq < 0) return 0;
  for (let i = 0; i < sampleCount(to); i++)
    if (sampleSeq(to, i) === from.firstSuperSeq) return sampleFrame(to, i);
  return 0;
}

export interface PathShape {
  flow: FlowKey;
  order: Seen[];
  sides: Sides[];
  names: string[];
  /** Indexes (into order) of the hops that carried the flow's data. */
  dataHops: number[];
  /** Super-frames per hop, against `limit`. */
  supers: number[];
  /** The receiver's announced MSS, or the smallest largest-payload of any hop. */
  limit: number;
}

export function splitAndMerge(shape: PathShape, report: PathReport, findings: FindingRecord[]): void {
  const { flow, sides, names, dataHops, supers } = shape;
  for (let k = 0; k + 1 < dataHops.length; k++) {
    const p = dataHops[k] as number;
    const q = dataHops[k + 1] as number;
    const sp = (sides[p] as Sides).data;
    const sq = (sides[q] as Sides).data;
    const from = names[p] as string;
    const to = names[q] as string;
    // Sizes compared only where both hops saw the same data: captures of different moments say
    // nothing about what changed between the hops.
    if (!sharesData(sp, sq)) continue;
    if (report.splitAt === null && (supers[p] as number) > 0 && supers[q] === 0 && sq.frames > sp.frames) {
      // Whole before the tunnel's physical NIC, segments on it: GSO in the host's software. Whole
      // on one underlay capture and cut on the next (the other host's NIC): the sending NIC's TSO.
      const mechanism: SplitMechanism =
        sq.overhead >= 0 && sp.overhead < 0
          ? 'software-gso-tunnel'
          : sq.overhead >= 0 && sp.overhead >= 0
            ? 'nic-tso-wire'
            : 'software-gso';
      report.splitAt = { from, to, segmentSize: sq.maxPayload, mechanism };
      findings.push(
        pathFinding(
          'segment.split',
          from,
          flow,
          supers[p] as number,
          {
            from,
            to,
            segmentSize: sq.maxPayload,
            mechanism,
            maxPayload: sp.maxPayload,
            fromFrames: sp.frames,
            toFrames: sq.frames,
          },
          [
            { hop: from, frame: sp.firstSuperFrame },
            { hop: to, frame: matchingFrame(sp, sq) },
          ],
          [sp, sq],
        ),
      );
    }
    if (report.mergedAt === null && supers[p] === 0 && (supers[q] as number) > 0 && sq.frames < sp.frames) {
      report.mergedAt = { from, to, maxPayload: sq.maxPayload };
      findings.push(
        pathFinding(
          'segment.merged',
          to,
          flow,
          supers[q] as number,
          {
            from,
            to,
            segmentSize: sp.maxPayload,
            maxPayload: sq.maxPayload,
            fromFrames: sp.frames,
            toFrames: sq.frames,
          },
          [
            { hop: to, frame: sq.firstSuperFrame },
            { hop: from, frame: matchingFrame(sq, sp) },
          ],
          [sp, sq],
        ),
      );
    }
  }
  if (report.splitAt === null && (supers[dataHops[0] as number] as number) > 0) {
    // Never seen split. At the first hop that carries the flow inside a tunnel (the sender's
    // NIC), super-frames mean the NIC's hardware splits them after the capture point.
    const nic = dataHops.find((i) => (sides[i] as Sides).data.overhead >= 0 && (supers[i] as number) > 0);
    const at = nic ?? dataHops[dataHops.length - 1];
    if (at === undefined || (supers[at] as number) === 0) return;
    const sa = (sides[at] as Sides).data;
    const from = names[at] as string;
    const mechanism: SplitMechanism = nic !== undefined ? 'nic-tso' : 'not-split';
    report.splitAt = { from, to: null, segmentSize: shape.limit, mechanism };
    findings.push(
      pathFinding(
        'segment.split',
        from,
        flow,
        supers[at] as number,
        {
          from,
          to: null,
          segmentSize: shape.limit,
          mechanism,
          maxPayload: sa.maxPayload,
          fromFrames: sa.frames,
          toFrames: null,
        },
        [{ hop: from, frame: sa.firstSuperFrame }],
        [sa],
      ),
    );
  }
}
