// Memory must be bounded by time and flows, never by capture length: the real binary reads a synthetic
// capture from a pipe (`hopscope analyze --json -`), once with N/10 frames and once with N frames
// (default N = 10 M: 6 simulated hours, about 1.3 M distinct flows, 2,064 open at any time). Both
// runs have the same concurrency and flow churn per frame and per simulated minute, so once the
// working set of open and recent flows is reached (well within the short run: 36 simulated minutes,
// 130,000 flows), ten times as many frames must not cost more memory.
//
// Peak RSS is the child's own process.resourceUsage().maxRSS, written at exit by the preload
// bench/peak-rss.mjs (`node --import`); where /proc exists the test also samples VmRSS once a
// second, to show in a failure where the growth happened.
//
// Limits: the long run may peak at 1.5x the short run, and at 200 MiB at most. Node and hopscope
// alone peak near 66 MiB (a small capture); an analyser keeping 10-60 MiB of bounded state peaks
// at some 80-130 MiB in both runs, and 1.5x of that leaves 40-65 MiB for allocator and GC timing,
// while growth with capture length (ten times the frames, flows and hours) overshoots it by far.
// A ratio rather than a fixed margin, because how big the bounded working set is (flows kept,
// samples per flow) is the analyser's choice; the 200 MiB cap bounds that choice.
//
//   npx vitest run test/analyze/memory.test.ts                                   # 1 M vs 10 M frames
//   HOPSCOPE_MEMTEST_FRAMES=1000000 npx vitest run test/analyze/memory.test.ts   # quick: 100 k vs 1 M
// The quick variant's short run covers 3.6 simulated minutes and 14,000 flows: a limit on flows
// (not on time) larger than that is reached only by the long run, so only the full size is the test.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import type { Report } from '../../src/report/model.js';
import { type SyntheticStreamStats, writeSyntheticStream } from '../helpers/synthetic-stream.js';

const root = join(import.meta.dirname, '..', '..');
const bin = join(root, 'bin', 'hopscope.js');
const preload = pathToFileURL(join(root, 'bench', 'peak-rss.mjs')).href;
const MiB = 1024 * 1024;

const big = Number(process.env.HOPSCOPE_MEMTEST_FRAMES ?? 10_000_000);
if (!Number.isInteger(big) || big < 1000) {
  throw new Error(
    `HOPSCOPE_MEMTEST_FRAMES must be a frame count >= 1000, got ${process.env.HOPSCOPE_MEMTEST_FRAMES}`,
  );
}
const small = Math.round(big / 10);
const SEED = 20_240_611;
/** The long run may use at most this much more than the short one, and never more than the cap. */
const RATIO = 1.5;
const CAP = 200 * MiB;

