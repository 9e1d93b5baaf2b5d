/**
 * The terminal summary: per hop one line (frames, checksum classes, super-frames, fragments),
 * then the findings by severity, each in plain words with its fix and evidence frames. Meant to
 * be read in ten seconds; colour only when writing to a terminal.
 */

import { phraseText } from '../findings/catalog.js';
import { sameFlow } from '../observe/flow-key.js';
import type { Report, ReportFinding, ReportHop } from './model.js';

export interface TextOptions {
  color: boolean;
  /** Explain every finding, not only warnings and errors. */
  verbose?: boolean;
  /** Wrap width for explanations. */
  width?: number;
}

const ANSI = {
  reset: '\u001b[0m',
  bold: '\u001b[1m',
  dim: '\u001b[2m',
  red: '\u001b[31m',
  yellow: '\u001b[33m',
  cyan: '\u001b[36m',
  green: '\u001b[32m',
} as const;

type Paint = (style: keyof typeof ANSI, text: string) => string;

function painter(color: boolean): Paint {
  return color ? (style, text) => `${ANSI[style]}${text}${ANSI.reset}` : (_style, text) => text;
}

const SEVERITY_STYLE: Record<ReportFinding['severity'], keyof typeof ANSI> = {
  error: 'red',
  warn: 'yellow',
  note: 'cyan',
  chat: 'dim',
};

/**
 * A count with thousands separators, as toLocaleString('en-US') writes it. Whole numbers (every
 * count) are grouped here: the first toLocaleString of a run builds ICU's number format, ~5 ms of a
 * short run. Anything else goes to toLocaleString.
 */
export function formatCount(value: number): string {
  if (!Number.isSafeInteger(value) || Object.is(value, -0)) return value.toLocaleString('en-US');
  const digits = String(Math.abs(value));
  let out = digits.slice(0, ((digits.length - 1) % 3) + 1);
  for (let i = out.length; i < digits.length; i += 3) out += `,${digits.slice(i, i + 3)}`;
  return value < 0 ? `-${out}` : out;
}
const n = formatCount;

/**
 * A hop's checksum classes in one line ("173 good, 154 partial"); `bad` words the count of really
 * wrong ones, stressed the way the output format stresses text (the terminal's: capitals).
 */
export function checksumSummary(
  hop: ReportHop,
  bad: (count: string) => string = (count) => `${count} BAD`,
): string {
  const c = hop.checksums;
  const parts: string[] = [];
  if (c.good) parts.push(`${n(c.good)} good`);
  if (c.partial) parts.push(`${n(c.partial)} partial`);
  if (c.lco) parts.push(`${n(c.lco)} lco`);
  if (c.zero) parts.push(`${n(c.zero)} zero`);
  if (c.bad) parts.push(bad(n(c.bad)));
  if (c.unverifiable) parts.push(`${n(c.unverifiable)} unverifiable`);
  return parts.length > 0 ? parts.join(', ') : '-';
}

function superFrameSummary(hop: ReportHop): string {
  const sf = hop.superFrames;
  if (sf.count === 0) return '-';
  const mss = sf.mss !== null ? `, MSS ${n(sf.mss)}` : '';
  const dir =
    sf.outgoing > 0 && sf.incoming === 0
      ? ', outgoing'
      : sf.incoming > 0 && sf.outgoing === 0
        ? ', incoming'
        : '';
  return `${n(sf.count)}, up to ${n(sf.maxPayload)}${mss}${dir}`;
}

function fragmentSummary(hop: ReportHop): string {
  const f = hop.fragments;
  if (f.count === 0) return '-';
  return `${n(f.count)} in ${n(f.datagrams)} datagrams, ${n(f.reassembled)} rebuilt`;
}

