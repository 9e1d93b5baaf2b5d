/**
 * The report as one self-contained HTML file: to attach to a ticket, open offline, print. No
 * network (a Content-Security-Policy forbids it), no fonts or CDN, readable without script; a few
 * lines of script add sorting to the tables and a severity filter to the findings. Real headings,
 * tables with headers, pictures with text alternatives (svg.ts), severities written out beside
 * their colours. Same content as the Markdown (document.ts).
 */

import { basename } from 'node:path';
import { reportWords } from '../findings/catalog.js';
import { OFFLOAD_FEATURES, type ReportContext } from './context.js';
import {
  buildDocument,
  type GroupedFinding,
  n,
  pathSteps,
  type ReportDocument,
  sizeLine,
} from './document.js';
import type { EvidenceFrame, EvidenceTag } from './evidence.js';
import { sizeRange } from './markdown.js';
import type { Report, ReportHop } from './model.js';
import { checksumSvg, esc, pathSvg, sizesSvg, timelineSvg } from './svg.js';
import { checksumSummary } from './text.js';

const SEVERITY_WORD = { error: 'ERROR', warn: 'WARNING', note: 'NOTE', chat: 'INFO' } as const;

const STYLE = `
:root{--fg:#1d2433;--muted:#5b6478;--line:#d5dae3;--bg:#fff;--soft:#f5f7fa;--error:#b42318;--warn:#a15c07;--note:#175cd3;--chat:#5b6478;--ok:#067647}
*{box-sizing:border-box}
body{margin:0;font:15px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif;color:var(--fg);background:var(--bg)}
header,main,footer{max-width:1120px;margin:0 auto;padding:0 24px}
header{padding-top:20px;border-bottom:1px solid var(--line)}
h1{font-size:22px;margin:0 0 2px}h2{font-size:19px;margin:32px 0 10px;padding-bottom:4px;border-bottom:1px solid var(--line)}h3{font-size:16px;margin:18px 0 6px}
.sub{color:var(--muted);margin:0 0 10px}
nav ul{display:flex;flex-wrap:wrap;gap:4px 16px;list-style:none;padding:0;margin:8px 0 12px}nav a{color:var(--note)}
.verdict{border:2px solid var(--line);border-radius:8px;padding:4px 20px 12px;margin-top:18px}
.verdict.wrong{border-color:var(--error);background:#fff8f7}.verdict.ok{border-color:var(--ok);background:#f6fef9}
.headline{font-size:19px;font-weight:650;margin:10px 0}
.verdict ol,.verdict ul{padding-left:22px}.verdict li{margin:6px 0}
.fix{margin:4px 0 0;padding:6px 10px;background:var(--soft);border-left:4px solid var(--ok);border-radius:3px}
.badge{display:inline-block;font-size:12px;font-weight:700;letter-spacing:.03em;padding:1px 7px;border-radius:10px;color:#fff;vertical-align:1px}
.badge.error{background:var(--error)}.badge.warn{background:var(--warn)}.badge.note{background:var(--note)}.badge.chat{background:var(--chat)}
.ok-mark{color:var(--ok);font-weight:700}
table{border-collapse:collapse;width:100%;margin:8px 0;font-size:14px}
th,td{border-bottom:1px solid var(--line);padding:5px 8px;text-align:left;vertical-align:top}
th{background:var(--soft);font-weight:600}td.num,th.num{text-align:right;font-variant-numeric:tabular-nums}
th button{all:unset;cursor:pointer}th button::after{content:" \\2195" / "";color:var(--muted)}
.scroll{overflow-x:auto}
code,.mono{font:13px/1.45 ui-monospace,"SFMono-Regular",Menlo,Consolas,monospace}
svg{max-width:100%;height:auto;font-family:system-ui,-apple-system,"Segoe UI",Roboto,Arial,sans-serif}
.hop-box{fill:#fff;stroke:#8a94a6;stroke-width:1.2}.hop-box.problem{stroke:var(--error);stroke-width:3;fill:#fff5f4}
.hop-box.problem+.kind-stripe{fill:var(--error)}.kind-stripe{fill:#8a94a6}.kind-stripe.kind-guest{fill:#6941c6}.kind-stripe.kind-tap{fill:#0e9384}.kind-stripe.kind-bridge{fill:#175cd3}.kind-stripe.kind-vxlan,.kind-stripe.kind-geneve{fill:#c11574}.kind-stripe.kind-physical{fill:#344054}
.hop-name{font-size:14.5px;font-weight:700;fill:var(--fg)}.hop-kind{font-size:12px;fill:var(--muted)}.hop-detail{font-size:11px;fill:var(--muted)}
.hop-note{font-size:12px;fill:var(--warn)}.problem-label{font-size:13px;font-weight:700;fill:var(--error)}
.edge{stroke:#8a94a6;stroke-width:2}.edge-bad{stroke:var(--error);stroke-width:2.5;stroke-dasharray:6 4}
.arrow-head{fill:#8a94a6}.arrow-head-bad{fill:var(--error)}
.step{fill:#fff;stroke:#5b6478;stroke-width:1.5}.step.bad{fill:var(--error);stroke:var(--error)}
.step-number{font-size:12px;font-weight:700;fill:var(--fg)}.step.bad+.step-number{fill:#fff}
.step-text{font-size:13.5px;fill:var(--fg)}.step-text .bad{fill:var(--error);font-weight:650}.step-hops{font-weight:650}
figure{margin:8px 0}summary{cursor:pointer;color:var(--note)}.nowrap{white-space:nowrap}
.hop-cards{display:grid;grid-template-columns:repeat(auto-fill,minmax(330px,1fr));gap:14px}
.hop-card{border:1px solid var(--line);border-radius:8px;padding:4px 14px 10px;break-inside:avoid}
.hop-card.problem{border-color:var(--error);border-width:2px}
.hop-card dl{display:grid;grid-template-columns:auto 1fr;gap:2px 10px;margin:6px 0;font-size:13.5px}.hop-card dt{color:var(--muted)}.hop-card dd{margin:0}
.bar{fill:#5b8def}.bar-over{stroke:#b54708;stroke-width:1}.hatch-bg{fill:#fde7c7}.hatch-line{stroke:#b54708;stroke-width:3}.bar-value{font-size:11px;fill:var(--fg)}.axis{font-size:10.5px;fill:var(--muted)}.axis-title{font-size:11px;fill:var(--muted)}
.ck-good{fill:#32d583}.ck-partial{fill:#84adff}.ck-lco{fill:#b692f6}.ck-zero{fill:#d0d5dd}.ck-bad{fill:var(--error)}.ck-unverifiable{fill:#fdb022}
.legend{font-size:12px;fill:var(--fg)}.legend.bad{font-weight:700;fill:var(--error)}
.grid{stroke:var(--line)}.tl-label{font-size:12px}.tl-label.sev-error{fill:var(--error);font-weight:700}.tl-label.sev-warn{fill:var(--warn);font-weight:650}.tl-label.sev-note{fill:var(--note)}.tl-label.sev-chat{fill:var(--chat)}
.tl-bar.sev-error{fill:var(--error)}.tl-bar.sev-warn{fill:var(--warn)}.tl-bar.sev-note{fill:var(--note)}.tl-bar.sev-chat{fill:#98a2b3}
.finding{border:1px solid var(--line);border-left:6px solid var(--chat);border-radius:6px;padding:2px 16px 10px;margin:12px 0;break-inside:avoid-page}
.finding.sev-error{border-left-color:var(--error)}.finding.sev-warn{border-left-color:var(--warn)}.finding.sev-note{border-left-color:var(--note)}
.finding h3 code{font-size:12.5px;color:var(--muted);font-weight:400}
.where{color:var(--muted);margin:2px 0 6px}
.evidence td.line code{white-space:pre-wrap;word-break:break-word}
mark{background:#fff1a8;color:inherit;border-bottom:2px solid #b58a00;padding:0 1px;font-weight:700}
.filters{display:flex;gap:14px;align-items:center;font-size:14px;margin:6px 0}
.muted{color:var(--muted)}.bad-text{color:var(--error)}caption{text-align:left;padding:4px 0}
.sha{font:11.5px/1.4 ui-monospace,Menlo,Consolas,monospace;color:var(--muted);word-break:break-all}
footer{color:var(--muted);font-size:13px;padding:24px;border-top:1px solid var(--line);margin-top:36px}
@media print{nav,.filters{display:none}th button::after{content:none}body{font-size:12px}.verdict,.finding,.hop-card{break-inside:avoid}a{color:inherit;text-decoration:none}h2{break-after:avoid}}
`;

