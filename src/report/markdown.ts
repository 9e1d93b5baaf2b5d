/**
 * The report as Markdown, for a ticket or a code-hosting site: the verdict first, the path as a
 * table (Markdown has no pictures of its own), hops, findings with their evidence lines, timeline
 * and environment. Same content as the HTML report (document.ts), none of its charts.
 */

import { reportWords } from '../findings/catalog.js';
import type { ReportContext } from './context.js';
import {
  buildDocument,
  type GroupedFinding,
  n,
  pathSteps,
  type ReportDocument,
  sizeLine,
} from './document.js';
import type { EvidenceFrame, EvidenceTag } from './evidence.js';
import type { Report, ReportHop } from './model.js';
import { checksumSummary } from './text.js';

/**
 * Evidence lines in Markdown, kept short for a ticket (the HTML report and --json have them all):
 * for a problem two per hop, for a note one example.
 */
const PROBLEM_EVIDENCE_PER_HOP = 2;
const NOTE_EVIDENCE = 1;

/**
 * Text safe in Markdown, escaped no more than needed so it still reads as plain text in a ticket:
 * no HTML tags (`<dev>`), no emphasis, code or table breaks by accident. Brackets stay (a link
 * needs `](`, which report text never has); underscores inside words stay (GFM does not
 * emphasise them: tx-udp_tnl-segmentation).
 */
