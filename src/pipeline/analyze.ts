/**
 * `hopscope analyze`: a session over the capture files, then one snapshot. With several large
 * files and cores to spare, the files are read in worker threads (parallel.ts) and the main
 * thread's session adopts what they observed; otherwise they are read one after another here,
 * each as a stream. A capture that cannot be opened is reported and the others still analysed.
 */

import type { Logger, LogLevel } from '../log.js';
import type { HopOverrides } from './hops.js';
import { planWorkers, readInWorkers } from './parallel.js';
import { type AnalysisResult, createSession } from './session.js';

export type { AnalysisResult, CaptureResult } from './session.js';

export interface AnalyzeOptions {
  overrides: HopOverrides;
  /** Hop names in path order (--path); otherwise the topology's order or the evidence. */
  path?: string[];
  logger: Logger;
  /** The level workers log at (they make loggers of their own). */
  logLevel?: LogLevel;
  /** Worker threads to read files in: undefined decides by cores and sizes, 0 or 1 reads here. */
  jobs?: number;
  onProgress?: (path: string, bytesRead: number, totalBytes: number | null) => void;
}

export async function analyzeCaptures(
  paths: readonly string[],
  options: AnalyzeOptions,
): Promise<AnalysisResult> {
  const session = createSession({
    overrides: options.overrides,
    logger: options.logger,
    ...(options.path !== undefined ? { path: options.path } : {}),
  });
  const workers = planWorkers(paths, options.jobs);
  if (workers > 0) {
    options.logger.debug({ workers, files: paths.length }, 'reading the captures in worker threads');
    const sources = await readInWorkers(
      paths,
      workers,
      { overrides: options.overrides, logLevel: options.logLevel ?? 'silent' },
      options.onProgress,
    );
    for (const source of sources) session.adoptSource(source);
    return session.result();
  }
  for (const path of paths) {
    await session.readFile(path, {
      onProgress: options.onProgress ? (read, total) => options.onProgress?.(path, read, total) : undefined,
    });
  }
  return session.result();
}