/** Sorting for tables with class "sortable", and a severity filter for the findings. Progressive: without it all is shown. */
const SCRIPT = `
(function(){
  document.querySelectorAll('table.sortable').forEach(function(table){
    table.querySelectorAll('thead th').forEach(function(th, col){
      var button = document.createElement('button');
      button.type = 'button';
      button.textContent = th.textContent;
      th.textContent = '';
      th.appendChild(button);
      var up = true;
      button.addEventListener('click', function(){
        var body = table.tBodies[0];
        var rows = Array.prototype.slice.call(body.rows);
        var key = function(row){ var cell = row.cells[col]; var v = cell ? (cell.getAttribute('data-sort') || cell.textContent) : ''; var num = parseFloat(v.replace(/,/g, '')); return isNaN(num) ? v.toLowerCase() : num; };
        rows.sort(function(a, b){ var x = key(a), y = key(b); return (x < y ? -1 : x > y ? 1 : 0) * (up ? 1 : -1); });
        up = !up;
        rows.forEach(function(row){ body.appendChild(row); });
        table.querySelectorAll('th').forEach(function(h){ h.removeAttribute('aria-sort'); });
        th.setAttribute('aria-sort', up ? 'descending' : 'ascending');
      });
    });
  });
  var filters = document.getElementById('severity-filters');
  if (filters) {
    filters.hidden = false;
    filters.addEventListener('change', function(){
      var shown = {};
      filters.querySelectorAll('input').forEach(function(box){ shown[box.value] = box.checked; });
      document.querySelectorAll('article.finding').forEach(function(article){ article.hidden = !shown[article.getAttribute('data-severity')]; });
    });
  }
})();
`;

