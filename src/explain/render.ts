/**
 * What `hopscope explain` prints: each input line as it came, followed by the verdicts on the packet
 * it ends (text); one JSON object per explained packet (--json, NDJSON); and the summary: counts
 * per verdict and the one-paragraph verdict in the catalogue's words.
 */

import { lineText } from '../findings/catalog.js';
import type { Verdict } from './classify.js';
import type { Explained, Output, Summary } from './explain.js';

export interface RenderOptions {
  json: boolean;
  /** Print only the summary (not the lines). */
  summaryOnly: boolean;
  color: boolean;
}

const MARK = '  ↳ ';

/** The text to write for one piece of output ('' when there is nothing to write). */
export function renderOutput(output: Output, options: RenderOptions): string {
  if (output.kind === 'line') return options.json || options.summaryOnly ? '' : `${output.text}\n`;
  if (options.summaryOnly) return '';
  const notable = output.explained.verdicts.filter((v) => v.notable);
  if (notable.length === 0) return '';
  if (options.json) return `${JSON.stringify(explainedJson(output.explained, notable))}\n`;
  const mark = options.color ? `\u001b[36m${MARK}` : MARK;
  const end = options.color ? '\u001b[0m' : '';
  return notable.map((v) => `${mark}${lineText(v.code, v.facts)}${end}\n`).join('');
}

/** One explained packet as JSON: where it is, its lines, and each verdict with its words and facts. */
export function explainedJson(explained: Explained, notable: readonly Verdict[]): object {
  const { record } = explained;
  return {
    frame: record.frame,
    dialect: record.dialect,
    lines: record.lines,
    verdicts: notable.map((v) => ({
      code: v.code,
      ...(v.proof.checksum !== undefined
        ? {
            checksum: {
              layer: `${v.proof.checksum.inner ? 'inner ' : ''}${v.proof.checksum.transport}`,
              class: v.proof.checksum.cls,
            },
          }
        : {}),
      ...(v.proof.superFrame !== undefined ? { superFrame: v.proof.superFrame } : {}),
      words: lineText(v.code, v.facts),
      facts: v.facts,
    })),
  };
}

export function renderSummary(summary: Summary, options: RenderOptions): string {
  if (options.json) return `${JSON.stringify({ summary })}\n`;
  const width = Math.max(0, ...summary.entries.map((e) => e.code.length));
  const rows = summary.entries.map((e) =>
    `  ${e.code.padEnd(width)}  ${String(e.count).padStart(6)}  ${e.title === e.code ? '' : e.title}`.trimEnd(),
  );
  const head = `hopscope explain: ${summary.lines} lines, ${summary.packets} packets, ${summary.explained} explained`;
  return `${[head, ...rows, '', summary.verdict].join('\n')}\n`;
}
