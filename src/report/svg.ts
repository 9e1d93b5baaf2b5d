/**
 * The report's pictures as inline SVG, written by hand: the path of the busiest flow, a hop's
 * frame sizes and checksum classes, the findings over time. Each has a <title> and a <desc> that
 * say in words what it shows (role="img"), and every colour goes with a word or a pattern, so
 * nothing is told by colour alone. No script, no fonts, no external references.
 */

import type { Severity } from '../findings/catalog.js';
import { n, type PathPicture, type Timeline } from './document.js';
import type { ReportHop } from './model.js';

export function esc(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** The opening tag, title and description; `id` (unique in the page) names the latter two. */
function open(id: string, width: number, height: number, title: string, desc: string, cls: string): string {
  const t = `${id}-title`;
  const d = `${id}-desc`;
  return (
    `<svg class="${cls}" role="img" aria-labelledby="${t} ${d}" viewBox="0 0 ${width} ${height}" width="${width}" height="${height}" xmlns="http://www.w3.org/2000/svg">` +
    `<title id="${t}">${esc(title)}</title><desc id="${d}">${esc(desc)}</desc>`
  );
}

function text(x: number, y: number, content: string, attrs = ''): string {
  return `<text x="${x}" y="${y}"${attrs ? ` ${attrs}` : ''}>${esc(content)}</text>`;
}

/** Lines of at most `chars` characters made of whole items ("TSO on"), joined by commas. */
function wrapItems(items: readonly string[], chars: number): string[] {
  const lines: string[] = [];
  let line = '';
  for (const item of items) {
    if (line !== '' && line.length + 2 + item.length > chars) {
      lines.push(`${line},`);
      line = item;
    } else line = line === '' ? item : `${line}, ${item}`;
  }
  if (line !== '') lines.push(line);
  return lines;
}

const WIDTH = 1072;
const BOX_H = 90;
const COL_GAP = 58;
const ROW_GAP = 64;
const MAX_PER_ROW = 5;

/** Hops per row: at most MAX_PER_ROW, the rows as even as they can be. */
function perRow(count: number): number {
  const rows = Math.ceil(count / MAX_PER_ROW);
  return Math.ceil(count / rows);
}

/**
 * The path, left to right in rows: one box per hop (name, kind, MTU, offloads, the flow's largest
 * frames), an arrow to the next. A step where something happened carries a numbered marker, and
 * the numbered lines under the picture say what ("2 host1-vxlan-97 → host1-phy0: split into 45 ×
 * 1,448"). The problem hop gets a thick red frame and the words "problem here"; a problem step a
 * red dashed arrow, and a warning sign in its line.
 */
export function pathSvg(id: string, path: PathPicture): string {
  const count = path.nodes.length;
  const cols = perRow(count);
  const rows = Math.ceil(count / cols);
  const boxW = Math.min(240, (WIDTH - 16 - (cols - 1) * COL_GAP) / cols);
  const chars = Math.floor(boxW / 6.9);
  const notes = path.edges.map((edge, i) => ({ edge, i })).filter(({ edge }) => edge.labels.length > 0);
  const hopNotes = path.nodes.filter((node) => node.notes.length > 0);
  const legendTop = 8 + rows * (BOX_H + ROW_GAP) - ROW_GAP + 44;
  const legendLines = notes.length + hopNotes.reduce((sum, node) => sum + node.notes.length, 0);
  const height = legendTop + legendLines * 20 + 8;
  const parts: string[] = [open(id, WIDTH, height, `Path of ${path.flow}`, path.alt, 'path-svg')];
  parts.push(
    `<defs><marker id="${id}-arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" class="arrow-head"/></marker>` +
      `<marker id="${id}-arrow-bad" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" class="arrow-head-bad"/></marker></defs>`,
  );
  const at = (i: number) => {
    const row = Math.floor(i / cols);
    const col = i % cols;
    return { x: 8 + col * (boxW + COL_GAP), y: 8 + row * (BOX_H + ROW_GAP), row, col };
  };
  path.nodes.forEach((node, i) => {
    const { x, y } = at(i);
    const kind = node.kind.replace(/[^a-z]/g, '');
    parts.push(`<g class="hop-node">`);
    parts.push(
      `<rect class="hop-box${node.problem ? ' problem' : ''}" x="${x}" y="${y}" width="${boxW}" height="${BOX_H}" rx="6"/>`,
    );
    parts.push(
      `<rect class="kind-stripe kind-${kind}" x="${x}" y="${y}" width="${boxW}" height="5" rx="2"/>`,
    );
    parts.push(text(x + 10, y + 23, node.hop, 'class="hop-name"'));
    const mtu = node.mtu !== null ? `MTU ${n(node.mtu)}${node.mtuInferred ? '?' : ''}` : 'MTU ?';
    parts.push(text(x + 10, y + 39, `${node.kind} · ${mtu}`, 'class="hop-kind"'));
    // The flow's most common large frame only: the box has room for one.
    const largest = node.sizes.split(', ')[0] ?? '';
    const detail = [
      ...wrapItems(node.offloads, chars).slice(0, 2),
      ...(largest !== '' ? [`largest ${largest}`] : []),
    ];
    detail.slice(0, 3).forEach((line, k) => {
      parts.push(text(x + 10, y + 54 + k * 13, line, 'class="hop-detail"'));
    });
    if (node.problem) parts.push(text(x + 2, y + BOX_H + 17, '⚠ problem here', 'class="problem-label"'));
    parts.push('</g>');
  });
  const markerOf = new Map(notes.map(({ i }, k) => [i, k + 1]));
  path.edges.forEach((edge, i) => {
    const a = at(i);
    const b = at(i + 1);
    const cls = `edge${edge.problem ? ' edge-bad' : ''}`;
    const marker = `url(#${id}-arrow${edge.problem ? '-bad' : ''})`;
    let mx: number;
    let my: number;
    if (a.row === b.row) {
      const y = a.y + BOX_H / 2;
      parts.push(
        `<line class="${cls}" x1="${a.x + boxW + 2}" y1="${y}" x2="${b.x - 3}" y2="${y}" marker-end="${marker}"/>`,
      );
      mx = (a.x + boxW + b.x) / 2;
      my = y;
    } else {
      // To the next row: down from the last box, across, and down into the first one.
      const x1 = a.x + boxW / 2;
      const mid = a.y + BOX_H + ROW_GAP / 2 + 6;
      const x2 = b.x + boxW / 2;
      parts.push(
        `<path class="${cls}" fill="none" d="M${x1},${a.y + BOX_H + 2} V${mid} H${x2} V${b.y - 3}" marker-end="${marker}"/>`,
      );
      mx = (x1 + x2) / 2;
      my = mid;
    }
    const number = markerOf.get(i);
    if (number !== undefined) {
      parts.push(`<circle class="step${edge.problem ? ' bad' : ''}" cx="${mx}" cy="${my}" r="11"/>`);
      parts.push(text(mx, my + 4.5, String(number), 'class="step-number" text-anchor="middle"'));
    }
  });
  let line = 0;
  notes.forEach(({ edge, i }, k) => {
    const y = legendTop + line * 20;
    line++;
    const from = path.nodes[i]?.hop ?? '';
    const to = path.nodes[i + 1]?.hop ?? '';
    parts.push(`<circle class="step${edge.problem ? ' bad' : ''}" cx="20" cy="${y - 4.5}" r="9"/>`);
    parts.push(text(20, y, String(k + 1), 'class="step-number small" text-anchor="middle"'));
    const words = edge.labels
      .map((label) =>
        label.problem
          ? `<tspan class="bad">⚠ ${esc(label.text)}</tspan>`
          : `<tspan>${esc(label.text)}</tspan>`,
      )
      .join('; ');
    parts.push(
      `<text x="36" y="${y}" class="step-text"><tspan class="step-hops">${esc(`${from} → ${to}`)}:</tspan> ${words}</text>`,
    );
  });
  for (const node of hopNotes) {
    for (const note of node.notes) {
      const y = legendTop + line * 20;
      line++;
      parts.push(
        `<text x="36" y="${y}" class="step-text"><tspan class="step-hops">${esc(node.hop)}:</tspan> ${esc(note)}</text>`,
      );
    }
  }
  parts.push('</svg>');
  return parts.join('');
}

/**
 * Frame sizes of one hop: a row per non-empty size range (bytes), a bar and the number of frames.
 * Ranges wholly above what the hop's MTU lets a frame be (MTU + an Ethernet header with two VLAN
 * tags) are super-frames or a wrong MTU: drawn hatched and marked "> MTU" in words.
 */
export function sizesSvg(
  id: string,
  hop: ReportHop,
  rangeText: (b: ReportHop['frameSizes'][number]) => string,
): string {
  const buckets = hop.frameSizes;
  const width = 320;
  const labelW = 96;
  const barMax = width - labelW - 56;
  const rowH = 17;
  const height = Math.max(1, buckets.length) * rowH + 8;
  const max = Math.max(1, ...buckets.map((b) => b.frames));
  const largestFrame = hop.mtu !== null ? hop.mtu + 22 : null;
  const over = (b: ReportHop['frameSizes'][number]) => largestFrame !== null && b.min > largestFrame;
  const desc =
    buckets.length === 0
      ? 'No frames.'
      : `Frames by size in bytes (link header included): ${buckets.map((b) => `${rangeText(b)}: ${n(b.frames)}${over(b) ? ' (larger than the MTU)' : ''}`).join('; ')}.`;
  const parts = [open(id, width, height, `Frame sizes at ${hop.name}`, desc, 'chart sizes-svg')];
  parts.push(
    `<defs><pattern id="${id}-hatch" width="6" height="6" patternUnits="userSpaceOnUse" patternTransform="rotate(45)"><rect width="6" height="6" class="hatch-bg"/><line x1="0" y1="0" x2="0" y2="6" class="hatch-line"/></pattern></defs>`,
  );
  buckets.forEach((b, i) => {
    const y = 4 + i * rowH;
    const w = Math.max(2, Math.round((b.frames / max) * barMax));
    parts.push(text(labelW - 6, y + 11, rangeText(b), 'class="axis" text-anchor="end"'));
    parts.push(
      `<rect class="${over(b) ? 'bar-over' : 'bar'}"${over(b) ? ` fill="url(#${id}-hatch)"` : ''} x="${labelW}" y="${y + 2}" width="${w}" height="${rowH - 5}"/>`,
    );
    parts.push(
      text(labelW + w + 5, y + 11, `${n(b.frames)}${over(b) ? '  > MTU' : ''}`, 'class="bar-value"'),
    );
  });
  parts.push('</svg>');
  return parts.join('');
}

const CHECKSUM_CLASSES: ReadonlyArray<[keyof ReportHop['checksums'], string]> = [
  ['good', 'good'],
  ['partial', 'partial (offload)'],
  ['lco', 'lco (offload)'],
  ['zero', 'zero / none'],
  ['bad', 'BAD'],
  ['unverifiable', 'unverifiable'],
];

/** Checksum classes of one hop: one stacked bar, and a legend with the words and numbers. */
export function checksumSvg(id: string, hop: ReportHop): string {
  const classes = CHECKSUM_CLASSES.filter(([key]) => hop.checksums[key] > 0);
  const total = classes.reduce((sum, [key]) => sum + hop.checksums[key], 0);
  const width = 320;
  const height = 30 + classes.length * 17 + 6;
  const desc =
    total === 0
      ? 'No checksums checked.'
      : `Checksums: ${classes.map(([key, label]) => `${n(hop.checksums[key])} ${label}`).join(', ')}.`;
  const parts = [open(id, width, height, `Checksum classes at ${hop.name}`, desc, 'chart checksum-svg')];
  let x = 10;
  for (const [key, label] of classes) {
    const w = Math.max(2, ((width - 20) * hop.checksums[key]) / total);
    parts.push(
      `<rect class="ck ck-${key}" x="${x}" y="6" width="${w}" height="16"><title>${esc(`${n(hop.checksums[key])} ${label}`)}</title></rect>`,
    );
    x += w;
  }
  classes.forEach(([key, label], i) => {
    const y = 32 + i * 17;
    parts.push(`<rect class="ck ck-${key}" x="10" y="${y}" width="12" height="12"/>`);
    parts.push(
      text(28, y + 10, `${label}: ${n(hop.checksums[key])}`, `class="legend${key === 'bad' ? ' bad' : ''}"`),
    );
  });
  parts.push('</svg>');
  return parts.join('');
}

const SEVERITY_LABEL: Record<Severity, string> = {
  error: 'ERROR',
  warn: 'WARNING',
  note: 'NOTE',
  chat: 'INFO',
};

/** Findings over capture time: one row per finding, a bar from its first to its last occurrence. */
export function timelineSvg(id: string, timeline: Timeline): string {
  const labelW = 460;
  const chartW = 560;
  const rowH = 20;
  const width = labelW + chartW + 30;
  const height = 30 + timeline.rows.length * rowH + 24;
  const span = timeline.span > 0 ? timeline.span : 1;
  const desc = `Findings over ${timeline.span.toFixed(3)} s of capture from ${timeline.start ?? '?'}: ${timeline.rows
    .map(
      (r) => `${SEVERITY_LABEL[r.severity]} ${r.label} from ${r.start.toFixed(3)} s to ${r.end.toFixed(3)} s`,
    )
    .join('; ')}.`;
  const parts = [open(id, width, height, 'Findings over capture time', desc, 'chart timeline-svg')];
  const x0 = labelW;
  for (let k = 0; k <= 4; k++) {
    const x = x0 + (chartW * k) / 4;
    parts.push(`<line class="grid" x1="${x}" y1="22" x2="${x}" y2="${height - 22}"/>`);
    parts.push(
      text(x, height - 8, `${((timeline.span * k) / 4).toFixed(3)} s`, 'class="axis" text-anchor="middle"'),
    );
  }
  timeline.rows.forEach((row, i) => {
    const y = 26 + i * rowH;
    const label = `${SEVERITY_LABEL[row.severity]} ${row.label}`;
    parts.push(
      text(
        x0 - 8,
        y + 11,
        label.length > 50 ? `${label.slice(0, 49)}…` : label,
        `class="tl-label sev-${row.severity}" text-anchor="end"`,
      ),
    );
    const xs = x0 + (chartW * row.start) / span;
    const w = Math.max(4, (chartW * (row.end - row.start)) / span);
    parts.push(
      `<rect class="tl-bar sev-${row.severity}" x="${xs}" y="${y + 2}" width="${w}" height="12" rx="2"><title>${esc(`${row.label}: ${row.start.toFixed(3)}–${row.end.toFixed(3)} s`)}</title></rect>`,
    );
  });
  parts.push('</svg>');
  return parts.join('');
}