function evidenceCells(line: EvidenceFrame, tags: readonly EvidenceTag[]): string {
  return line.parts
    .map((part) =>
      part.tag !== undefined && tags.includes(part.tag) ? `<mark>${esc(part.text)}</mark>` : esc(part.text),
    )
    .join(' ');
}

/** Evidence rows shown per hop; the others are folded away (and all are in --json). */
const EVIDENCE_SHOWN_PER_HOP = 3;

function evidenceRow(e: GroupedFinding['evidence'][number], tags: readonly EvidenceTag[]): string {
  const capture = e.line?.capture ?? '';
  const line =
    e.line !== null
      ? `<code>${evidenceCells(e.line, tags)}</code>`
      : '<span class="muted">not re-read (stdin, or the file changed)</span>';
  return `<tr><td class="nowrap"><code title="${esc(capture)}">${esc(basename(capture))}</code></td><td class="num">${e.frame}</td><td class="nowrap">${esc(e.hop)}</td><td class="line">${line}</td></tr>`;
}

function evidenceTable(rows: string[]): string {
  return `<div class="scroll"><table class="evidence"><thead><tr><th scope="col">Capture file</th><th scope="col" class="num">Frame</th><th scope="col">Hop</th><th scope="col">Packet (tcpdump-like)</th></tr></thead><tbody>${rows.join('')}</tbody></table></div>`;
}

function renderFinding(group: GroupedFinding): string {
  const { first, members } = group;
  const at = members.map((m) => `${esc(m.hop)} (${n(m.count)})`).join(', ');
  const perHop = new Map<string, number>();
  const shown: string[] = [];
  const folded: string[] = [];
  for (const e of group.evidence) {
    const count = perHop.get(e.hop) ?? 0;
    perHop.set(e.hop, count + 1);
    (count < EVIDENCE_SHOWN_PER_HOP ? shown : folded).push(evidenceRow(e, group.tags));
  }
  // Problems show their evidence; notes keep it one click away.
  const problem = first.severity === 'error' || first.severity === 'warn';
  const hops = new Set(group.evidence.map((e) => e.hop)).size;
  const intro = `<p class="muted">${n(group.evidence.length)} frames at ${n(hops)} ${hops === 1 ? 'hop' : 'hops'}. Frame numbers are Wireshark’s (No.) in each capture file; the fields that matter here are marked.</p>`;
  let evidence = '';
  if (group.evidence.length > 0 && problem) {
    evidence =
      `<h4>Evidence</h4>${intro}${evidenceTable(shown)}` +
      (folded.length > 0
        ? `<details><summary>${n(folded.length)} more evidence frames</summary>${evidenceTable(folded)}</details>`
        : '');
  } else if (group.evidence.length > 0) {
    evidence = `<details><summary>Evidence: ${n(group.evidence.length)} frames</summary>${intro}${evidenceTable([...shown, ...folded])}</details>`;
  }
  return (
    `<article class="finding sev-${first.severity}" id="${esc(group.anchor)}" data-severity="${first.severity}">` +
    `<h3><span class="badge ${first.severity}">${SEVERITY_WORD[first.severity]}</span> ${esc(first.title)} <code>${esc(first.code)}</code></h3>` +
    `<p class="where">At ${at}${first.flow !== null ? ` — ${esc(first.flow)}` : ''}</p>` +
    `<p>${esc(first.explanation)}</p>` +
    `<p class="fix"><strong>Fix:</strong> ${esc(first.fix)}</p>` +
    evidence +
    '</article>'
  );
}

