/**
 * One verdict per flow on its "incorrect" TCP checksums along the path: at which hops they are
 * partial (offload), where they are complete, and where they are really wrong. On the receiving
 * side of a GRO merge the partial sums were written by GRO itself (Linux leaves a merged frame
 * CHECKSUM_PARTIAL for the receiver), not by the sender's transmit offload: named apart.
 */

import type { FindingRecord } from '../findings/store.js';
import { pathFinding } from './finding.js';
import type { Sides } from './order.js';
import type { PathShape } from './segmentation.js';
import type { PathReport } from './types.js';

export function checksumsAlongPath(shape: PathShape, report: PathReport, findings: FindingRecord[]): void {
  const { order, sides, names, flow } = shape;
  const mergedFrom = report.mergedAt === null ? -1 : names.indexOf(report.mergedAt.to);
  const groHops: string[] = [];
  const partialHops: string[] = [];
  const goodHops: string[] = [];
  const badHops: string[] = [];
  let partialCount = 0;
  const evidence: Array<{ hop: string; frame: number }> = [];
  order.forEach((_, i) => {
    const d = (sides[i] as Sides).data;
    const name = names[i] as string;
    if (d.checksumPartial > 0) {
      partialHops.push(name);
      if (mergedFrom >= 0 && i >= mergedFrom) groHops.push(name);
      partialCount += d.checksumPartial;
      evidence.push({ hop: name, frame: d.firstPartialFrame });
    }
    if (d.checksumGood > 0) goodHops.push(name);
    if (d.checksumBad > 0) badHops.push(name);
  });
  if (partialHops.length === 0) return;
  const record = pathFinding(
    'checksum.partial',
    names[0] as string,
    flow,
    partialCount,
    { layers: ['TCP'], along: 'path', partialHops, goodHops, badHops, groHops },
    evidence,
    sides.map((s) => s.data),
  );
  record.scope = 'path';
  findings.push(record);
}