export function md(text: string): string {
  return text
    .replace(/\\/g, '\\\\')
    .replace(/<(?=[A-Za-z/!?])/g, '&lt;')
    .replace(/^>/gm, '\\>')
    .replace(/([*`|])/g, '\\$1')
    .replace(/(^|\W)_|_(?=\W|$)/g, (match) => match.replace('_', '\\_'));
}

/** Inline code; backticks inside get a longer fence. */
function code(text: string): string {
  const fence = text.includes('`') ? '``' : '`';
  return `${fence}${text.includes('`') ? ` ${text} ` : text}${fence}`;
}

const SEVERITY_WORD = { error: 'ERROR', warn: 'WARNING', note: 'NOTE', chat: 'INFO' } as const;

function table(head: string[], rows: string[][]): string[] {
  return [
    `| ${head.join(' | ')} |`,
    `| ${head.map(() => '---').join(' | ')} |`,
    ...rows.map((r) => `| ${r.join(' | ')} |`),
  ];
}

export function sizeRange(bucket: ReportHop['frameSizes'][number]): string {
  return bucket.max === null ? `> ${n(bucket.min - 1)}` : `${n(bucket.min)}–${n(bucket.max)}`;
}

/** The two most common frame-size ranges of a hop. */
function commonSizes(hop: ReportHop): string {
  return (
    [...hop.frameSizes]
      .sort((a, b) => b.frames - a.frames)
      .slice(0, 2)
      .map((b) => `${sizeRange(b)}: ${n(b.frames)}`)
      .join('; ') || '-'
  );
}

function evidenceLine(line: EvidenceFrame, tags: readonly EvidenceTag[]): string {
  const text = line.parts.map((p) => p.text).join(' ');
  const marked = line.parts
    .filter((p) => p.tag !== undefined && tags.includes(p.tag))
    .map((p) => `**${md(p.text)}**`);
  return `${code(text)}${marked.length > 0 ? ` — ${marked.join(', ')}` : ''}`;
}

function renderFinding(group: GroupedFinding): string[] {
  const { first, members } = group;
  const out: string[] = [];
  out.push(`### ${SEVERITY_WORD[first.severity]}: ${md(first.title)}`);
  out.push('');
  const at = members.map((m) => `${md(m.hop)} (${n(m.count)})`).join(', ');
  out.push(`${code(first.code)} at ${at}${first.flow !== null ? `: ${md(first.flow)}` : ''}`);
  out.push('');
  out.push(md(first.explanation));
  out.push('');
  out.push(`**Fix:** ${md(first.fix)}`);
  if (group.evidence.length > 0) {
    const problem = first.severity === 'error' || first.severity === 'warn';
    out.push('');
    out.push(problem ? '**Evidence:**' : '**Evidence** (an example):');
    out.push('');
    const shown = new Map<string, number>();
    let total = 0;
    let left = 0;
    for (const e of group.evidence) {
      const count = shown.get(e.hop) ?? 0;
      if (problem ? count >= PROBLEM_EVIDENCE_PER_HOP : total >= NOTE_EVIDENCE) {
        left++;
        continue;
      }
      shown.set(e.hop, count + 1);
      total++;
      const where =
        e.line !== null ? `${code(e.line.capture)} frame ${e.frame}` : `${md(e.hop)} frame ${e.frame}`;
      out.push(`- ${where}${e.line !== null ? `: ${evidenceLine(e.line, group.tags)}` : ''}`);
    }
    if (left > 0) out.push(`- … ${left} more evidence frames in the HTML report`);
  }
  out.push('');
  return out;
}

function renderPath(doc: ReportDocument): string[] {
  const path = doc.path;
  if (path === null) return [];
  const out: string[] = ['## Path', '', md(path.alt), ''];
  const rows = path.nodes.map((node, i) => {
    const mtu = node.mtu !== null ? `${n(node.mtu)}${node.mtuInferred ? ' (inferred)' : ''}` : '?';
    const edge = path.edges[i];
    const then =
      edge !== undefined && edge.labels.length > 0
        ? edge.labels.map((label) => `${label.problem ? '⚠ ' : ''}${md(label.text)}`).join('; ')
        : '';
    return [
      String(i + 1),
      `${node.problem ? '⚠ ' : ''}${md(node.hop)}${node.problem ? ' (problem)' : ''}`,
      md(node.kind),
      mtu,
      md(node.offloads.join(', ')) || '-',
      md(node.sizes) || '-',
      [...node.notes.map(md), then !== '' ? `then ${then}` : ''].filter(Boolean).join('; '),
    ];
  });
  out.push(
    ...table(
      ['#', 'Hop', 'Kind', 'MTU', 'Offloads', 'Largest frames of the flow', 'What happens next'],
      rows,
    ),
  );
  out.push('');
  if (doc.otherPaths.length > 0) {
    out.push('### Other flows across the hops', '');
    out.push(
      ...table(
        ['Flow', 'Hops', 'What happened'],
        doc.otherPaths.map((p) => {
          const steps = pathSteps(p);
          const first = p.nodes[0]?.hop ?? '';
          const last = p.nodes[p.nodes.length - 1]?.hop ?? '';
          return [
            md(p.flow),
            `${p.nodes.length}: ${md(first)} → ${md(last)}`,
            steps.length > 0
              ? steps.map((step) => `${step.problem ? '⚠ ' : ''}${md(step.text)}`).join('; ')
              : md(reportWords('pathQuiet', {})),
          ];
        }),
      ),
    );
    out.push('');
    if (doc.morePaths > 0) out.push(md(reportWords('morePaths', { count: n(doc.morePaths) })), '');
  }
  return out;
}

function renderEnvironment(report: Report, context: ReportContext): string[] {
  const out: string[] = ['## Environment', ''];
  const rows = context.captures.map((c) => [
    code(c.path),
    md(c.hops.join(', ')) || '-',
    c.bytes !== null ? `${n(c.bytes)} B` : '-',
    c.sha256 !== null ? code(c.sha256) : '-',
    c.firstSeen ?? '-',
    c.lastSeen ?? '-',
    c.snaplen !== null ? n(c.snaplen) : '-',
    md(c.linkTypes.join(', ')) || '-',
  ]);
  out.push(
    ...table(
      ['Capture', 'Hops', 'Size', 'SHA-256', 'First frame', 'Last frame', 'Snap length', 'Link type'],
      rows,
    ),
  );
  out.push('');
  const offsets = Object.entries(report.clockOffsets);
  if (offsets.length > 0) {
    const known = offsets
      .filter(([, s]) => s !== null)
      .map(
        ([hop, s]) => `${md(hop)} ${(s as number) >= 0 ? '+' : ''}${((s as number) * 1000).toFixed(3)} ms`,
      );
    const unknown = offsets.filter(([, s]) => s === null).map(([hop]) => md(hop));
    out.push(
      `Clock offsets (estimated from the traffic${context.clockReference !== null ? `, against ${md(context.clockReference)}` : ''}; ${context.clockOffsetsApplied ? 'applied to the timeline' : 'not applied'}): ${known.join(', ') || 'none'}${unknown.length > 0 ? `; unknown: ${unknown.join(', ')}` : ''}.`,
    );
    out.push('');
  }
  const made = context.generatedAt !== null ? `, report made ${context.generatedAt}` : '';
  out.push(`hopscope ${md(context.version)}${made}: ${code(['hopscope', ...context.commandLine].join(' '))}`);
  out.push('');
  return out;
}

export function renderMarkdown(report: Report, context: ReportContext): string {
  const doc = buildDocument(report, context);
  const out: string[] = [];
  out.push(`# hopscope report: ${md(doc.verdict.headline)}`);
  out.push('');
  out.push(`${sizeLine(report, doc, ', ')}.`);
  out.push('');
  out.push('## Verdict');
  out.push('');
  if (doc.verdict.problems.length > 0) {
    out.push('**What is wrong**');
    out.push('');
    doc.verdict.problems.forEach((p, i) => {
      out.push(`${i + 1}. **${SEVERITY_WORD[p.severity]}** ${md(p.text)}  `);
      out.push(`   **Fix:** ${md(p.fix)}`);
    });
    out.push('');
  }
  if (doc.verdict.fine.length > 0) {
    out.push('**What is fine**');
    out.push('');
    for (const line of doc.verdict.fine) out.push(`- ${md(line)}`);
    out.push('');
  }
  out.push(...renderPath(doc));
  out.push('## Hops', '');
  out.push(
    ...table(
      ['Hop', 'Kind', 'MTU', 'Frames', 'Checksums', 'Super-frames', 'Fragments', 'Most frames (bytes)'],
      doc.hops.map((hop) => [
        md(hop.name),
        md(hop.kind),
        hop.mtu !== null ? `${n(hop.mtu)}${hop.mtuSource === 'inferred' ? ' (inferred)' : ''}` : '?',
        n(hop.frames),
        checksumSummary(hop, (count) => `**${count} bad**`),
        hop.superFrames.count > 0
          ? `${n(hop.superFrames.count)}, up to ${n(hop.superFrames.maxPayload)}`
          : '-',
        hop.fragments.count > 0
          ? `${n(hop.fragments.count)} in ${n(hop.fragments.datagrams)} datagrams`
          : '-',
        commonSizes(hop),
      ]),
    ),
  );
  out.push('');
  out.push(`## Findings (${n(doc.groups.length)})`, '');
  if (doc.groups.length === 0) out.push('No findings.', '');
  for (const group of doc.groups) out.push(...renderFinding(group));
  if (doc.timeline.rows.length > 0) {
    out.push('## Timeline', '');
    out.push(`Seconds from ${doc.timeline.start ?? '?'} (clock offsets applied where known).`, '');
    out.push(
      ...table(
        ['Finding', 'First (s)', 'Last (s)'],
        doc.timeline.rows.map((row) => [code(row.label), row.start.toFixed(3), row.end.toFixed(3)]),
      ),
    );
    out.push('');
  }
  out.push(...renderEnvironment(report, context));
  return `${out
    .join('\n')
    .replace(/\n{3,}/g, '\n\n')
    .trimEnd()}\n`;
}