const scratch = mkdtempSync(join(tmpdir(), 'hopscope-memtest-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

interface Run {
  frames: number;
  code: number | null;
  signal: NodeJS.Signals | null;
  stderr: string;
  report: Report | null;
  /** Peak resident set size of the hopscope process, bytes (NaN when the preload did not report). */
  peak: number;
  seconds: number;
  stats: SyntheticStreamStats | null;
  generatorError: Error | null;
  /** [frames handed to the pipe, VmRSS bytes], about once a second (Linux only). */
  timeline: [number, number][];
}

function vmRss(pid: number): number {
  try {
    const m = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : Number.NaN;
  } catch {
    return Number.NaN; // exited
  }
}

async function analyzeSynthetic(frames: number): Promise<Run> {
  const rssFile = join(scratch, `peak-${frames}`);
  const started = performance.now();
  const child = spawn(
    process.execPath,
    ['--import', preload, bin, 'analyze', '--json', '--log-level', 'silent', '-'],
    { env: { ...process.env, HOPSCOPE_BENCH_RSS_FILE: rssFile }, stdio: ['pipe', 'pipe', 'pipe'] },
  );
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  child.stdout.on('data', (b: Buffer) => out.push(b));
  child.stderr.on('data', (b: Buffer) => err.push(b));
  // An EPIPE when hopscope dies early surfaces as the generator's error; the exit code tells why.
  child.stdin.on('error', () => {});
  const closed = new Promise<[number | null, NodeJS.Signals | null]>((resolve) =>
    child.on('close', (code, signal) => resolve([code, signal])),
  );

  let written = 0;
  const timeline: [number, number][] = [];
  const sampler =
    child.pid !== undefined && existsSync(`/proc/${child.pid}/status`)
      ? setInterval(() => {
          const rss = vmRss(child.pid as number);
          if (!Number.isNaN(rss)) timeline.push([written, rss]);
        }, 1000)
      : null;

  let stats: SyntheticStreamStats | null = null;
  let generatorError: Error | null = null;
  try {
    stats = await writeSyntheticStream(child.stdin, {
      frames,
      seed: SEED,
      onBatch: (n) => {
        written = n;
      },
    });
  } catch (e) {
    generatorError = e as Error;
  }
  child.stdin.end();
  const [code, signal] = await closed;
  if (sampler) clearInterval(sampler);
  const seconds = (performance.now() - started) / 1000;

  let report: Report | null = null;
  try {
    report = JSON.parse(Buffer.concat(out).toString('utf8')) as Report;
  } catch {
    // asserted below
  }
  const peak = existsSync(rssFile) ? Number(readFileSync(rssFile, 'utf8')) * 1024 : Number.NaN;
  return {
    frames,
    code,
    signal,
    stderr: Buffer.concat(err).toString('utf8'),
    report,
    peak,
    seconds,
    stats,
    generatorError,
    timeline,
  };
}

const mib = (bytes: number) => `${(bytes / MiB).toFixed(0)} MiB`;

function describeRun(run: Run): string {
  const s = run.stats;
  const flows = s ? `, ${s.flows} flows, ${((s.lastTime - s.firstTime) / 3600).toFixed(2)} h` : '';
  const points = run.timeline
    .filter((_, i, all) => all.length <= 12 || i % Math.ceil(all.length / 12) === 0 || i === all.length - 1)
    .map(([n, rss]) => `${(n / 1e6).toFixed(1)}M:${(rss / MiB).toFixed(0)}`)
    .join(' ');
  return (
    `${run.frames} frames${flows}: peak RSS ${mib(run.peak)} in ${run.seconds.toFixed(1)} s, exit ${run.code}` +
    `${run.signal ? ` (${run.signal})` : ''}${points ? `; RSS MiB by frames piped: ${points}` : ''}`
  );
}

function expectCompleted(run: Run): void {
  const why = `${describeRun(run)}\n${run.stderr.slice(-2000)}`;
  expect(run.generatorError, why).toBeNull();
  expect(run.code, why).toBe(0);
  expect(run.report, `stdout is not a JSON report; ${why}`).not.toBeNull();
  expect(run.report?.captures[0]?.frames, why).toBe(run.frames);
  expect(run.report?.hops[0]?.frames, why).toBe(run.frames);
  expect(Number.isFinite(run.peak), `no peak RSS from ${preload}; ${why}`).toBe(true);
}

describe('memory over a long capture', () => {
  it(`stays flat from ${small} to ${big} frames of churning flows read from a pipe`, {
    timeout: 300_000,
  }, async () => {
    const short = await analyzeSynthetic(small);
    console.log(`memtest: ${describeRun(short)}`);
    expectCompleted(short);
    const long = await analyzeSynthetic(big);
    console.log(`memtest: ${describeRun(long)}`);
    expectCompleted(long);
    expect(long.stats?.seqWraps, 'the generator wraps some sequence numbers').toBeGreaterThan(0);

    const limit = Math.min(short.peak * RATIO, CAP);
    expect(
      long.peak,
      `peak RSS ${mib(long.peak)} after ${big} frames vs ${mib(short.peak)} after ${small}: ` +
        `allowed ${RATIO}x the short run and at most ${mib(CAP)} (${mib(limit)})\n` +
        `  short: ${describeRun(short)}\n  long:  ${describeRun(long)}`,
    ).toBeLessThanOrEqual(limit);
  });
});
