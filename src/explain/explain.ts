/**
 * The explainer: lines in, lines out, as they come. A tshark line is a packet of its own; a
 * tcpdump packet may take several lines (-v, tunnels, ICMP quotes), so its verdicts follow its
 * last line, known when the next packet starts, the input ends, or the input pauses (flush()).
 * Every input line is handed back unchanged: lines it cannot read (cut, wrapped, unknown
 * protocols, prose around pasted lines) pass through, never an error.
 *
 * Memory is bounded: one pending record of at most MAX_RECORD_LINES lines, the MSS of at most
 * MAX_FLOWS flows (classify.ts), and the summary's counters.
 */

import {
  catalogEntry,
  type Facts,
  type FindingCode,
  fillTemplate,
  type LineCode,
  lineSummaryText,
} from '../findings/catalog.js';
import { classifyRecord, createExplainState, type ExplainState, type Verdict } from './classify.js';
import type { TextRecord } from './record.js';
import { expectsInner, normalizeSpaces, parseTcpdump, tcpdumpLineStart } from './tcpdump.js';
import { parseTshark, tsharkColumns } from './tshark.js';

/** A tcpdump record longer than this is explained as it stands and a new one begins. */
export const MAX_RECORD_LINES = 64;

export interface Explained {
  record: TextRecord;
  verdicts: Verdict[];
}

export type Output = { kind: 'line'; text: string } | { kind: 'explained'; explained: Explained };

export interface Explainer {
  /** One input line (without its newline): what to print now, in order. */
  push(line: string): Output[];
  /** Ends the pending record: at the end of the input, or when it pauses. */
  flush(): Output[];
  summary(): Summary;
}

interface Pending {
  lines: string[];
  frame: number;
}

export function createExplainer(): Explainer {
  const state: ExplainState = createExplainState();
  const summary = createSummaryCounts();
  let pending: Pending | null = null;
  /** Records so far started with a timestamp: a line without one continues the current record. */
  let timestamped = false;
  let records = 0;

  const finish = (out: Output[]): void => {
    if (pending === null) return;
    const record = parseTcpdump(pending.lines, pending.frame);
    pending = null;
    explain(record, out);
  };
  const explain = (record: TextRecord, out: Output[]): void => {
    const verdicts = classifyRecord(state, record);
    if (record.layers.length > 0) summary.packets++;
    countVerdicts(summary, verdicts);
    out.push({ kind: 'explained', explained: { record, verdicts } });
  };

  return {
    push(line) {
      const out: Output[] = [];
      summary.lines++;
      const columns = tsharkColumns(line);
      if (columns !== null) {
        finish(out);
        out.push({ kind: 'line', text: line });
        explain(parseTshark(line, columns), out);
        return out;
      }
      if (line.trim() === '') {
        finish(out);
        out.push({ kind: 'line', text: line });
        return out;
      }
      const plain = normalizeSpaces(line);
      const start = tcpdumpLineStart(plain);
      const continues =
        pending !== null &&
        pending.lines.length < MAX_RECORD_LINES &&
        (!start.starts ||
          (!start.timestamped && (timestamped || expectsInner(normalizeSpaces(pending.lines.join(' '))))));
      if (continues) {
        (pending as Pending).lines.push(line);
      } else if (start.starts || looksLikePacket(plain)) {
        finish(out);
        records++;
        timestamped = start.timestamped;
        pending = { lines: [line], frame: start.number ?? records };
      } else {
        finish(out);
      }
      out.push({ kind: 'line', text: line });
      return out;
    },
    flush() {
      const out: Output[] = [];
      finish(out);
      return out;
    },
    summary: () => buildSummary(summary),
  };
}