function hopCard(hop: ReportHop, index: number, problem: boolean, context: ReportContext): string {
  const sf = hop.superFrames;
  const fr = hop.fragments;
  const features = context.offloads[hop.name] ?? {};
  const offloads = OFFLOAD_FEATURES.filter(([name]) => features[name] !== undefined)
    .map(([name, label]) => `${label} ${features[name]}`)
    .join(', ');
  const facts: Array<[string, string]> = [
    ['Kind', `${hop.kind}${hop.kindSource === 'traffic' ? ' (from the traffic)' : ''}`],
    [
      'MTU',
      hop.mtu !== null ? `${n(hop.mtu)}${hop.mtuSource === 'inferred' ? ' (inferred)' : ''}` : 'unknown',
    ],
    ['Frames', `${n(hop.frames)} (${n(hop.bytes)} bytes captured)`],
    [
      'Super-frames',
      sf.count > 0
        ? `${n(sf.count)}, up to ${n(sf.maxPayload)} bytes of payload${sf.mss !== null ? `, MSS ${n(sf.mss)}` : ''}`
        : 'none',
    ],
    [
      'Fragments',
      fr.count > 0
        ? `${n(fr.count)} in ${n(fr.datagrams)} datagrams, ${n(fr.reassembled)} reassembled, largest ${n(fr.maxFragment)}${fr.incomplete > 0 ? `, ${n(fr.incomplete)} incomplete` : ''}`
        : 'none',
    ],
  ];
  if (hop.pmtu.messages > 0)
    facts.push(['ICMP too big', `${n(hop.pmtu.messages)}, MTU ${hop.pmtu.minMtu ?? '?'}`]);
  if (offloads !== '') facts.push(['Offloads', offloads]);
  if (hop.malformed > 0) facts.push(['Malformed', n(hop.malformed)]);
  return (
    `<section class="hop-card${problem ? ' problem' : ''}" aria-labelledby="hop-${index}">` +
    `<h3 id="hop-${index}">${esc(hop.name)}${problem ? ' <span class="badge error">PROBLEM</span>' : ''}</h3>` +
    `<dl>${facts.map(([k, v]) => `<dt>${esc(k)}</dt><dd>${k === 'Offloads' ? esc(v) : v}</dd>`).join('')}</dl>` +
    `<h4>Frame sizes</h4>${sizesSvg(`sizes-${index}`, hop, sizeRange)}` +
    `<h4>Checksums</h4>${checksumSvg(`checksums-${index}`, hop)}` +
    '</section>'
  );
}

function otherPaths(doc: ReportDocument): string {
  if (doc.otherPaths.length === 0) return '';
  const rows = doc.otherPaths
    .map((p) => {
      const steps = pathSteps(p);
      const what =
        steps.length > 0
          ? steps
              .map((step) =>
                step.problem ? `<strong class="bad-text">⚠ ${esc(step.text)}</strong>` : esc(step.text),
              )
              .join('<br>')
          : `<span class="muted">${esc(reportWords('pathQuiet', {}))}</span>`;
      const first = p.nodes[0]?.hop ?? '';
      const last = p.nodes[p.nodes.length - 1]?.hop ?? '';
      return `<tr><td><code>${esc(p.flow)}</code></td><td>${p.nodes.length}: ${esc(first)} → ${esc(last)}</td><td>${what}</td></tr>`;
    })
    .join('');
  const more =
    doc.morePaths > 0
      ? `<p class="muted">${esc(reportWords('morePaths', { count: n(doc.morePaths) }))}</p>`
      : '';
  return `<h3>Other flows across the hops</h3><div class="scroll"><table><thead><tr><th scope="col">Flow</th><th scope="col">Hops</th><th scope="col">What happened</th></tr></thead><tbody>${rows}</tbody></table></div>${more}`;
}

