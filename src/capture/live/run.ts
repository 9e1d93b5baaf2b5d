/**
 * `hopscope live`: capture on several interfaces at once into one analysis session, until stopped.
 *
 * Each interface is one source of the session (its hop named by the spec as given: `tap0`,
 * `NETNS/phy0`), fed by its own backend capture; frames interleave as they come. What the system
 * says about each interface (kind, MTU, offload features) becomes the session's hop overrides. An
 * interface that is missing or goes away is logged and retried, never a crash; no permission to
 * capture stops the run with one message. The service around it plugs in through `LiveHooks`
 * (src/service/live-run.ts is the contract).
 */

import type { Logger } from '../../log.js';
import type { HopKind } from '../../observe/hop.js';
import { emptyOverrides, type HopOverrides, type SystemHop } from '../../pipeline/hops.js';
import { createSession, type SourceFeed } from '../../pipeline/session.js';
import type { FeedTap, InterfaceStats, LiveRun } from '../../service/live-run.js';
import type { CaptureInterface, CaptureSink } from '../frame.js';
import {
  type BackendName,
  type BackendOptions,
  type CaptureEnd,
  type CaptureHandle,
  filterComplaint,
  permissionMessage,
  type StartCapture,
} from './backend.js';
import type { InterfaceSpec } from './spec.js';
import { describeInterfaces, discoverPath, type PathDevice } from './system.js';

export interface LiveOptions {
  interfaces: readonly InterfaceSpec[];
  /** Taps whose VM path is discovered and captured (--follow). */
  follow: readonly InterfaceSpec[];
  backend: BackendName;
  filter: string | null;
  /** Bytes kept per frame; null: each device's own (deviceSnaplen). */
  snaplen: number | null;
  /** Kernel capture buffer per interface, bytes. */
  bufferSize: number;
  /** Stop after this many seconds / frames in all (null: until signalled). */
  duration: number | null;
  count: number | null;
  /** --hop/--mtu given by the user: above what the system says. */
  overrides?: HopOverrides;
  /** Hop names in path order (--path); a single --follow gives its path when none is given. */
  path?: string[];
  logger: Logger;
  argv: readonly string[];
  /** Ends the run (SIGINT/SIGTERM in the CLI). */
  signal?: AbortSignal;
  /** How long to wait before trying a missing interface again; default 2 s. */
  retryMs?: number;
  /** The backends (tests give others); default dumpcap's and cap's. */
  backends?: Partial<Record<BackendName, StartCapture>>;
}

export interface LiveHooks {
  /** Wraps each interface's feed (the service keeps recent frames for evidence). */
  tap?: FeedTap;
  /** Called once every capture was started (not necessarily capturing yet). */
  onStart?(run: LiveRun): void | Promise<void>;
  /** Called after every capture stopped and every source ended, before the outcome resolves. */
  onStop?(run: LiveRun): void | Promise<void>;
  /** The devices about to be captured on, as the system describes them (printed by the CLI). */
  onDevices?(devices: readonly PathDevice[], followed: boolean): void;
}

/** InterfaceStats and what only the capture side reports. */
export interface LiveInterfaceStats extends InterfaceStats {
  /** Frames longer than the snap length (cut: BIG TCP super-frames beyond it). */
  cut: number;
  /** Times the capture on this interface (re)started. */
  starts: number;
}

export interface LiveOutcome {
  run: LiveRun;
  /** Why it stopped. */
  reason: 'signal' | 'duration' | 'count' | 'failed';
  /** The one message of a run that could not capture at all (no permission, no backend), or null. */
  fatal: string | null;
  devices: PathDevice[];
  interfaces: LiveInterfaceStats[];
  /** Largest delay from a frame's capture to its analysis (ms, sampled; -1: too few frames). */
  maxLagMs: number;
}

interface Capture {
  spec: InterfaceSpec;
  stats: LiveInterfaceStats;
  feed: SourceFeed | null;
  handle: CaptureHandle | null;
  retry: NodeJS.Timeout | null;
  /** Frame numbers continue across restarts (evidence names frames by number). */
  numberBase: number;
  lastNumber: number;
  iface: CaptureInterface | null;
  /** Drops of the captures that ended (the counters restart with each start). */
  droppedBefore: number | null;
  ifDroppedBefore: number | null;
  /** The running capture's latest counters, or null. */
  running: CaptureCounters | null;
}

