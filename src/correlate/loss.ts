/**
 * Data that one hop saw and the next did not, in the time both captures cover: lost between the
 * two (loss.between-hops) when no later hop has it either, or missed by that capture point
 * (capture.gap) when a later hop has it.
 */

import type { FindingRecord } from '../findings/store.js';
import { clip, coverageFrom, covers, missing, span, total } from './coverage.js';
import { pathFinding } from './finding.js';
import type { Sides } from './order.js';
import type { PathShape } from './segmentation.js';
import type { PathReport } from './types.js';

export function lossAndGaps(shape: PathShape, report: PathReport, findings: FindingRecord[]): void {
  const { sides, names, dataHops, flow } = shape;
  const data = (i: number) => (sides[i] as Sides).data;
  const origin = data(dataHops[0] as number).base;
  const coverage = dataHops.map((i) => coverageFrom(data(i), origin));
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
