/**
 * The service around a live capture: the finding stream (pino lines, or plain lines for a
 * terminal), the HTTP API, metrics and evidence files, all reading the LiveRun the capture side
 * fills (live-run.ts). Order of use:
 *
 *   const service = await startService(options);   // checks --listen/--token, binds, opens DIR
 *   ...sources are added through service.tap...      // before their first frame
 *   service.attach(run);                             // starts the snapshots
 *   await service.stop();                            // last snapshot, flush, summary
 *
 * Findings are found by diffing snapshots of the session (session.snapshot, a few milliseconds for
 * the lab's ten hops) every `intervalMs`; when a snapshot takes long (many flows), the next waits
 * SNAPSHOT_SHARE times as long, so the stream never takes more than 1/SNAPSHOT_SHARE of a core
 * from the capture. Nothing new seen (no frame since the last snapshot): no snapshot.
 */

import { UsageError } from '../errors.js';
import type { Logger } from '../log.js';
import { exportHops } from '../pipeline/hops-document.js';
import type { Report } from '../report/model.js';
import { type Evidence, type EvidenceOptions, openEvidence, PIN_EVERY_MS } from './evidence.js';
import { type ApiServer, startApiServer } from './http.js';
import { bearerCheck, checkListen, parseListen } from './listen.js';
import type { FeedTap, LiveRun } from './live-run.js';
import { createMetrics } from './metrics.js';
import { createTracker, DEFAULT_TRACKER, type FindingEvent, type TrackerOptions } from './tracker.js';

/** A snapshot may take at most 1/SNAPSHOT_SHARE of the time between snapshots. */
export const SNAPSHOT_SHARE = 20;

export interface ServiceOptions {
  /** ADDRESS:PORT, or null for no HTTP API. */
  listen: string | null;
  token: string | null;
  evidence: Omit<EvidenceOptions, 'logger' | 'toolVersion'> | null;
  /** Time between snapshots (ms). */
  intervalMs?: number;
  /** The name /hops gives this agent (hop names are prefixed with it by the reading side). */
  agentName: string;
  toolVersion: string;
  logger: Logger;
  /** Plain lines for people (a terminal) instead of pino JSON lines. */
  text?: { write(line: string): void } | null;
  tracker?: Partial<TrackerOptions>;
  /** Say the summary when stopped (default: yes). */
  summary?: boolean;
}

export interface ServiceSummary {
  report: Report;
  events: number;
  snapshots: number;
  /** Milliseconds the snapshots took: the last, the longest, all together. */
  snapshotMs: { last: number; max: number; total: number };
  evidenceFiles: number;
}

export interface Service {
  tap: FeedTap;
  /** Where the API listens (null: no API). */
  address: { host: string; port: number } | null;
  attach(run: LiveRun): void;
  /** Takes a snapshot now and tells what changed (also what the timer does). */
  tick(): Promise<FindingEvent[]>;
  stop(): Promise<ServiceSummary>;
}

const SEVERITY_LEVEL = { error: 'error', warn: 'warn', note: 'info', chat: 'info' } as const;

function textLine(event: FindingEvent): string {
  const f = event.finding;
  const what = event.type === 'new' ? 'NEW      ' : event.type === 'update' ? 'UPDATE   ' : 'WITHDRAWN';
  const count = event.type === 'update' ? `${event.previousCount} -> ${f.count}` : `${f.count}`;
  return `${new Date().toISOString().slice(11, 19)} ${what} ${f.severity.padEnd(5)} ${f.code} at ${f.hop}${
    f.flow !== null ? ` (${f.flow})` : ''
  }: ${f.title} [count ${count}, last seen ${f.lastSeen ?? '?'}]\n`;
}

