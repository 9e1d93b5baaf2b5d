/**
 * Several capture files read at once: the main thread reads one share of the files and worker
 * threads the others; each worker decodes and observes its files (its hops' state is its own),
 * then hands the finished sources to the main thread's session, which correlates and reports.
 * The hops of one capture file never span two threads, and sources report in the order the
 * files were given, so the result is the one of the files read one after the other.
 *
 * It pays when there are cores to spare and enough bytes: a worker costs a start (loading its
 * bundle) and a JIT warm-up of its own, and its hops' state is copied once at the end.
 * `planThreads` says how many; the benchmark's multi-hop case measures it.
 */

import { existsSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import type { TunnelPorts } from '../decode/registry.js';
import type { LogLevel } from '../log.js';
import type { HopNameRequest, HopOverrides } from './hops.js';
import type { SourceData } from './session.js';

export interface WorkerInput {
  paths: string[];
  overrides: HopOverrides;
  logLevel: LogLevel;
  /** Extra tunnel ports: the worker's decoder must know the ones this thread's does. */
  tunnelPorts?: TunnelPorts;
}

export type WorkerMessage =
  | { type: 'progress'; path: string; read: number; total: number | null }
  | { type: 'done'; sources: SourceData[]; names: HopNameRequest[][] };

/**
 * Below this many bytes in all, a worker's start and JIT warm-up cost what it saves: until its
 * first frame a worker takes 55-120 ms (its isolate and bundle), and while both threads compile
 * their hot paths each runs slower. Measured on 2 cores, ten lab captures (npm run bench,
 * multi-hop, and alternated runs): 238 MB (1 M frames) 0.48-0.54 s with a worker against
 * 0.43-0.49 s in one thread; 475 MB (2 M) 0.56-0.65 s against 0.65-0.75 s; 951 MB (4 M) 0.82 s
 * against 1.15 s.
 */
export const PARALLEL_MIN_BYTES = 384 * 1024 * 1024;

/**
 * node:os and node:worker_threads, loaded when several large files may be read at once: a single
 * capture (most runs) needs neither, and loading them with node:zlib cost every run ~2 ms.
 */
const load = createRequire(import.meta.url);
const workerThreads = () => load('node:worker_threads') as typeof import('node:worker_threads');
const cores = () => (load('node:os') as typeof import('node:os')).availableParallelism();

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

/** No stdin, FIFO or device among the paths: files that can be read in any order (a missing one too: it fails alike). */
export function allRegularFiles(paths: readonly string[]): boolean {
  return paths.every((path) => path !== '-' && sizeOf(path) >= 0);
}

/** A file and its place among the files given (sources report in that order). */
export interface PlacedPath {
  path: string;
  position: number;
}

/** A source a worker read, its place among the files, and how the worker named its hops. */
export interface PlacedSource {
  data: SourceData;
  position: number;
  names: HopNameRequest[];
}

/**
 * How many threads to read these files with, this one included (0 or 1: this one alone).
 * `requested` is the user's --jobs (undefined: decide). Only regular files go to workers (stdin
 * and FIFOs stay here).
 */
export function planThreads(paths: readonly string[], requested: number | undefined): number {
  if (requested !== undefined && requested <= 1) return 1;
  if (paths.length < 2 || !workerAvailable()) return 1;
  if (!allRegularFiles(paths)) return 1;
  const sizes = paths.map(sizeOf);
  const total = sizes.reduce((sum, size) => sum + size, 0);
  if (requested === undefined && total < PARALLEL_MIN_BYTES) return 1;
  return Math.min(paths.length, requested ?? cores());
}

/** Longest files first, each to the least loaded thread (LPT scheduling). */
export function share(paths: readonly string[], threads: number): PlacedPath[][] {
  const loads = Array.from({ length: threads }, () => ({ bytes: 0, paths: [] as PlacedPath[] }));
  const bySize = paths
    .map((path, position) => ({ path, position, size: sizeOf(path) }))
    .sort((a, b) => b.size - a.size || a.position - b.position);
  for (const { path, position, size } of bySize) {
    const least = loads.reduce((a, b) => (b.bytes < a.bytes ? b : a));
    least.bytes += size;
    least.paths.push({ path, position });
  }
  return loads.map((l) => l.paths).filter((p) => p.length > 0);
}

/** Reads each share of files in a worker thread of its own; resolves to the sources with their places. */
export async function readInWorkers(
  shares: readonly PlacedPath[][],
  input: Omit<WorkerInput, 'paths'>,
  onProgress?: (path: string, read: number, total: number | null) => void,
): Promise<PlacedSource[]> {
  const results = await Promise.all(
    shares.map(
      (mine) =>
        new Promise<PlacedSource[]>((resolve, reject) => {
          const paths = mine.map((p) => p.path);
          const worker = new (workerThreads().Worker)(WORKER_URL, {
            workerData: { ...input, paths } satisfies WorkerInput,
          });
          let done = false;
          worker.on('message', (message: WorkerMessage) => {
            if (message.type === 'progress') onProgress?.(message.path, message.read, message.total);
            else {
              done = true;
              // The worker reads its files in order and returns one source per file.
              resolve(
                message.sources.map((data, i) => ({
                  data,
                  position: (mine[i] as PlacedPath).position,
                  names: message.names[i] ?? [],
                })),
              );
            }
          });
          worker.on('error', reject);
          worker.on('exit', (code) => {
            if (!done)
              reject(new Error(`hopscope: a worker reading ${paths.join(', ')} stopped (exit ${code})`));
          });
        }),
    ),
  );
  return results.flat();
}
