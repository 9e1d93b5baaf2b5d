/**
 * Data that one hop saw and the next did not, in the time both captures cover: missed by that
 * capture point (capture.gap) when a later hop has it, or when the receiver acknowledged it;
 * otherwise lost between the two (loss.between-hops).
 *
 * The acknowledgement is the proof that holds where captures drop frames under load: every
 * capture point may then miss the same burst of data (ten tcpdumps starved of CPU at once), and
 * no later hop has it, though it arrived. TCP acknowledges only bytes that arrived, and bytes
 * lost on the way would have been sent again (and then seen at the later hops, or seen twice
 * before: the repaired loss below).
 *
 * Loss that TCP repaired leaves no hole: the sender sent the bytes again and every hop has them.
 * It shows in the copies: bytes seen twice at one hop (the original and the retransmission) and
 * once at the next were lost between the two (loss.between-hops, how: 'repaired').
 */

import type { FindingRecord } from '../findings/store.js';
import { ACK_STRIDE, type DirectionTrace } from '../observe/trace.js';
import {
  clip,
  coverageFrom,
  intersect,
  missing,
  repeatedFloorFrom,
  repeatedFrom,
  span,
  total,
  union,
} from './coverage.js';
import { pathFinding } from './finding.js';
import type { Sides } from './order.js';
import type { PathShape } from './segmentation.js';
import type { PathReport } from './types.js';

export function lossAndGaps(shape: PathShape, report: PathReport, findings: FindingRecord[]): void {
  const { sides, names, dataHops, flow } = shape;
  const data = (i: number) => (sides[i] as Sides).data;
  const origin = data(dataHops[0] as number).base;
  const coverage = dataHops.map((i) => coverageFrom(data(i), origin));
  const repeated = dataHops.map((i) => repeatedFrom(data(i), origin));
  let acked = Number.NEGATIVE_INFINITY;
  for (const side of sides) acked = Math.max(acked, acknowledgedTo(side.back, origin));
  repairedLoss(shape, coverage, repeated, findings);
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
    // A hole's bytes that some later hop has, or that the receiver acknowledged, were missed by
    // this capture point; the rest never came past it. Later hops are taken together: each capture
    // may miss bytes of its own (one that drops under load misses a little everywhere), and a hole
    // that no one later hop has whole may still be there in pieces at several.
    const later = coverage.slice(k + 2);
    const seenLater = union(later);
    const holeRanges = holes.flat();
    const seenBytes = intersect(holeRanges, seenLater);
    const unseen = missing(holeRanges, seenLater).flat();
    const proof = seenBytes.length > 0 ? 'later-hop' : 'acknowledged';
    const gapBytes = pairs(union([seenBytes, clip(unseen, Number.NEGATIVE_INFINITY, acked)]));
    const lostBytes = pairs(clip(unseen, acked, Number.POSITIVE_INFINITY));
    const p = dataHops[k] as number;
    const q = dataHops[k + 1] as number;
    const from = names[p] as string;
    const to = names[q] as string;
    const seg = Math.max(1, data(q).maxPayload);
    if (total(gapBytes) > 0) {
      const bytes = total(gapBytes);
      const frames = Math.ceil(bytes / seg);
      report.gaps.push({ hop: to, bytes, frames });
      const gapRanges = gapBytes.flat();
      const after = later.findIndex((c) => intersect(c, gapRanges).length > 0);
      const afterIndex = dataHops[k + 2 + after];
      findings.push(
        pathFinding(
          'capture.gap',
          to,
          flow,
          frames,
          {
            hop: to,
            bytes,
            frames,
            from,
            after: after >= 0 && afterIndex !== undefined ? (names[afterIndex] ?? null) : null,
            proof,
          },
          [],
          [data(p), data(q)],
          ['frames'],
        ),
      );
    }
    if (total(lostBytes) > 0 && report.lostAt === null) {
      const bytes = total(lostBytes);
      const frames = Math.ceil(bytes / seg);
      report.lostAt = { from, to, bytes, frames };
      findings.push(
        pathFinding(
          'loss.between-hops',
          from,
          flow,
          frames,
          { from, to, bytes, frames },
          [],
          [data(p), data(q)],
          ['frames'],
        ),
      );
    }
  }
}