function renderVerdict(doc: ReportDocument): string {
  const v = doc.verdict;
  const wrong =
    v.problems.length === 0
      ? ''
      : `<h3>What is wrong</h3><ol>${v.problems
          .map(
            (p) =>
              `<li><span class="badge ${p.severity}">${SEVERITY_WORD[p.severity]}</span> ${esc(p.text)} <a href="#${esc(p.anchor)}">Details</a><p class="fix"><strong>Fix:</strong> ${esc(p.fix)}</p></li>`,
          )
          .join('')}</ol>`;
  const fine =
    v.fine.length === 0
      ? ''
      : `<h3>What is fine</h3><ul>${v.fine.map((line) => `<li><span class="ok-mark" aria-hidden="true">✓</span> ${esc(line)}</li>`).join('')}</ul>`;
  return `<section id="verdict" class="verdict ${v.wrong ? 'wrong' : 'ok'}" aria-labelledby="verdict-h"><h2 id="verdict-h">Verdict</h2><p class="headline">${v.wrong ? '✗' : '✓'} ${esc(v.headline)}</p>${wrong}${fine}</section>`;
}

/** "23:29:10.509" of an ISO time (the date is in the report's header). */
function clockOf(iso: string | null): string {
  return iso === null ? '?' : iso.slice(11, 23);
}

function renderEnvironment(report: Report, context: ReportContext): string {
  const rows = context.captures
    .map(
      (c) =>
        `<tr><td><code>${esc(c.path)}</code>${c.sha256 !== null ? `<br><span class="sha" title="SHA-256">SHA-256 ${esc(c.sha256)}</span>` : ''}</td>` +
        `<td>${esc(c.hops.join(', ')) || '-'}</td>` +
        `<td class="num" data-sort="${c.bytes ?? 0}">${c.bytes !== null ? n(c.bytes) : '-'}</td>` +
        `<td class="nowrap" data-sort="${esc(c.firstSeen ?? '')}"><span title="${esc(`${c.firstSeen ?? '?'} to ${c.lastSeen ?? '?'}`)}">${esc(clockOf(c.firstSeen))} – ${esc(clockOf(c.lastSeen))}</span></td>` +
        `<td class="num">${c.snaplen !== null ? n(c.snaplen) : '-'}</td>` +
        `<td>${esc(c.linkTypes.join(', ')) || '-'}${c.format !== null ? ` (${esc(c.format)})` : ''}</td></tr>`,
    )
    .join('');
  const offsets = Object.entries(report.clockOffsets)
    .map(
      ([hop, s]) =>
        `<tr><td>${esc(hop)}</td><td class="num">${s === null ? 'unknown (no data in common)' : `${s >= 0 ? '+' : ''}${(s * 1000).toFixed(3)} ms`}</td></tr>`,
    )
    .join('');
  const clockNote = context.clockOffsetsApplied
    ? `Estimated from the traffic against ${esc(context.clockReference ?? '?')}; the timeline subtracts them.`
    : 'Estimated from the traffic; all within rounding of zero, nothing applied.';
  return (
    '<section id="environment" aria-labelledby="env-h"><h2 id="env-h">Environment</h2>' +
    `<div class="scroll"><table class="sortable"><caption class="muted">Captures read</caption><thead><tr><th scope="col">Capture file</th><th scope="col">Hops</th><th scope="col" class="num">Bytes</th><th scope="col">Frames from – to (UTC)</th><th scope="col" class="num">Snap length</th><th scope="col">Link type</th></tr></thead><tbody>${rows}</tbody></table></div>` +
    (offsets !== ''
      ? `<h3>Clock offsets</h3><p>${clockNote}</p><table><thead><tr><th scope="col">Hop</th><th scope="col" class="num">Offset</th></tr></thead><tbody>${offsets}</tbody></table>`
      : '') +
    `<h3>hopscope</h3><p>Version ${esc(context.version)}${context.generatedAt !== null ? `, report made ${esc(context.generatedAt)}` : ''}.</p>` +
    `<p>Command line: <code>${esc(['hopscope', ...context.commandLine].join(' '))}</code></p>` +
    '</section>'
  );
}