function wrap(text: string, width: number, indent: string): string {
  const words = text.split(/\s+/);
  const lines: string[] = [];
  let line = '';
  for (const word of words) {
    if (line.length > 0 && line.length + 1 + word.length > width - indent.length) {
      lines.push(line);
      line = word;
    } else {
      line = line.length > 0 ? `${line} ${word}` : word;
    }
  }
  if (line.length > 0) lines.push(line);
  return lines.map((l) => indent + l).join('\n');
}

function sizesText(sizes: ReadonlyArray<{ size: number; frames: number }>): string {
  return sizes.length === 0 ? 'no data' : sizes.map((s) => `${s.size} x${n(s.frames)}`).join(', ');
}

const pathBytes = (p: Report['paths'][number]) => Math.max(0, ...p.hops.map((h) => h.bytes));

/** The flows worth a person's ten seconds: up to three, each with at least 1% of the busiest one's data. */
function shownPaths(report: Report): Report['paths'] {
  const top = report.paths[0] !== undefined ? pathBytes(report.paths[0]) : 0;
  return report.paths.filter((p) => top > 0 && pathBytes(p) >= top / 100).slice(0, 3);
}

/** The path of the busiest flows as a chain of hops, with what changed between neighbours. */
function renderPaths(report: Report, paint: Paint, width: number): string[] {
  const out: string[] = [];
  const shown = shownPaths(report);
  if (shown.length === 0) return out;
  out.push('');
  const measured = Object.entries(report.clockOffsets).filter((e): e is [string, number] => e[1] !== null);
  const offsets = measured.filter(([, s]) => Math.abs(s) >= 0.001);
  const unknown = Object.entries(report.clockOffsets)
    .filter(([, s]) => s === null)
    .map(([hop]) => hop);
  // "Agree" only for offsets actually measured: a capture that shares no data has none.
  const clocks = [
    ...(offsets.length === 0 && measured.length > 1 ? ['clocks agree within 1 ms'] : []),
    ...(offsets.length > 0
      ? [
          `clock offsets: ${offsets.map(([hop, s]) => `${hop} ${s > 0 ? '+' : ''}${s.toFixed(3)} s`).join(', ')}`,
        ]
      : []),
    ...(unknown.length > 0 ? [`clock unknown, no data in common: ${unknown.join(', ')}`] : []),
  ];
  out.push(paint('bold', 'Paths') + (clocks.length > 0 ? paint('dim', `  (${clocks.join('; ')})`) : ''));
  for (const path of shown) {
    const mss =
      path.mss !== null
        ? `  MSS ${path.mss}`
        : path.mssEstimated !== null
          ? `  MSS ~${path.mssEstimated.mss} (estimated: no SYN captured)`
          : '';
    out.push(`${path.flow}${mss !== '' ? paint('dim', mss) : ''}`);
    const chain = path.hops.map((h) => `${h.hop} [${sizesText(h.sizes.slice(0, 2))}]`).join(' -> ');
    out.push(wrap(chain, width, '  '));
    const notes: string[] = [];
    if (path.splitAt !== null) {
      const mechanism = phraseText('segment.split', 'mechanism', { mechanism: path.splitAt.mechanism });
      notes.push(
        path.splitAt.to !== null
          ? `split ${path.splitAt.from} -> ${path.splitAt.to} into ${path.splitAt.segmentSize}-byte segments (${mechanism})`
          : `still whole at ${path.splitAt.from}: ${mechanism}`,
      );
    }
    if (path.mergedAt !== null) notes.push(`merged ${path.mergedAt.from} -> ${path.mergedAt.to} (GRO/LRO)`);
    if (path.fragmentedAt !== null) {
      const f = path.fragmentedAt;
      notes.push(`fragmented at ${f.hop} (${f.innerSize} + ${f.overhead ?? '?'} > MTU ${f.mtu ?? '?'})`);
    }
    if (path.lostAt !== null) {
      notes.push(`lost ${n(path.lostAt.bytes)} bytes between ${path.lostAt.from} and ${path.lostAt.to}`);
    }
    for (const gap of path.gaps) notes.push(`capture gap at ${gap.hop}: ${n(gap.bytes)} bytes`);
    if (path.missing.length > 0) notes.push(`not captured: ${path.missing.join(', ')}`);
    if (path.orderedBy !== 'evidence')
      notes.push(`order from ${path.orderedBy === 'path' ? '--path' : 'the topology'}`);
    for (const note of notes) out.push(paint('cyan', `  * ${note}`));
  }
  if (report.paths.length > shown.length) {
    out.push(paint('dim', `  (${report.paths.length - shown.length} more flows in --json)`));
  }
  return out;
}