/**
 * How far the receiver acknowledged the data, in bytes from `origin` (the data's sequence number
 * at the first hop), by the ACKs sampled at one hop (-Infinity: none). The samples are in the
 * order they passed, and each step between two is within 2 GiB, so a transfer longer than 4 GiB
 * unwraps as its coverage does; the first is placed within 2 GiB of the origin.
 */
function acknowledgedTo(back: DirectionTrace, origin: number): number {
  const acks = back.acks;
  if (acks === null || acks.length === 0) return Number.NEGATIVE_INFINITY;
  // An ACK sample's key is ack * 65536 + 16 bits of its timestamp (trace.ts).
  let last = Math.floor((acks[0] as number) / 65536);
  let at = (last - origin) | 0;
  let top = at;
  for (let i = ACK_STRIDE; i < acks.length; i += ACK_STRIDE) {
    const ack = Math.floor((acks[i] as number) / 65536);
    at += (ack - last) | 0;
    last = ack;
    if (at > top) top = at;
  }
  return top;
}

/** Bytes of sorted, disjoint ranges, split into segments of at most `segment` bytes. */
function segmentsIn(ranges: number[], segment: number): number {
  let n = 0;
  for (let i = 0; i < ranges.length; i += 2)
    n += Math.ceil(((ranges[i + 1] as number) - (ranges[i] as number)) / segment);
  return n;
}

function repairedLoss(
  shape: PathShape,
  coverage: number[][],
  repeated: number[][],
  findings: FindingRecord[],
): void {
  const { sides, names, dataHops, flow, limit } = shape;
  const data = (i: number) => (sides[i] as Sides).data;
  const origin = data(dataHops[0] as number).base;
  // Where each hop's list of bytes seen twice is whole (a long lossy flow keeps only its latest
  // ranges): below a later hop's floor, its copies are taken as seen (nothing is claimed lost
  // on what it forgot); below an earlier hop's, they are not (nothing is claimed on its word).
  const floors = dataHops.map((i) => repeatedFloorFrom(data(i), origin));
  const forgotten = floors.map((floor) =>
    floor > Number.NEGATIVE_INFINITY ? [Number.NEGATIVE_INFINITY, floor] : [],
  );
  for (let k = 0; k + 1 < dataHops.length; k++) {
    const sa = span(coverage[k] as number[]);
    const sb = span(coverage[k + 1] as number[]);
    if (sa === null || sb === null || (repeated[k] as number[]).length === 0) continue;
    const lo = Math.max(sa[0], sb[0], floors[k] as number, floors[k + 1] as number);
    const hi = Math.min(sa[1], sb[1]);
    if (hi <= lo) continue;
    // Seen more than once here, once at the next hop...
    const once = missing(clip(repeated[k] as number[], lo, hi), clip(repeated[k + 1] as number[], lo, hi));
    const flat = intersect(once.flat(), clip(coverage[k + 1] as number[], lo, hi));
    // ...and not seen twice again later: that would be the next capture missing a copy. Later
    // hops taken together, as for holes: each may have missed a copy of a different piece.
    const notLater = missing(flat, union([...repeated.slice(k + 2), ...forgotten.slice(k + 2)])).flat();
    // A copy TCP sent again passed every hop from the sender to here: bytes seen twice here and
    // at no hop before were not sent again (a frame duplicated on the way, or by this capture).
    const lost = k === 0 ? notLater : intersect(notLater, union(repeated.slice(0, k)));
    if (lost.length === 0) continue;
    const p = dataHops[k] as number;
    const q = dataHops[k + 1] as number;
    const bytes = total(pairs(lost));
    const frames = segmentsIn(lost, Math.max(1, limit));
    findings.push(
      pathFinding(
        'loss.between-hops',
        names[p] as string,
        flow,
        frames,
        {
          from: names[p] as string,
          to: names[q] as string,
          bytes,
          frames,
          how: 'repaired',
          repeatsFrom: data(p).repeats,
          repeatsTo: data(q).repeats,
          hops: dataHops.map((i) => names[i] as string),
          repeats: dataHops.map((i) => data(i).repeats),
        },
        [],
        [data(p), data(q)],
        ['frames'],
      ),
    );
  }
}

function pairs(ranges: number[]): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  for (let i = 0; i < ranges.length; i += 2) out.push([ranges[i] as number, ranges[i + 1] as number]);
  return out;
}
