/**
 * What `hopscope live` runs around its capture: the finding stream, and on request the HTTP API
 * (--listen), evidence files (--evidence). Started before capturing, so a wrong --listen or token
 * stops the command before any interface is opened; plugged into the capture through its hooks.
 * main.ts loads this lazily, with live.ts.
 */

import { hostname } from 'node:os';
import type { LiveHooks } from '../capture/live/run.js';
import { UsageError } from '../errors.js';
import { createLogger, type LogLevel } from '../log.js';
import { DEFAULT_RING_BYTES } from '../service/evidence.js';
import { readToken } from '../service/listen.js';
import { type Service, startService } from '../service/service.js';

export interface LiveServiceArgs {
  listen?: string;
  token?: string;
  tokenFile?: string;
  evidence?: string;
  evidenceMaxBytes: string;
  evidenceBuffer?: number;
  agentName?: string;
  logFormat?: 'json' | 'text';
  logLevel: LogLevel;
}

/** `100M`, `2G`, `65536`: bytes (K, M, G are binary: KiB, MiB, GiB). */
export function parseBytes(text: string, option: string): number {
  const match = /^(\d+(?:\.\d+)?)\s*([KMG]i?B?)?$/i.exec(text.trim());
  if (match === null)
    throw new UsageError(`${option} takes a size (65536, 512K, 100M, 2G), not ${JSON.stringify(text)}`);
  const unit = (match[2] ?? '').charAt(0).toUpperCase();
  const scale = unit === 'K' ? 1024 : unit === 'M' ? 1024 ** 2 : unit === 'G' ? 1024 ** 3 : 1;
  const bytes = Math.floor(Number(match[1]) * scale);
  if (!(bytes > 0)) throw new UsageError(`${option} must be more than nothing`);
  return bytes;
}

export interface LiveService {
  hooks: LiveHooks;
  service: Service;
  /** Stops the service if the capture did not (it failed before starting). */
  close(): Promise<void>;
}

export async function startLiveService(
  args: LiveServiceArgs,
  stderr: NodeJS.WritableStream & { isTTY?: boolean },
  version: string,
): Promise<LiveService> {
  const token = readToken(args.token, args.tokenFile);
  if (token !== null && args.listen === undefined)
    throw new UsageError('live: --token and --token-file protect the API: give --listen ADDRESS:PORT too');
  if (args.evidence === undefined && args.evidenceBuffer !== undefined)
    throw new UsageError('live: --evidence-buffer sizes what --evidence keeps: give --evidence DIR too');
  const text = (args.logFormat ?? (stderr.isTTY ? 'text' : 'json')) === 'text';
  const service = await startService({
    listen: args.listen ?? null,
    token,
    evidence:
      args.evidence !== undefined
        ? {
            dir: args.evidence,
            maxBytes: parseBytes(args.evidenceMaxBytes, '--evidence-max-bytes'),
            ringBytes:
              args.evidenceBuffer !== undefined ? args.evidenceBuffer * 1024 * 1024 : DEFAULT_RING_BYTES,
          }
        : null,
    agentName: args.agentName ?? hostname(),
    toolVersion: version,
    logger: createLogger(args.logLevel),
    text: text ? { write: (line) => stderr.write(line) } : null,
    // In a terminal the live command prints the whole report at the end; the service's summary
    // line is for the journal.
    summary: !text,
  });
  if (service.address !== null) {
    const where = `${service.address.host.includes(':') ? `[${service.address.host}]` : service.address.host}:${service.address.port}`;
    stderr.write(
      `hopscope: API on http://${where} (/snapshot /events /metrics /healthz /hops)${token !== null ? ', token required' : ''}\n`,
    );
  }
  let stopped = false;
  return {
    service,
    hooks: {
      tap: service.tap,
      onStart: (run) => service.attach(run),
      async onStop() {
        stopped = true;
        await service.stop();
      },
    },
    async close() {
      if (!stopped) await service.stop();
    },
  };
}
