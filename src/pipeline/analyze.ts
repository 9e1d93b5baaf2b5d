/**
 * `hopscope analyze`: a session over the capture files, then one snapshot. With several large
 * files and cores to spare, this thread reads a share of the files while worker threads read the
 * others (parallel.ts), and the session adopts what the workers observed; otherwise the files are
 * read one after another here, each as a stream. A capture that cannot be opened is reported and the others still analysed.
 */

import { setTunnelPorts, type TunnelPorts } from '../decode/registry.js';
import type { Logger, LogLevel } from '../log.js';
import { fetchAgentSources, isAgentUrl } from './agents.js';
import type { HopOverrides } from './hops.js';
import { planThreads, readInWorkers, share } from './parallel.js';
import { type AnalysisResult, createSession } from './session.js';

export type { AnalysisResult, CaptureResult } from './session.js';

export interface AnalyzeOptions {
  overrides: HopOverrides;
  /** Hop names in path order (--path); otherwise the topology's order or the evidence. */
  path?: string[];
  logger: Logger;
  /** The level workers log at (they make loggers of their own). */
  logLevel?: LogLevel;
  /** Threads to read files in, this one included: undefined decides by cores and sizes, 0 or 1 reads here alone. */
  jobs?: number;
  /** UDP ports decoded as VXLAN/Geneve besides the defaults (--vxlan-port, --geneve-port). */
  tunnelPorts?: TunnelPorts;
  onProgress?: (path: string, bytesRead: number, totalBytes: number | null) => void;
  /** For agents' URLs among the paths: the token (unless a URL carries its own) and our version. */
  agents?: { token?: string; toolVersion: string };
}

export async function analyzeCaptures(
  given: readonly string[],
  options: AnalyzeOptions,
): Promise<AnalysisResult> {
  setTunnelPorts(options.tunnelPorts);
  // Agents are asked while the files are read; their sources are adopted after the files, each at
  // the place its URL had among them (half a place before the file that followed it).
  const paths = given.filter((path) => !isAgentUrl(path));
  const fromAgents = Promise.all(
    given.flatMap((path, index) =>
      isAgentUrl(path)
        ? [
            fetchAgentSources(path, {
              toolVersion: options.agents?.toolVersion ?? '',
              logger: options.logger,
              ...(options.agents?.token !== undefined ? { token: options.agents.token } : {}),
            }).then((sources) => ({
              sources,
              position: index - given.slice(0, index).filter(isAgentUrl).length - 0.5,
            })),
          ]
        : [],
    ),
  );
  const adoptAgents = async (session: ReturnType<typeof createSession>) => {
    for (const { sources, position } of await fromAgents)
      for (const source of sources) session.adoptSource(source, position);
  };
  const session = createSession({
    overrides: options.overrides,
    logger: options.logger,
    ...(options.path !== undefined ? { path: options.path } : {}),
  });
  const threads = planThreads(paths, options.jobs);
  if (threads > 1) {
    options.logger.debug({ threads, files: paths.length }, 'reading the captures in worker threads');
    // One share is read here while the workers read the others.
    const [mine = [], ...theirs] = share(paths, threads);
    const fromWorkers = readInWorkers(
      theirs,
      {
        overrides: options.overrides,
        logLevel: options.logLevel ?? 'silent',
        ...(options.tunnelPorts !== undefined ? { tunnelPorts: options.tunnelPorts } : {}),
      },
      options.onProgress,
    );
    // A worker's failure surfaces at the await below; until then it must not go unhandled.
    fromWorkers.catch(() => {});
    for (const { path, position } of mine) {
      await session.readFile(
        path,
        {
          onProgress: options.onProgress
            ? (read, total) => options.onProgress?.(path, read, total)
            : undefined,
        },
        position,
      );
    }
    for (const { data, position } of await fromWorkers) session.adoptSource(data, position);
    await adoptAgents(session);
    return session.result();
  }
  for (const path of paths) {
    await session.readFile(path, {
      onProgress: options.onProgress ? (read, total) => options.onProgress?.(path, read, total) : undefined,
    });
  }
  await adoptAgents(session);
  return session.result();
}