export async function startService(options: ServiceOptions): Promise<Service> {
  const log = options.logger.child({ component: 'service' });
  const stream = options.logger.child({ component: 'findings' });
  const address = options.listen !== null ? parseListen(options.listen) : null;
  if (address !== null && options.listen !== null) checkListen(address, options.token, options.listen);
  const tracker = createTracker({ ...DEFAULT_TRACKER, ...options.tracker });
  let evidence: Evidence | null = null;
  if (options.evidence !== null) {
    try {
      evidence = await openEvidence({
        ...options.evidence,
        logger: options.logger,
        toolVersion: options.toolVersion,
      });
    } catch (error) {
      // Before any capture starts: a directory that cannot be made or read is the command line's problem.
      const e = error as NodeJS.ErrnoException;
      throw new UsageError(
        `--evidence ${options.evidence.dir}: ${e.code ?? e.message}${e.path !== undefined && e.path !== options.evidence.dir ? ` (${e.path})` : ''}`,
      );
    }
  }
  let run: LiveRun | null = null;
  const timing = { last: 0, max: 0, total: 0 };
  let snapshots = 0;
  let events = 0;
  let lastFrames = -1;
  let stopped = false;
  let timer: NodeJS.Timeout | null = null;
  let pinTimer: NodeJS.Timeout | null = null;
  const interval = options.intervalMs ?? 1000;
  let api: ApiServer | null = null;

  const framesSeen = (r: LiveRun) =>
    r.session.exportSources().reduce((sum, s) => sum + s.hops.reduce((n, h) => n + h.frames, 0), 0);

  const snapshot = (r: LiveRun): Report => {
    const t0 = performance.now();
    const report = r.session.snapshot(options.toolVersion);
    const ms = performance.now() - t0;
    snapshots++;
    timing.last = ms;
    timing.total += ms;
    if (ms > timing.max) timing.max = ms;
    return report;
  };

  const tell = (found: FindingEvent[]) => {
    for (const event of found) {
      events++;
      const f = event.finding;
      if (options.text) options.text.write(textLine(event));
      else
        stream[SEVERITY_LEVEL[f.severity]](
          {
            event: `finding.${event.type}`,
            id: event.id,
            code: f.code,
            severity: f.severity,
            scope: f.scope,
            hop: f.hop,
            flow: f.flow,
            count: f.count,
            ...(event.previousCount !== undefined ? { previousCount: event.previousCount } : {}),
            firstSeen: f.firstSeen,
            lastSeen: f.lastSeen,
          },
          f.title,
        );
      if (evidence !== null && event.type !== 'withdrawn') evidence.record(f, options.toolVersion);
    }
    api?.broadcast(found);
  };

  const tick = async (force = false): Promise<FindingEvent[]> => {
    if (run === null) return [];
    const frames = framesSeen(run);
    if (!force && frames === lastFrames) return [];
    lastFrames = frames;
    // The pin scan first: evidence frames still in the rings are kept before the files are made.
    evidence?.pin(run.session);
    const found = tracker.observe(snapshot(run), Date.now());
    tell(found);
    return found;
  };

  const schedule = () => {
    if (stopped) return;
    const wait = Math.max(interval, timing.last * SNAPSHOT_SHARE);
    timer = setTimeout(() => {
      tick().then(schedule, (error: Error) => {
        log.error({ err: error.message }, 'a snapshot failed; the capture goes on');
        schedule();
      });
    }, wait);
  };

  if (address !== null) {
    const metrics = createMetrics({
      hops: () => run?.session.exportSources().flatMap((s) => s.hops) ?? [],
      interfaces: () => run?.stats() ?? [],
      findings: () => tracker.current(),
      snapshotSeconds: () => timing.last / 1000,
    });
    try {
      api = await startApiServer(
        address,
        bearerCheck(options.token),
        {
          snapshot: () => (run !== null ? snapshot(run) : null),
          hops: () => (run !== null ? exportHops(run.session, options.agentName, options.toolVersion) : null),
          metrics: async () => ({ contentType: metrics.contentType, body: await metrics.metrics() }),
          health: () => {
            const interfaces = run?.stats() ?? [];
            const failing =
              interfaces.length > 0 && interfaces.every((s) => s.state === 'failed' || s.state === 'gone');
            return {
              ok: !failing,
              body: {
                status: failing ? 'failing' : run === null ? 'starting' : 'ok',
                uptimeSeconds: run !== null ? Math.round((Date.now() - run.startedAt) / 1000) : 0,
                interfaces: interfaces.map((s) => ({
                  hop: s.hop,
                  interface: s.interface,
                  state: s.state,
                  message: s.message,
                })),
                lastEventId: tracker.lastId(),
              },
            };
          },
          since: (id) => tracker.since(id),
          current: () => ({ lastId: tracker.lastId(), findings: tracker.current() }),
        },
        options.logger,
      );
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      throw new UsageError(
        `--listen ${options.listen}: ${code === 'EADDRINUSE' ? 'the address is in use (another hopscope live?)' : code === 'EADDRNOTAVAIL' ? 'no interface of this host has that address' : code === 'EACCES' ? 'not allowed to listen there (a port below 1024 needs CAP_NET_BIND_SERVICE)' : (error as Error).message}`,
      );
    }
    log.info({ listen: api.address(), token: options.token !== null }, 'API listening');
  }

  const tap: FeedTap = evidence !== null ? evidence.tap : (_hop, feed) => feed;

  return {
    tap,
    address: api?.address() ?? null,
    attach(r) {
      run = r;
      schedule();
      if (evidence !== null) {
        pinTimer = setInterval(() => {
          if (run !== null) evidence.pin(run.session);
        }, PIN_EVERY_MS);
        pinTimer.unref();
      }
    },
    tick: () => tick(true),
    async stop() {
      stopped = true;
      if (timer !== null) clearTimeout(timer);
      if (pinTimer !== null) clearInterval(pinTimer);
      // The last snapshot: what appeared since the previous one is told before the summary.
      let report: Report;
      if (run !== null) {
        evidence?.pin(run.session);
        report = snapshot(run);
        // Told as any snapshot is: new findings at once, changes when material (the summary below
        // and the live command's report carry every final count).
        tell(tracker.observe(report, Date.now()));
      } else {
        report = {
          version: 1,
          tool: { name: 'hopscope', version: options.toolVersion },
          captures: [],
          hops: [],
          findings: [],
          paths: [],
          clockOffsets: {},
        };
      }
      await evidence?.flush();
      await api?.close();
      const summary: ServiceSummary = {
        report,
        events,
        snapshots,
        snapshotMs: { ...timing },
        evidenceFiles: evidence?.files().length ?? 0,
      };
      const findings = report.findings.map((f) => ({
        code: f.code,
        severity: f.severity,
        hop: f.hop,
        flow: f.flow,
        count: f.count,
        firstSeen: f.firstSeen,
        lastSeen: f.lastSeen,
      }));
      const hops = report.hops.map((h) => ({ hop: h.name, frames: h.frames, bytes: h.bytes }));
      const capture =
        run?.stats().map((s) => ({
          hop: s.hop,
          interface: s.interface,
          state: s.state,
          frames: s.frames,
          dropped: s.dropped,
        })) ?? [];
      if (options.summary === false) {
        // The caller reports (hopscope live prints the whole report).
      } else if (options.text) {
        options.text.write(
          `\nsummary: ${report.findings.length} finding${report.findings.length === 1 ? '' : 's'}, ${hops.reduce((n, h) => n + h.frames, 0)} frames at ${hops.length} hop${hops.length === 1 ? '' : 's'}\n`,
        );
        for (const f of report.findings)
          options.text.write(
            `  ${f.severity.padEnd(5)} ${f.code} at ${f.hop}${f.flow !== null ? ` (${f.flow})` : ''}: ${f.title} [count ${f.count}, ${f.firstSeen ?? '?'} .. ${f.lastSeen ?? '?'}]\n`,
          );
        for (const c of capture)
          options.text.write(
            `  capture ${c.interface} (${c.hop}): ${c.state}, ${c.frames} frames, ${c.dropped ?? 'unknown'} dropped\n`,
          );
      } else {
        stream.info(
          {
            event: 'summary',
            hops,
            capture,
            findings,
            snapshots,
            snapshotMs: timing,
            evidenceFiles: summary.evidenceFiles,
          },
          'summary',
        );
      }
      return summary;
    },
  };
}