/** A tcpdump transport line pasted alone ("a.b.c.d.p > e.f.g.h.q: Flags [...]"). */
function looksLikePacket(line: string): boolean {
  return /^\s*\S+\.\d+ > \S+\.\d+: (?:Flags \[|\[(?:bad udp|udp sum|no cksum)|UDP,|VXLAN|Geneve)/.test(line);
}

// ---- summary ----

interface CodeCount {
  count: number;
  facts: Facts;
  layers: Set<string>;
  directions: Set<string>;
  from: Set<string>;
}

interface SummaryCounts {
  lines: number;
  packets: number;
  explained: number;
  codes: Map<LineCode, CodeCount>;
}

function createSummaryCounts(): SummaryCounts {
  return { lines: 0, packets: 0, explained: 0, codes: new Map() };
}

function countVerdicts(summary: SummaryCounts, verdicts: readonly Verdict[]): void {
  let any = false;
  for (const v of verdicts) {
    if (!v.notable) continue;
    any = true;
    let c = summary.codes.get(v.code);
    if (c === undefined) {
      c = { count: 0, facts: {}, layers: new Set(), directions: new Set(), from: new Set() };
      summary.codes.set(v.code, c);
    }
    c.count++;
    const f = v.facts;
    if (typeof f.layer === 'string') c.layers.add(f.layer);
    if (typeof f.direction === 'string') c.directions.add(f.direction);
    if (typeof f.from === 'string') c.from.add(f.from);
    // Keep the largest super-frame and smallest MSS / MTU seen; the first of the other facts.
    for (const [key, value] of Object.entries(f)) {
      const old = c.facts[key];
      if (old === undefined) c.facts[key] = value;
      else if (key === 'payload' && typeof value === 'number' && typeof old === 'number' && value > old)
        c.facts[key] = value;
      else if (
        (key === 'mss' || key === 'mtu') &&
        typeof value === 'number' &&
        typeof old === 'number' &&
        value < old
      )
        c.facts[key] = value;
    }
  }
  if (any) summary.explained++;
}

export interface SummaryEntry {
  code: LineCode;
  count: number;
  title: string;
  /** The catalogue's sentence for these verdicts. */
  words: string;
}

export interface Summary {
  lines: number;
  packets: number;
  explained: number;
  entries: SummaryEntry[];
  /** One paragraph: the entries' words, in the catalogue's order. */
  verdict: string;
}

const ORDER: readonly LineCode[] = [
  'checksum.partial',
  'checksum.lco',
  'checksum.bad',
  'checksum.ipv4-bad',
  'checksum.ipv4-tso',
  'checksum.undecided',
  'segment.super-frame',
  'segment.udp-super-frame',
  'fragment.outer',
  'fragment.ip',
  'pmtu.frag-needed',
  'capture.previous-segment',
  'text.needs-more',
];

function buildSummary(summary: SummaryCounts): Summary {
  const entries: SummaryEntry[] = [];
  for (const code of ORDER) {
    const c = summary.codes.get(code);
    if (c === undefined) continue;
    entries.push({ code, count: c.count, ...summaryWords(code, c) });
  }
  const verdict =
    entries.length === 0
      ? 'Nothing in these lines needs explaining: no "incorrect" checksum, super-frame, fragment or ICMP size message.'
      : entries.map((e) => e.words).join(' ');
  return { lines: summary.lines, packets: summary.packets, explained: summary.explained, entries, verdict };
}

/** A code's title and sentence: the catalogue's finding where there is one, filled from the lines' facts. */
function summaryWords(code: LineCode, c: CodeCount): { title: string; words: string } {
  const own = lineSummaryText(code, { count: c.count });
  if (own !== null) return { title: code, words: own };
  const entry = catalogEntry(code as FindingCode);
  const phrases = entry.phrases ?? {};
  const facts: Facts = { ...c.facts, count: c.count, layers: [...c.layers] };
  if (code === 'segment.super-frame' || code === 'segment.udp-super-frame') {
    facts.maxPayload = c.facts.payload ?? null;
    facts.direction = c.directions.size === 1 ? ([...c.directions][0] as string) : 'unknown';
    facts.hopMtu = null;
  }
  if (code === 'pmtu.frag-needed') facts.from = [...c.from];
  const title = fillTemplate(entry.title, facts, phrases);
  let words: string;
  if (code === 'fragment.outer' || code === 'fragment.ip') {
    // The catalogue's explanation counts reassembled datagrams, which lines cannot; its fix can.
    words = `${title} (${c.count} ${c.count === 1 ? 'line' : 'lines'}). ${fillTemplate(entry.fix, facts, phrases)}`;
  } else {
    words = fillTemplate(entry.explanation, facts, phrases);
  }
  return { title, words };
}
