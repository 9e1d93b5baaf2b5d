/**
 * `hopscope analyze`: a session over the capture files, then one snapshot. With several large
 * files and cores to spare, this thread reads a share of the files while worker threads read the
 * others (parallel.ts), and the session adopts what the workers observed; otherwise the files are
 * read one after another here, each as a stream (regular files largest first, reported in the
 * order given). A capture that cannot be opened is reported and the others still analysed.
 */

import { type OpenedFile, openAhead } from '../capture/read.js';
import { setTunnelPorts, type TunnelPorts } from '../decode/registry.js';
import type { Logger, LogLevel } from '../log.js';
import { fetchAgentSources, isAgentUrl } from './agents.js';
import type { HopOverrides } from './hops.js';
import { allRegularFiles, planThreads, readInWorkers, share } from './parallel.js';
import { type AnalysisResult, createSession, type Session } from './session.js';

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
  const adoptAgents = async (session: Session) => {
    for (const { sources, position } of await fromAgents)
      for (const source of sources) session.adoptSource(source, position);
  };
  const newSession = () =>
    createSession({
      overrides: options.overrides,
      logger: options.logger,
      ...(options.path !== undefined ? { path: options.path } : {}),
    });
  const session = newSession();
  const threads = planThreads(paths, options.jobs);
  // Several regular files are read largest first, here as in the threads, and reported in the order
  // given. V8 compiles the hot path for the frames it has seen: the NIC's capture of tunnelled
  // frames (usually the largest) has every layer the overlay hops' captures have, and more. Read
  // after them, it throws the code compiled for their shorter frames away and starts over (ten lab
  // hops: 0.54 s in the given order, 0.48 s largest first).
  if (threads > 1 || (paths.length > 1 && allRegularFiles(paths))) {
    if (threads > 1)
      options.logger.debug({ threads, files: paths.length }, 'reading the captures in worker threads');
    // One share is read here while the workers read the others.
    const [mine = [], ...theirs] = share(paths, threads);
    const fromWorkers =
      theirs.length === 0
        ? Promise.resolve([])
        : readInWorkers(
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
    // Each file is opened (and its first chunk read) while the one before it is parsed.
    let ahead: Promise<OpenedFile> | undefined;
    for (const [i, { path, position }] of mine.entries()) {
      const opened = ahead;
      const after = mine[i + 1];
      ahead = after !== undefined ? openAhead(after.path) : undefined;
      await session.readFile(
        path,
        {
          ...(opened !== undefined ? { opened } : {}),
          onProgress: options.onProgress
            ? (read, total) => options.onProgress?.(path, read, total)
            : undefined,
        },
        position,
      );
    }
    for (const { data, position, names } of await fromWorkers) session.adoptSource(data, position, names);
    // Hops were named in the order the files were read (each thread knowing only its own files):
    // named again in the files' order.
    if (session.settleNames()) {
      await adoptAgents(session);
      return session.result();
    }
    // A name that changed what a hop is (--hop, --mtu, a topology entry for one of the two): its
    // frames were observed as another hop. Rare (two files named alike, one named in an option);
    // the files are read again, in order, here.
    options.logger.debug({ files: paths.length }, 'hop names collide across files: reading again in order');
    return readInOrder(paths, newSession(), options, adoptAgents);
  }
  return readInOrder(paths, session, options, adoptAgents);
}

async function readInOrder(
  paths: readonly string[],
  session: Session,
  options: AnalyzeOptions,
  adoptAgents: (session: Session) => Promise<void>,
): Promise<AnalysisResult> {
  for (const path of paths) {
    await session.readFile(path, {
      onProgress: options.onProgress ? (read, total) => options.onProgress?.(path, read, total) : undefined,
    });
  }
  await adoptAgents(session);
  return session.result();
}