export function renderHtml(report: Report, context: ReportContext): string {
  const doc = buildDocument(report, context);
  const problemHops = new Set(doc.path?.nodes.filter((node) => node.problem).map((node) => node.hop) ?? []);
  const summary = sizeLine(report, doc, ' · ');
  const hopRows = doc.hops
    .map(
      (hop) =>
        `<tr><th scope="row">${esc(hop.name)}</th><td>${esc(hop.kind)}</td><td class="num">${hop.mtu !== null ? n(hop.mtu) : '?'}</td><td class="num">${n(hop.frames)}</td><td>${checksumSummary(hop, (count) => `<strong>${count} BAD</strong>`)}</td><td class="num" data-sort="${hop.superFrames.count}">${hop.superFrames.count > 0 ? `${n(hop.superFrames.count)}, up to ${n(hop.superFrames.maxPayload)}` : '-'}</td><td class="num" data-sort="${hop.fragments.count}">${hop.fragments.count > 0 ? n(hop.fragments.count) : '-'}</td></tr>`,
    )
    .join('');
  const severities = [...new Set(doc.groups.map((g) => g.first.severity))];
  const body = [
    `<header><h1>hopscope report</h1><p class="sub">${esc(summary)}</p>`,
    '<nav aria-label="Contents"><ul><li><a href="#verdict">Verdict</a></li><li><a href="#path">Path</a></li><li><a href="#hops">Hops</a></li><li><a href="#timeline">Timeline</a></li><li><a href="#findings">Findings</a></li><li><a href="#environment">Environment</a></li></ul></nav></header>',
    '<main>',
    renderVerdict(doc),
    doc.path !== null
      ? `<section id="path" aria-labelledby="path-h"><h2 id="path-h">Path</h2><p>${esc(doc.path.flow)}: the hops in order, and what happens to the data between them.</p><figure>${pathSvg('path-picture', doc.path)}<figcaption><details><summary>The path in words</summary><p>${esc(doc.path.alt)}</p></details></figcaption></figure>${otherPaths(doc)}</section>`
      : '',
    `<section id="hops" aria-labelledby="hops-h"><h2 id="hops-h">Hops</h2><div class="scroll"><table class="sortable"><thead><tr><th scope="col">Hop</th><th scope="col">Kind</th><th scope="col" class="num">MTU</th><th scope="col" class="num">Frames</th><th scope="col">Checksums</th><th scope="col" class="num">Super-frames</th><th scope="col" class="num">Fragments</th></tr></thead><tbody>${hopRows}</tbody></table></div>`,
    `<div class="hop-cards">${doc.hops.map((hop, i) => hopCard(hop, i, problemHops.has(hop.name), context)).join('')}</div></section>`,
    doc.timeline.rows.length > 0
      ? `<section id="timeline" aria-labelledby="timeline-h"><h2 id="timeline-h">Timeline</h2><p>Each finding from its first to its last occurrence, in seconds from ${esc(doc.timeline.start ?? '?')}${context.clockOffsetsApplied ? ' (clock offsets applied)' : ''}.</p>${timelineSvg('timeline-chart', doc.timeline)}</section>`
      : '',
    `<section id="findings" aria-labelledby="findings-h"><h2 id="findings-h">Findings (${n(doc.groups.length)})</h2>`,
    severities.length > 1
      ? `<fieldset class="filters" id="severity-filters" hidden><legend class="muted">Show</legend>${severities.map((s) => `<label><input type="checkbox" value="${s}" checked> ${SEVERITY_WORD[s]}</label>`).join('')}</fieldset>`
      : '',
    doc.groups.length === 0 ? '<p>No findings.</p>' : doc.groups.map(renderFinding).join(''),
    '</section>',
    renderEnvironment(report, context),
    '</main>',
    `<footer>Made by hopscope ${esc(context.version)} from the captures listed above. This file needs no network and no script to read.</footer>`,
  ].join('\n');
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:">
<title>hopscope report: ${esc(doc.verdict.headline)}</title>
<style>${STYLE}</style>
</head>
<body>
${body}
<script>${SCRIPT}</script>
</body>
</html>
`;
}