type CaptureCounters = { received: number | null; dropped: number | null; ifDropped: number | null };

const DEFAULT_RETRY_MS = 2000;

/** The most any backend keeps of a frame (dumpcap's limit). */
const MAX_SNAPLEN = 262144;

/**
 * The snap length that keeps a device's frames whole and no more: its largest super-frame
 * (gso_max_size, gro_max_size: 65,536 unless BIG TCP raised them) or MTU, plus room for the
 * link-layer and encapsulation headers. No larger: dumpcap captures in immediate mode (libpcap's
 * TPACKET_V2 ring), where every frame takes a slot of the snap length, so 262,144 bytes a slot
 * leave a 32 MiB ring 128 slots. Unknown devices get the most.
 */
export function deviceSnaplen(device: PathDevice): number {
  const link = device.link;
  if (link === null) return MAX_SNAPLEN;
  const largest = Math.max(link.gsoMaxSize ?? 65536, link.groMaxSize ?? 0, link.mtu + 18);
  return Math.min(MAX_SNAPLEN, largest + 128);
}

/** The session's hop overrides: what the system says, under what the user said. */
export function systemOverrides(
  devices: readonly PathDevice[],
  given: HopOverrides | undefined,
): HopOverrides {
  const overrides = given ?? emptyOverrides();
  const system = new Map<string, SystemHop>(overrides.system ?? []);
  for (const d of devices)
    system.set(d.spec.label, {
      kind: d.kind === 'unknown' ? null : (d.kind as HopKind),
      mtu: d.mtu,
      offloads: d.offloads,
    });
  return { ...overrides, system };
}

