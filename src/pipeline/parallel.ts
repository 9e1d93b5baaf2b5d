/**
 * Several capture files read at once, in worker threads: each worker decodes and observes its
 * share of the files (its hops' state is its own), then hands the finished sources to the main
 * thread's session, which correlates and reports. The hops of one capture file never span two
 * workers, so the result is the one of the files read one after the other.
 *
 * It pays when there are cores to spare and enough bytes: a worker costs about 40 ms to start
 * (loading the modules again) and its hops' state is copied once at the end. `planWorkers` says
 * how many; the benchmark's multi-hop case measures it.
 */

import { existsSync, statSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { LogLevel } from '../log.js';
import type { HopOverrides } from './hops.js';
import type { SourceData } from './session.js';

export interface WorkerInput {
  paths: string[];
  overrides: HopOverrides;
  logLevel: LogLevel;
}

export type WorkerMessage =
  | { type: 'progress'; path: string; read: number; total: number | null }
  | { type: 'done'; sources: SourceData[] };

/** Below this many bytes in all, starting workers costs more than it saves. */
export const PARALLEL_MIN_BYTES = 16 * 1024 * 1024;

/**
 * The compiled worker, dist/pipeline/worker.js: reached from this module in dist/pipeline/ and
 * from the CLI bundle's chunks in dist/cli/ alike; absent when running from the TypeScript sources.
 */
const WORKER_URL = new URL('../pipeline/worker.js', import.meta.url);

export function workerAvailable(): boolean {
  return existsSync(fileURLToPath(WORKER_URL));
}

function sizeOf(path: string): number {
  try {
    const stats = statSync(path);
    return stats.isFile() ? stats.size : -1;
  } catch {
    return 0;
  }
}

/**
 * How many workers to read these files with (0: read them in this thread). `requested` is the
 * user's --jobs (undefined: decide). Only regular files go to workers (stdin and FIFOs stay here).
 */
export function planWorkers(paths: readonly string[], requested: number | undefined): number {
  if (requested !== undefined && requested <= 1) return 0;
  if (paths.length < 2 || !workerAvailable()) return 0;
  const sizes = paths.map((p) => (p === '-' ? -1 : sizeOf(p)));
  if (sizes.some((size) => size < 0)) return 0;
  const total = sizes.reduce((sum, size) => sum + size, 0);
  if (requested === undefined && total < PARALLEL_MIN_BYTES) return 0;
  return Math.min(paths.length, requested ?? availableParallelism());
}

/** Longest files first, each to the least loaded worker (LPT scheduling). */
function share(paths: readonly string[], workers: number): string[][] {
  const loads = Array.from({ length: workers }, () => ({ bytes: 0, paths: [] as string[] }));
  const bySize = paths.map((path) => ({ path, size: sizeOf(path) })).sort((a, b) => b.size - a.size);
  for (const { path, size } of bySize) {
    const least = loads.reduce((a, b) => (b.bytes < a.bytes ? b : a));
    least.bytes += size;
    least.paths.push(path);
  }
  return loads.map((l) => l.paths).filter((p) => p.length > 0);
}

/** Reads the files in `workers` threads; the sources come back in the order of `paths`. */
export async function readInWorkers(
  paths: readonly string[],
  workers: number,
  input: Omit<WorkerInput, 'paths'>,
  onProgress?: (path: string, read: number, total: number | null) => void,
): Promise<SourceData[]> {
  const results = await Promise.all(
    share(paths, workers).map(
      (mine) =>
        new Promise<SourceData[]>((resolve, reject) => {
          const worker = new Worker(WORKER_URL, {
            workerData: { ...input, paths: mine } satisfies WorkerInput,
          });
          let done = false;
          worker.on('message', (message: WorkerMessage) => {
            if (message.type === 'progress') onProgress?.(message.path, message.read, message.total);
            else {
              done = true;
              resolve(message.sources);
            }
          });
          worker.on('error', reject);
          worker.on('exit', (code) => {
            if (!done)
              reject(new Error(`hopscope: a worker reading ${mine.join(', ')} stopped (exit ${code})`));
          });
        }),
    ),
  );
  const byPath = new Map<string, SourceData[]>();
  for (const source of results.flat()) {
    const list = byPath.get(source.capture.path);
    if (list === undefined) byPath.set(source.capture.path, [source]);
    else list.push(source);
  }
  // The same path given twice is two sources; hand them out in the order given.
  return paths.map((path) => byPath.get(path)?.shift() as SourceData);
}
