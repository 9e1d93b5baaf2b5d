/**
 * `hopscope analyze`: a session over the capture files, then one snapshot. Captures are read one
 * after another, each as a stream; a capture that cannot be opened is reported and the others
 * are still analysed.
 */

import type { Logger } from '../log.js';
import type { HopOverrides } from './hops.js';
import { type AnalysisResult, createSession } from './session.js';

export type { AnalysisResult, CaptureResult } from './session.js';

export interface AnalyzeOptions {
  overrides: HopOverrides;
  /** Hop names in path order (--path); otherwise the topology's order or the evidence. */
  path?: string[];
  logger: Logger;
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
  for (const path of paths) {
    await session.readFile(path, {
      onProgress: options.onProgress ? (read, total) => options.onProgress?.(path, read, total) : undefined,
    });
  }
  return session.result();
}
