/**
 * Data that one hop saw and the next did not, in the time both captures cover: lost between the
 * two (loss.between-hops) when no later hop has it either, or missed by that capture point
 * (capture.gap) when a later hop has it.
 *
 * Loss that TCP repaired leaves no hole: the sender sent the bytes again and every hop has them.
 * It shows in the copies: bytes seen twice at one hop (the original and the retransmission) and
 * once at the next were lost between the two (loss.between-hops, how: 'repaired').
 */

import type { FindingRecord } from '../findings/store.js';
import { clip, coverageFrom, covers, intersect, missing, repeatedFrom, span, total } from './coverage.js';
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
    const later = coverage.slice(k + 2);
    const gapBytes = holes.filter((h) => later.some((c) => covers(c, h)));
    const lostBytes = holes.filter((h) => !later.some((c) => covers(c, h)));
    const p = dataHops[k] as number;
    const q = dataHops[k + 1] as number;
    const from = names[p] as string;
    const to = names[q] as string;
    const seg = Math.max(1, data(q).maxPayload);
    if (total(gapBytes) > 0) {
      const bytes = total(gapBytes);
      const frames = Math.ceil(bytes / seg);
      report.gaps.push({ hop: to, bytes, frames });
      const after = later.findIndex((c) => gapBytes.some((h) => covers(c, h)));
      const afterIndex = dataHops[k + 2 + Math.max(0, after)];
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
            after: afterIndex !== undefined ? (names[afterIndex] ?? null) : null,
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
  for (let k = 0; k + 1 < dataHops.length; k++) {
    const sa = span(coverage[k] as number[]);
    const sb = span(coverage[k + 1] as number[]);
    if (sa === null || sb === null || (repeated[k] as number[]).length === 0) continue;
    const lo = Math.max(sa[0], sb[0]);
    const hi = Math.min(sa[1], sb[1]);
    if (hi <= lo) continue;
    // Seen more than once here, once at the next hop...
    const once = missing(clip(repeated[k] as number[], lo, hi), clip(repeated[k + 1] as number[], lo, hi));
    const flat = intersect(once.flat(), clip(coverage[k + 1] as number[], lo, hi));
    // ...and not seen twice again later: that would be the next capture missing a copy.
    const later = repeated.slice(k + 2);
    const lost: number[] = [];
    for (let i = 0; i < flat.length; i += 2) {
      const piece: [number, number] = [flat[i] as number, flat[i + 1] as number];
      if (!later.some((r) => covers(r, piece))) lost.push(piece[0], piece[1]);
    }
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
