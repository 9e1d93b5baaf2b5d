/**
 * The terminal summary: per hop one line (frames, checksum classes, super-frames, fragments),
 * then the findings by severity, each in plain words with its fix and evidence frames. Meant to
 * be read in ten seconds; colour only when writing to a terminal.
 */

import type { Report, ReportFinding, ReportHop } from './model.js';

export interface TextOptions {
  color: boolean;
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

function n(value: number): string {
  return value.toLocaleString('en-US');
}

function checksumSummary(hop: ReportHop): string {
  const c = hop.checksums;
  const parts: string[] = [];
  if (c.good) parts.push(`${n(c.good)} good`);
  if (c.partial) parts.push(`${n(c.partial)} partial`);
  if (c.lco) parts.push(`${n(c.lco)} lco`);
  if (c.zero) parts.push(`${n(c.zero)} zero`);
  if (c.bad) parts.push(`${n(c.bad)} BAD`);
  if (c.unverifiable) parts.push(`${n(c.unverifiable)} unverifiable`);
  return parts.length > 0 ? parts.join(', ') : 'none';
}

function superFrameSummary(hop: ReportHop): string {
  const sf = hop.superFrames;
  if (sf.count === 0) return 'none';
  const mss = sf.mss !== null ? `, MSS ${n(sf.mss)}` : '';
  const dir =
    sf.outgoing > 0 && sf.incoming === 0
      ? ', outgoing'
      : sf.incoming > 0 && sf.outgoing === 0
        ? ', incoming'
        : '';
  return `${n(sf.count)} (up to ${n(sf.maxPayload)} bytes${mss}${dir})`;
}

function fragmentSummary(hop: ReportHop): string {
  const f = hop.fragments;
  if (f.count === 0) return 'none';
  return `${n(f.count)} in ${n(f.datagrams)} datagrams, ${n(f.reassembled)} reassembled`;
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

export function renderText(report: Report, options: TextOptions): string {
  const paint = painter(options.color);
  const width = options.width ?? 100;
  const out: string[] = [];
  const frames = report.hops.reduce((sum, hop) => sum + hop.frames, 0);
  out.push(
    paint(
      'bold',
      `hopscope ${report.tool.version}: ${report.captures.length} capture${report.captures.length === 1 ? '' : 's'}, ${report.hops.length} hop${report.hops.length === 1 ? '' : 's'}, ${n(frames)} frames`,
    ),
  );
  for (const capture of report.captures) {
    for (const error of capture.errors) out.push(paint('red', `  ! ${error}`));
  }
  out.push('');
  for (const hop of report.hops) {
    const mtu = hop.mtu !== null ? `MTU ${n(hop.mtu)}${hop.mtuSource === 'inferred' ? '?' : ''}` : 'MTU ?';
    out.push(`${paint('bold', hop.name)}  ${paint('dim', `${hop.kind}, ${mtu}, ${n(hop.frames)} frames`)}`);
    out.push(`  checksums     ${checksumSummary(hop)}`);
    out.push(`  super-frames  ${superFrameSummary(hop)}`);
    out.push(`  fragments     ${fragmentSummary(hop)}`);
    if (hop.pmtu.messages > 0)
      out.push(`  path MTU      ${n(hop.pmtu.messages)} ICMP messages, MTU ${hop.pmtu.minMtu}`);
    if (hop.malformed > 0) out.push(paint('yellow', `  malformed     ${n(hop.malformed)} frames`));
  }
  out.push('');
  if (report.findings.length === 0) {
    out.push(paint('green', 'No findings.'));
    return `${out.join('\n')}\n`;
  }
  out.push(paint('bold', `Findings (${report.findings.length})`));
  for (const finding of report.findings) {
    const label = paint(SEVERITY_STYLE[finding.severity], finding.severity.toUpperCase().padEnd(5));
    const where = finding.flow !== null ? `${finding.hop}  ${finding.flow}` : finding.hop;
    out.push('');
    out.push(`${label} ${paint('bold', finding.title)}  ${paint('dim', `[${finding.code}]`)}`);
    out.push(`      ${where}`);
    out.push(wrap(finding.explanation, width, '      '));
    out.push(wrap(`Fix: ${finding.fix}`, width, '      '));
    const frames = finding.evidence.map((e) => e.frame).join(', ');
    if (frames.length > 0) {
      out.push(
        paint(
          'dim',
          `      Evidence: ${finding.hop} frame${finding.evidence.length === 1 ? '' : 's'} ${frames}`,
        ),
      );
    }
  }
  return `${out.join('\n')}\n`;
}
