/**
 * `hopscope live`: what the command does beyond its options (main.ts declares those and imports
 * this lazily). Captures until SIGINT/SIGTERM, --duration or --count, then prints the same final
 * summary as `analyze` (or, with --json, the same document) with every interface's capture
 * counters on stderr. The service (HTTP API, metrics, evidence) plugs in through `hooks`.
 */

import { BACKENDS, type BackendName } from '../capture/live/backend.js';
import { type LiveHooks, type LiveInterfaceStats, type LiveOutcome, runLive } from '../capture/live/run.js';
import { parseInterfaceSpec } from '../capture/live/spec.js';
import { formatPath } from '../capture/live/system.js';
import { UsageError } from '../errors.js';
import type { LogLevel } from '../log.js';
import { createLogger } from '../log.js';
import { buildOverrides } from '../pipeline/hops.js';
import { renderText } from '../report/text.js';

export interface LiveArgs {
  interface?: string | string[];
  follow?: string | string[];
  backend: string;
  filter?: string;
  snaplen: number;
  bufferSize: number;
  duration?: number;
  count?: number;
  json: boolean;
  hop?: string | string[];
  mtu?: string | string[];
  path?: string;
  logLevel: LogLevel;
  verbose: boolean;
  color?: boolean;
}

export interface LiveIo {
  stdout: NodeJS.WritableStream & { isTTY?: boolean; columns?: number };
  stderr: NodeJS.WritableStream & { isTTY?: boolean };
}

const list = (value: string | string[] | undefined): string[] =>
  value === undefined ? [] : Array.isArray(value) ? value : [value];

/** One line per interface: what it captured and what it lost. */
export function formatCounters(stats: readonly LiveInterfaceStats[], maxLagMs = -1): string {
  const lines = stats.map((s) => {
    const drops =
      s.dropped === null && s.ifDropped === null
        ? 'drops unknown (this backend has no counters)'
        : `dropped ${s.dropped ?? 0} (kernel) + ${s.ifDropped ?? 0} (interface)`;
    const cut = s.cut > 0 ? `, ${s.cut} cut by the snap length` : '';
    const state = s.state !== 'stopped' ? `, ${s.state}${s.message !== null ? `: ${s.message}` : ''}` : '';
    return `  ${s.hop.padEnd(28)} ${s.backend.padEnd(7)} ${String(s.frames).padStart(9)} frames  ${drops}${cut}${state}`;
  });
  // How far behind the wall clock the newest analysed frame ever was: a queue that grows shows here.
  const lag = maxLagMs >= 0 ? `  analysis behind the capture by at most ${Math.round(maxLagMs)} ms\n` : '';
  return `capture:\n${lines.join('\n')}\n${lag}`;
}

export async function runLiveCommand(
  args: LiveArgs,
  io: LiveIo,
  version: string,
  argv: readonly string[],
  hooks: LiveHooks = {},
): Promise<{ code: number; text: string; outcome: LiveOutcome | null }> {
  const interfaces = list(args.interface).map((v) => parseInterfaceSpec(v, '-i'));
  const follow = list(args.follow).map((v) => parseInterfaceSpec(v, '--follow'));
  if (interfaces.length === 0 && follow.length === 0)
    throw new UsageError(
      'live: name the interfaces to capture on (-i IF, -i NETNS/IF) or a tap to follow (--follow TAP)',
    );
  if (!(BACKENDS as string[]).includes(args.backend))
    throw new UsageError(`live: --backend is one of ${BACKENDS.join(', ')}, not ${args.backend}`);
  const positive = (name: string, value: number | undefined, integer: boolean) => {
    if (value === undefined) return null;
    if (!(value > 0) || (integer && !Number.isInteger(value)))
      throw new UsageError(`live: --${name} takes a positive ${integer ? 'whole ' : ''}number, not ${value}`);
    return value;
  };
  const snaplen = positive('snaplen', args.snaplen, true) as number;
  const bufferMiB = positive('buffer-size', args.bufferSize, true) as number;
  const duration = positive('duration', args.duration, false);
  const count = positive('count', args.count, true);
  const overrides = buildOverrides(list(args.hop), list(args.mtu));
  const path = args.path
    ?.split(',')
    .map((name) => name.trim())
    .filter(Boolean);
  const logger = createLogger(args.logLevel);

  const controller = new AbortController();
  const onSignal = () => controller.abort();
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  let outcome: LiveOutcome;
  try {
    outcome = await runLive(
      {
        interfaces,
        follow,
        backend: args.backend as BackendName,
        filter: args.filter ?? null,
        snaplen,
        bufferSize: bufferMiB * 1048576,
        duration,
        count,
        overrides,
        ...(path !== undefined && path.length > 0 ? { path } : {}),
        logger,
        argv,
        signal: controller.signal,
      },
      {
        ...hooks,
        onDevices(devices, followed) {
          if (followed)
            io.stderr.write(
              `hopscope: the path of ${follow.map((f) => f.label).join(', ')}:\n${formatPath(devices)}`,
            );
          hooks.onDevices?.(devices, followed);
        },
      },
    );
  } catch (error) {
    if (error instanceof UsageError) throw error;
    // Discovery failed (no such tap, ip missing): one line, as a usage problem of this host.
    throw new UsageError(`live: ${(error as Error).message}`);
  } finally {
    process.removeListener('SIGINT', onSignal);
    process.removeListener('SIGTERM', onSignal);
  }
  if (outcome.fatal !== null) return { code: 1, text: `hopscope: ${outcome.fatal}\n`, outcome };
  const report = outcome.run.session.snapshot(version);
  io.stderr.write(formatCounters(outcome.interfaces, outcome.maxLagMs));
  const text = args.json
    ? `${JSON.stringify(report, null, 2)}\n`
    : renderText(report, {
        color: args.color ?? (Boolean(io.stdout.isTTY) && process.env.NO_COLOR === undefined),
        verbose: args.verbose,
        width: Math.min(110, io.stdout.columns ?? 100),
      });
  return { code: 0, text, outcome };
}