/** "host1-vxlan-97 frame 21; host1-phy0 frame 21": evidence frames grouped by hop, in order. */
function evidenceText(evidence: ReadonlyArray<{ hop: string; frame: number }>): string {
  const byHop = new Map<string, number[]>();
  for (const e of evidence) {
    const frames = byHop.get(e.hop);
    if (frames === undefined) byHop.set(e.hop, [e.frame]);
    else frames.push(e.frame);
  }
  return [...byHop]
    .map(([hop, frames]) => `${hop} frame${frames.length === 1 ? '' : 's'} ${frames.join(', ')}`)
    .join('; ');
}

interface FindingGroup {
  first: ReportFinding;
  members: ReportFinding[];
}

/** Findings with the same code and flow at several hops are told once, with the hops listed. */
function groupFindings(findings: readonly ReportFinding[]): FindingGroup[] {
  const groups = new Map<string, FindingGroup>();
  for (const finding of findings) {
    const key = `${finding.code}\u0000${finding.flow ?? ''}`;
    const group = groups.get(key);
    if (group === undefined) groups.set(key, { first: finding, members: [finding] });
    else group.members.push(finding);
  }
  return [...groups.values()];
}

function pad(text: string, width: number): string {
  return text.length >= width ? text : text + ' '.repeat(width - text.length);
}

function table(rows: string[][]): string[] {
  const widths: number[] = [];
  for (const row of rows) {
    for (let i = 0; i < row.length; i++) widths[i] = Math.max(widths[i] ?? 0, (row[i] as string).length);
  }
  return rows.map((row) =>
    row
      .map((cell, i) => (i === row.length - 1 ? cell : pad(cell, widths[i] ?? 0)))
      .join('  ')
      .trimEnd(),
  );
}

