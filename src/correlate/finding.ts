/** Findings drawn across hops: one record per flow, with evidence at several hops. */

import type { Facts, FindingCode } from '../findings/catalog.js';
import { type FindingRecord, MAX_EVIDENCE } from '../findings/store.js';
import type { FlowKey } from '../observe/flow-key.js';
import type { DirectionTrace } from '../observe/trace.js';

export function pathFinding(
  code: FindingCode,
  hop: string,
  flow: FlowKey,
  count: number,
  facts: Facts,
  evidence: Array<{ hop: string; frame: number }>,
  seen: readonly DirectionTrace[],
  derived: string[] = [],
): FindingRecord {
  const useful = evidence.filter((e) => e.frame > 0).slice(0, MAX_EVIDENCE);
  let firstTime = -1;
  let lastTime = -1;
  for (const d of seen) {
    if (d.firstTime >= 0 && (firstTime < 0 || d.firstTime < firstTime)) firstTime = d.firstTime;
    if (d.lastTime > lastTime) lastTime = d.lastTime;
  }
  return {
    code,
    hop,
    flow,
    count: Math.max(1, count),
    evidence: useful.filter((e) => e.hop === hop).map((e) => e.frame),
    evidenceHops: useful,
    facts,
    derived,
    firstTime,
    lastTime,
  };
}