export async function runLive(options: LiveOptions, hooks: LiveHooks = {}): Promise<LiveOutcome> {
  const log = options.logger.child({ component: 'live' });
  const backends: Record<BackendName, StartCapture> = {
    dumpcap: options.backends?.dumpcap ?? (await import('./dumpcap.js')).startDumpcap,
    tcpdump: options.backends?.tcpdump ?? (await import('./dumpcap.js')).startTcpdump,
    cap: options.backends?.cap ?? (await import('./cap.js')).startCap,
  };
  const start = backends[options.backend];

  // What to capture: the interfaces given, then each followed path, once each.
  const devices: PathDevice[] = [];
  for (const tap of options.follow) devices.push(...(await discoverPath(tap)));
  devices.push(...(await describeInterfaces(options.interfaces)));
  const unique = devices.filter((d, i) => devices.findIndex((o) => o.spec.label === d.spec.label) === i);
  hooks.onDevices?.(unique, options.follow.length > 0);

  // A single followed path is the order data leaves the VM in: given to the session as --path
  // would be. The traffic alone misplaces a bridge: its own capture point sees a forwarded frame
  // after the bridge forwarded it (br_pass_frame_up runs after br_forward), so after the tunnel and
  // the underlay have sent it on.
  const path =
    options.path ??
    (options.follow.length === 1 && options.interfaces.length === 0
      ? unique.map((d) => d.spec.label)
      : undefined);
  const session = createSession({
    overrides: systemOverrides(unique, options.overrides),
    logger: options.logger,
    ...(path !== undefined ? { path } : {}),
  });
  const backendOptions: BackendOptions = {
    filter: options.filter,
    snaplen: options.snaplen ?? MAX_SNAPLEN,
    bufferSize: options.bufferSize,
  };
  const snaplens = new Map(unique.map((d) => [d.spec.label, options.snaplen ?? deviceSnaplen(d)]));

  let stopping = false;
  let totalFrames = 0;
  let fatal: string | null = null;
  let reason: LiveOutcome['reason'] = 'signal';
  let maxLagMs = -1;
  let wake: () => void = () => {};
  const stopped = new Promise<void>((resolve) => {
    wake = resolve;
  });
  const stop = (why: LiveOutcome['reason']) => {
    if (stopping) return;
    stopping = true;
    reason = why;
    wake();
  };

  const captures: Capture[] = unique.map((d) => ({
    spec: d.spec,
    stats: {
      hop: d.spec.label,
      interface: d.spec.device,
      netns: d.spec.netns,
      backend: options.backend,
      state: 'starting',
      frames: 0,
      bytes: 0,
      dropped: null,
      ifDropped: null,
      message: null,
      cut: 0,
      starts: 0,
    },
    feed: null,
    handle: null,
    retry: null,
    numberBase: 0,
    lastNumber: 0,
    iface: null,
    droppedBefore: null,
    ifDroppedBefore: null,
    running: null,
  }));

  const run: LiveRun = {
    session,
    startedAt: Date.now(),
    argv: options.argv,
    stats: () => captures.map((c) => ({ ...c.stats })),
  };

  const feedOf = (capture: Capture): SourceFeed => {
    if (capture.feed === null) {
      const feed = session.addSource(capture.spec.label);
      capture.feed = hooks.tap !== undefined ? hooks.tap(capture.spec.label, feed) : feed;
    }
    return capture.feed;
  };

  const kernelTimes = options.backend !== 'cap';
  const sinkFor = (capture: Capture): CaptureSink => {
    const feed = feedOf(capture);
    const stats = capture.stats;
    const snaplen = snaplens.get(capture.spec.label) ?? MAX_SNAPLEN;
    // Said when the snap length was meant to keep frames whole (not a headers-only capture).
    const wantsWhole = options.snaplen === null || options.snaplen >= 65535;
    return {
      onInterface(iface) {
        // The hop is named by the spec as given, not by the interface alone (two namespaces may
        // both have a phy0).
        capture.iface = { ...iface, name: capture.spec.label };
        feed.onInterface(capture.iface);
      },
      onFrame(frame) {
        stats.frames++;
        stats.bytes += frame.originalLength;
        // Cut by the snap length (not a capture of headers only by choice): BIG TCP super-frames
        // beyond it. Counted, and said once when the snap length was not chosen that small.
        if (
          frame.originalLength > frame.capturedLength &&
          frame.capturedLength >= (capture.iface?.snaplen ?? snaplen)
        ) {
          if (stats.cut++ === 0 && wantsWhole)
            log.warn(
              { hop: stats.hop, captured: frame.capturedLength, length: frame.originalLength },
              'a frame longer than the snap length was cut (BIG TCP?); raise --snaplen to see such frames whole',
            );
        }
        capture.lastNumber = frame.number;
        frame.number += capture.numberBase;
        // How long after its capture a frame is analysed, every 256th frame: grows when the
        // analysis falls behind (the socket and the kernel ring fill), stays flat when it keeps up.
        // Only with the kernel's timestamps: cap stamps a frame when JavaScript sees it.
        if (kernelTimes && (stats.frames & 255) === 0) {
          const lag = Date.now() - (frame.timeSec * 1000 + frame.timeNs / 1e6);
          if (lag > maxLagMs) maxLagMs = lag;
        }
        feed.onFrame(frame);
        if (options.count !== null && ++totalFrames >= options.count) stop('count');
      },
      onProblem(problem) {
        feed.onProblem(problem);
      },
    };
  };

  const scheduleRetry = (capture: Capture) => {
    if (stopping || capture.retry !== null) return;
    capture.retry = setTimeout(() => {
      capture.retry = null;
      if (!stopping) begin(capture);
    }, options.retryMs ?? DEFAULT_RETRY_MS);
  };

  /** The counters of the running capture (since its start) over those of the ended ones. */
  const noteCounters = (capture: Capture, counters: CaptureCounters) => {
    const stats = capture.stats;
    capture.running = counters;
    const add = (before: number | null, now: number | null) =>
      before === null && now === null ? null : (before ?? 0) + (now ?? 0);
    stats.dropped = add(capture.droppedBefore, counters.dropped);
    stats.ifDropped = add(capture.ifDroppedBefore, counters.ifDropped);
    if (stats.dropped !== null || stats.ifDropped !== null)
      feedOf(capture).onStatistics?.({
        interfaceId: 0,
        received: counters.received,
        dropped: stats.dropped,
        ifDropped: stats.ifDropped,
      });
  };

  const onEnd = (capture: Capture, end: CaptureEnd) => {
    const stats = capture.stats;
    capture.handle = null;
    capture.numberBase += capture.lastNumber;
    capture.lastNumber = 0;
    // Counters restart with each capture: drops add up over the restarts.
    // A tool that ended without its closing counters (killed, crashed) keeps what it said last.
    const last = capture.running;
    const final: CaptureCounters = {
      received: end.received ?? last?.received ?? null,
      dropped: end.dropped ?? last?.dropped ?? null,
      ifDropped: end.ifDropped ?? last?.ifDropped ?? null,
    };
    noteCounters(capture, final);
    if (final.dropped !== null) capture.droppedBefore = (capture.droppedBefore ?? 0) + final.dropped;
    if (final.ifDropped !== null) capture.ifDroppedBefore = (capture.ifDroppedBefore ?? 0) + final.ifDropped;
    capture.running = null;
    const where = { hop: stats.hop, backend: stats.backend };
    // What no retry can mend (no permission, a bad filter, no backend) stops the whole run; every
    // interface fails alike, so it is said once.
    const failRun = (message: string | null, logged: string) => {
      stats.state = 'failed';
      stats.message = message;
      if (fatal === null) log.error(where, logged);
      fatal ??= message;
      stop('failed');
    };
    switch (end.reason) {
      case 'stopped':
        // A retry stopped before it found the interface: it is still gone, and says so.
        if (stats.state === 'capturing' || stats.state === 'starting') {
          stats.state = 'stopped';
          stats.message = null;
        }
        return;
      case 'permission': {
        const message = permissionMessage(options.backend, end.message);
        failRun(message, message);
        return;
      }
      case 'filter': {
        const message = `the capture filter ${JSON.stringify(options.filter ?? '')} is not valid: ${filterComplaint(end.message)}`;
        failRun(message, message);
        return;
      }
      case 'unavailable':
        failRun(end.message, end.message ?? 'capture backend unavailable');
        return;
      case 'missing':
      case 'down':
      case 'gone': {
        const was = stats.state;
        const before = stats.message;
        stats.state = end.reason === 'gone' ? 'gone' : 'waiting';
        stats.message =
          end.reason === 'gone'
            ? `${stats.hop} went away (${end.message ?? 'the capture ended'}); trying again every ${(options.retryMs ?? DEFAULT_RETRY_MS) / 1000} s`
            : end.reason === 'down'
              ? `${stats.hop} is down (${end.message ?? 'not up'}); waiting for it to come up`
              : `${stats.hop} is not there (${end.message ?? 'no such interface'}); waiting for it`;
        // Said once while it waits (a stopped VM's tap may wait for days), again when what it waits for changes.
        if (was !== 'waiting' || end.reason === 'gone' || stats.message !== before)
          log.warn(where, stats.message);
        scheduleRetry(capture);
        return;
      }
      default: {
        // A failure that repeats with the same words is said once, not every retry for a week.
        const repeated = stats.state === 'failed' && stats.message === end.message;
        stats.state = 'failed';
        stats.message = end.message;
        if (!repeated) log.error(where, `capture failed: ${end.message ?? 'no reason given'}; trying again`);
        scheduleRetry(capture);
      }
    }
  };

  const begin = (capture: Capture) => {
    capture.stats.starts++;
    const sink = sinkFor(capture);
    capture.handle = start(
      capture.spec,
      { ...backendOptions, snaplen: snaplens.get(capture.spec.label) ?? backendOptions.snaplen },
      {
        sink,
        onReady() {
          const was = capture.stats.state;
          capture.stats.state = 'capturing';
          capture.stats.message = null;
          log.info(
            { hop: capture.stats.hop, backend: options.backend, was },
            was === 'starting' ? 'capturing' : 'capturing again',
          );
        },
        onEnd: (end) => onEnd(capture, end),
        onCounters: (counters) => noteCounters(capture, counters),
      },
    );
  };

  for (const capture of captures) begin(capture);
  await hooks.onStart?.(run);

  const timers: NodeJS.Timeout[] = [];
  if (options.duration !== null) timers.push(setTimeout(() => stop('duration'), options.duration * 1000));
  const onAbort = () => stop('signal');
  if (options.signal?.aborted) stop('signal');
  options.signal?.addEventListener('abort', onAbort, { once: true });

  await stopped;
  options.signal?.removeEventListener('abort', onAbort);
  for (const timer of timers) clearTimeout(timer);
  for (const c of captures) if (c.retry !== null) clearTimeout(c.retry);
  await Promise.all(captures.map((c) => c.handle?.stop()));
  for (const c of captures) {
    if (c.stats.state === 'capturing' || c.stats.state === 'starting') c.stats.state = 'stopped';
    const feed = feedOf(c);
    feed.end({
      format: 'pcapng',
      compressed: false,
      frames: c.stats.frames,
      interfaces: c.iface !== null ? [c.iface] : [],
    });
  }
  await hooks.onStop?.(run);
  return {
    run,
    reason,
    fatal,
    devices: unique,
    interfaces: captures.map((c) => ({ ...c.stats })),
    maxLagMs,
  };
}
