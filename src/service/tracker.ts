/**
 * Which findings are new and which changed, from one snapshot of the session to the next: the
 * finding stream's logic, pure and clock-free (the caller passes `now`), so tests drive it with
 * hand-made reports. A finding is told once when it appears; afterwards only when its count or
 * last-seen moved materially, and at most once per `minUpdateMs`, never merely because time passed.
 *
 * Findings drawn across hops can go: with more of the traffic seen, correlation may explain the
 * same frames by another finding (a split seen at one hop becomes a merge along the path). One
 * absent from the snapshots for `minUpdateMs` is told as withdrawn (and as new if it comes back).
 *
 * Memory: one entry per distinct finding (code, hop, scope, flow), which the session itself bounds
 * (findings/store.ts MAX_FLOW_RECORDS per code and hop); beyond `maxTracked` the entries of the
 * findings seen longest ago are forgotten (they are told as new if they come back).
 */

import type { Severity } from '../findings/catalog.js';
import type { Report, ReportFinding } from '../report/model.js';

export interface TrackerOptions {
  /** Least time between two updates of one finding (ms). */
  minUpdateMs: number;
  /** An update is material when the count grew by this share since the last told (0.1: 10 %)... */
  growth: number;
  /** ...or when this long passed since it was last told and it changed at all (ms). */
  staleMs: number;
  maxTracked: number;
  /** Events kept for clients that reconnect (SSE Last-Event-ID). */
  historySize: number;
}

export const DEFAULT_TRACKER: TrackerOptions = {
  minUpdateMs: 10_000,
  growth: 0.1,
  staleMs: 60_000,
  maxTracked: 10_000,
  historySize: 1_000,
};

/** What a stream line and an SSE event carry of a finding. */
export interface StreamFinding {
  key: string;
  code: string;
  severity: Severity;
  scope: string;
  hop: string;
  flow: string | null;
  title: string;
  count: number;
  firstSeen: string | null;
  lastSeen: string | null;
  evidence: Array<{ hop: string; frame: number }>;
}

export interface FindingEvent {
  /** Increasing from 1 for the service's run: the SSE event id. */
  id: number;
  type: 'new' | 'update' | 'withdrawn';
  finding: StreamFinding;
  /** For updates: the count last told. */
  previousCount?: number;
}

interface Tracked {
  told: StreamFinding;
  toldAt: number;
  /** The latest seen (perhaps not told yet). */
  latest: StreamFinding;
  /** When it was last in a snapshot, and which snapshot that was. */
  seenAt: number;
  seenIn: number;
}

export interface Tracker {
  /** Compares a snapshot with what was told; returns the events to tell now (also kept in history). */
  observe(report: Report, now: number): FindingEvent[];
  /** Events after `id`, or null when they are no longer all kept (the client needs a fresh state). */
  since(id: number): FindingEvent[] | null;
  /** The latest state of every finding tracked. */
  current(): StreamFinding[];
  lastId(): number;
}

export function findingKey(f: Pick<ReportFinding, 'code' | 'hop' | 'scope' | 'flow'>): string {
  return `${f.code}|${f.hop}|${f.scope}|${f.flow ?? ''}`;
}

export function streamFinding(f: ReportFinding): StreamFinding {
  return {
    key: findingKey(f),
    code: f.code,
    severity: f.severity,
    scope: f.scope,
    hop: f.hop,
    flow: f.flow,
    title: f.title,
    count: f.count,
    firstSeen: f.firstSeen,
    lastSeen: f.lastSeen,
    evidence: f.evidence,
  };
}

function material(t: Tracked, now: number, options: TrackerOptions): boolean {
  const { told, latest } = t;
  if (latest.count === told.count && latest.lastSeen === told.lastSeen) return false;
  if (now - t.toldAt < options.minUpdateMs) return false;
  return latest.count >= told.count * (1 + options.growth) || now - t.toldAt >= options.staleMs;
}

export function createTracker(options: TrackerOptions = DEFAULT_TRACKER): Tracker {
  const tracked = new Map<string, Tracked>();
  const history: FindingEvent[] = [];
  let nextId = 1;
  let generation = 0;

  const emit = (type: FindingEvent['type'], finding: StreamFinding, previousCount?: number): FindingEvent => {
    const event: FindingEvent = {
      id: nextId++,
      type,
      finding,
      ...(previousCount !== undefined ? { previousCount } : {}),
    };
    history.push(event);
    if (history.length > options.historySize) history.splice(0, history.length - options.historySize);
    return event;
  };

  const forgetOldest = () => {
    if (tracked.size <= options.maxTracked) return;
    const byAge = [...tracked.entries()].sort((a, b) =>
      (a[1].latest.lastSeen ?? '').localeCompare(b[1].latest.lastSeen ?? ''),
    );
    for (const [key] of byAge.slice(0, tracked.size - options.maxTracked)) tracked.delete(key);
  };

  return {
    observe(report, now) {
      generation++;
      const events: FindingEvent[] = [];
      for (const f of report.findings) {
        const finding = streamFinding(f);
        const t = tracked.get(finding.key);
        if (t === undefined) {
          tracked.set(finding.key, {
            told: finding,
            toldAt: now,
            latest: finding,
            seenAt: now,
            seenIn: generation,
          });
          events.push(emit('new', finding));
          continue;
        }
        t.latest = finding;
        t.seenAt = now;
        t.seenIn = generation;
        if (material(t, now, options)) {
          events.push(emit('update', finding, t.told.count));
          t.told = finding;
          t.toldAt = now;
        }
      }
      for (const [key, t] of tracked) {
        if (t.seenIn === generation || now - t.seenAt < options.minUpdateMs) continue;
        tracked.delete(key);
        events.push(emit('withdrawn', t.latest));
      }
      forgetOldest();
      return events;
    },
    since(id) {
      if (id >= nextId - 1) return [];
      const first = history[0];
      if (first === undefined || first.id > id + 1) return null;
      return history.filter((e) => e.id > id);
    },
    current: () => [...tracked.values()].map((t) => t.latest),
    lastId: () => nextId - 1,
  };
}