export function renderText(report: Report, options: TextOptions): string {
  const paint = painter(options.color);
  const width = options.width ?? 100;
  const verbose = options.verbose ?? false;
  const out: string[] = [];
  const frames = report.hops.reduce((sum, hop) => sum + hop.frames, 0);
  const plural = (count: number, word: string) => `${n(count)} ${word}${count === 1 ? '' : 's'}`;
  out.push(
    paint(
      'bold',
      `hopscope ${report.tool.version}: ${plural(report.captures.length, 'capture')}, ${plural(report.hops.length, 'hop')}, ${plural(frames, 'frame')}`,
    ),
  );
  for (const capture of report.captures) {
    for (const error of capture.errors) out.push(paint('red', `! ${error}`));
  }
  out.push('');
  const rows: string[][] = [['HOP', 'KIND', 'MTU', 'FRAMES', 'CHECKSUMS', 'SUPER-FRAMES', 'FRAGMENTS']];
  // Along the busiest flow's path when there is one; hops it does not cross follow in capture order.
  const along = report.paths[0]?.hops.map((h) => h.hop) ?? [];
  const rank = (name: string) => {
    const at = along.indexOf(name);
    return at < 0 ? along.length : at;
  };
  const hopsInOrder = report.hops
    .map((hop, index) => ({ hop, index }))
    .sort((a, b) => rank(a.hop.name) - rank(b.hop.name) || a.index - b.index)
    .map(({ hop }) => hop);
  for (const hop of hopsInOrder) {
    const mtu = hop.mtu !== null ? `${n(hop.mtu)}${hop.mtuSource === 'inferred' ? '?' : ''}` : '?';
    rows.push([
      hop.name,
      hop.kind,
      mtu,
      n(hop.frames),
      checksumSummary(hop),
      superFrameSummary(hop),
      fragmentSummary(hop),
    ]);
  }
  const lines = table(rows);
  out.push(paint('dim', lines[0] ?? ''));
  out.push(...lines.slice(1));
  const icmp = report.hops.filter((hop) => hop.pmtu.messages > 0);
  for (const hop of icmp) {
    out.push(
      `${hop.name}: ${n(hop.pmtu.messages)} ICMP need-to-frag / packet-too-big, MTU ${hop.pmtu.minMtu}`,
    );
  }
  for (const hop of report.hops.filter((h) => h.malformed > 0)) {
    out.push(paint('yellow', `${hop.name}: ${n(hop.malformed)} malformed frames`));
  }
  out.push(...renderPaths(report, paint, width));
  out.push('');
  if (report.findings.length === 0) {
    out.push(paint('green', 'No findings.'));
    return `${out.join('\n')}\n`;
  }
  const groups = groupFindings(report.findings);
  out.push(paint('bold', `Findings (${report.findings.length})`));
  // Flow findings of flows too small to be drawn above are left to --verbose and --json.
  const shown = shownPaths(report);
  const drawn = new Set(shown.map((p) => p.flow));
  // With a path drawn, its split/merge and path-wide checksum findings say what the per-hop notes
  // about super-frames and partial checksums say, hop by hop: those are left to --verbose too.
  const pathChecksums = report.findings.some((f) => f.code === 'checksum.partial' && f.flow !== null);
  const hidden = groups.filter((g) => {
    if (verbose) return false;
    const flow = g.first.flow;
    if (flow !== null && report.paths.some((p) => p.flow === flow) && !drawn.has(flow)) return true;
    const key = g.first.flowKey;
    if (g.first.code === 'segment.super-frame' && key !== null && shown.some((p) => sameFlow(p.flowKey, key)))
      return true;
    return g.first.code === 'checksum.partial' && flow === null && pathChecksums;
  });
  for (const { first, members } of groups) {
    if (hidden.some((g) => g.first === first)) continue;
    const label = paint(SEVERITY_STYLE[first.severity], first.severity.toUpperCase().padEnd(5));
    const hops = members.map((m) => `${m.hop} (${n(m.count)})`).join(', ');
    out.push('');
    out.push(`${label} ${paint('bold', first.title)}  ${paint('dim', `[${first.code}]`)}`);
    out.push(wrap(`at ${hops}${first.flow !== null ? `: ${first.flow}` : ''}`, width, '      '));
    const detailed = verbose || first.severity === 'error' || first.severity === 'warn';
    if (detailed) out.push(wrap(first.explanation, width, '      '));
    const summary = typeof first.summary === 'string' && first.summary !== '' ? first.summary : null;
    if (!detailed && summary !== null) out.push(wrap(summary, width, '      '));
    else if (detailed || first.severity === 'note') out.push(wrap(`Fix: ${first.fix}`, width, '      '));
    if (detailed) {
      const evidence = evidenceText(first.evidence);
      if (evidence !== '') out.push(paint('dim', wrap(`Evidence: ${evidence}`, width, '      ')));
    }
  }
  if (hidden.length > 0) {
    out.push('');
    out.push(
      paint('dim', `${hidden.length} more findings (per-hop details, small flows): --verbose or --json.`),
    );
  }
  if (!verbose && groups.some((g) => g.first.severity === 'note' || g.first.severity === 'chat')) {
    out.push('');
    out.push(paint('dim', 'Notes are shortened; --verbose explains each, --json gives everything.'));
  }
  return `${out.join('\n')}\n`;
}
