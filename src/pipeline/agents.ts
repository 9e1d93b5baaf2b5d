/**
 * Agents (`hopscope live` on other hosts) named next to capture files: `http://host:9477` is
 * asked for its hops' state (GET /hops, hops-document.ts), which the session adopts like a
 * worker's sources, so one analysis correlates what each host saw. Clocks are aligned as for files
 * (correlate/clock.ts estimates each hop's offset from the traffic).
 *
 * A token for an agent comes from the URL's user info (`http://:TOKEN@host:9477`, handy but seen
 * by `ps`) or else the one given for all agents (--token / --token-file). An agent that cannot be
 * asked is reported like a capture that cannot be read; the others are still analysed.
 */

import type { Logger } from '../log.js';
import { placeSource, readHopsDocument, unreachableSource } from './hops-document.js';
import type { SourceData } from './session.js';

export function isAgentUrl(path: string): boolean {
  return /^https?:\/\//i.test(path);
}

export interface AgentOptions {
  token?: string;
  /** Whole request, connection to last byte (ms). */
  timeoutMs?: number;
  toolVersion: string;
  logger: Logger;
}

/** The URL without user info (what reports name), and the token it carried. */
export function splitAgentUrl(raw: string): { origin: string; hopsUrl: URL; token: string | null } {
  const url = new URL(raw);
  const token = decodeURIComponent(url.password || url.username) || null;
  url.username = '';
  url.password = '';
  // http://hv1:9477, http://hv1:9477/hops, or behind a proxy's prefix: http://proxy/hv1/ -> /hv1/hops.
  const path = url.pathname.replace(/\/+$/, '');
  const hopsUrl = new URL(path.endsWith('/hops') ? path : `${path}/hops`, url);
  hopsUrl.search = url.search;
  return { origin: `${url.protocol}//${url.host}`, hopsUrl, token };
}

/** Asks one agent for its hops; never throws (an unreachable agent is an unreadable source). */
export async function fetchAgentSources(raw: string, options: AgentOptions): Promise<SourceData[]> {
  let origin = raw;
  try {
    const parts = splitAgentUrl(raw);
    origin = parts.origin;
    const token = parts.token ?? options.token ?? null;
    const response = await fetch(parts.hopsUrl, {
      headers: token !== null ? { authorization: `Bearer ${token}` } : {},
      signal: AbortSignal.timeout(options.timeoutMs ?? 30_000),
      redirect: 'error',
    });
    const text = await response.text();
    if (response.status === 401)
      return [
        unreachableSource(origin, `the agent refused the token (401): give it with --token or --token-file`),
      ];
    if (!response.ok)
      return [unreachableSource(origin, `the agent answered ${response.status} ${response.statusText}`)];
    const { document, sources } = readHopsDocument(text);
    if (document.tool?.version !== options.toolVersion)
      options.logger.warn(
        { agent: origin, agentVersion: document.tool?.version, version: options.toolVersion },
        'the agent runs another hopscope version: its hop state may not read the same',
      );
    return sources.map((source) => placeSource(source, document.agent, origin));
  } catch (error) {
    const cause = (error as { cause?: { code?: string; message?: string } }).cause;
    const why =
      (error as Error).name === 'TimeoutError'
        ? 'no answer in time'
        : (cause?.code ?? cause?.message ?? (error as Error).message);
    return [unreachableSource(origin, `cannot get its hops: ${why}`)];
  }
}
