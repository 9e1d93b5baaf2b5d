// Shared by the explain tests: the explainer's records for a text, and their comparison with what
// analyze decides about the same frames (test/helpers/frame-classes.ts).
import { createExplainer, type Explained } from '../../src/explain/explain.js';
import type { FrameClasses } from './frame-classes.js';

/** The explainer's records for a text, in order (as `hopscope explain` reads it, line by line). */
export function explainText(text: string): Explained[] {
  const explainer = createExplainer();
  const out: Explained[] = [];
  const take = (outputs: ReturnType<typeof explainer.push>) => {
    for (const o of outputs) if (o.kind === 'explained') out.push(o.explained);
  };
  for (const line of text.split('\n')) take(explainer.push(line));
  take(explainer.flush());
  return out;
}

export interface Tally {
  checksums: Record<string, number>;
  superFrames: { yes: number; no: number };
  udpSuperFrames: { yes: number; no: number };
  disagreements: string[];
}

export function createTally(): Tally {
  return {
    checksums: {},
    superFrames: { yes: 0, no: 0 },
    udpSuperFrames: { yes: 0, no: 0 },
    disagreements: [],
  };
}

/** Every class the text proves for a frame must be one analyze gives that frame. */
export function compareWithAnalyze(
  label: string,
  records: readonly Explained[],
  analyze: readonly FrameClasses[],
  tally: Tally,
): void {
  for (const { record, verdicts } of records) {
    const frame = analyze[record.frame - 1];
    if (frame === undefined) {
      tally.disagreements.push(`${label}: record ${record.frame} has no frame`);
      continue;
    }
    for (const v of verdicts) {
      const c = v.proof.checksum;
      if (c !== undefined) {
        const found = frame.checksums.some(
          (a) => a.cls === c.cls && a.transport === c.transport && a.inner === c.inner,
        );
        if (!found)
          tally.disagreements.push(
            `${label} frame ${record.frame}: explain ${c.inner ? 'inner ' : ''}${c.transport} ${c.cls}, analyze ${JSON.stringify(frame.checksums)}`,
          );
        else tally.checksums[c.cls] = (tally.checksums[c.cls] ?? 0) + 1;
      }
      if (v.proof.superFrame !== undefined) {
        const analyzed = frame.superFrames > 0;
        if (analyzed !== v.proof.superFrame)
          tally.disagreements.push(
            `${label} frame ${record.frame}: explain super-frame ${v.proof.superFrame}, analyze ${analyzed}`,
          );
        else if (analyzed) tally.superFrames.yes++;
        else tally.superFrames.no++;
      }
      if (v.proof.udpSuperFrame !== undefined) {
        const analyzed = frame.udpSuperFrames > 0;
        if (analyzed !== v.proof.udpSuperFrame)
          tally.disagreements.push(
            `${label} frame ${record.frame}: explain UDP super-frame ${v.proof.udpSuperFrame}, analyze ${analyzed}`,
          );
        else if (analyzed) tally.udpSuperFrames.yes++;
        else tally.udpSuperFrames.no++;
      }
    }
  }
}
