// Shared bench plumbing: run a child and time it, read its peak RSS, medians and spreads, printing.
import { spawn } from 'node:child_process';
import { accessSync, constants, existsSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { pathToFileURL } from 'node:url';

const PRELOAD = pathToFileURL(join(import.meta.dirname, 'peak-rss.mjs')).href;
const GNU_TIME = '/usr/bin/time';

export function which(cmd) {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    const p = join(dir, cmd);
    try {
      accessSync(p, constants.X_OK);
      return p;
    } catch {}
  }
  return null;
}

/** How peak RSS of non-Node children is measured here: 'time', 'proc' or 'n/a'. */
export const rssMethod = existsSync(GNU_TIME) ? 'time' : existsSync('/proc/self/status') ? 'proc' : 'n/a';

let devNull;
let seq = 0;

function readKiB(path) {
  try {
    const lines = readFileSync(path, 'utf8').trim().split('\n');
    const v = Number(lines[lines.length - 1]); // GNU time puts "Command exited ..." first
    return Number.isFinite(v) && v > 0 ? v : null;
  } catch {
    return null;
  } finally {
    rmSync(path, { force: true });
  }
}

/**
 * Runs one tool on one file as a child process. Wall time runs from spawn to exit, so every case pays
 * its process start-up. Returns { seconds, rssKiB (null = n/a), code, stdout, stderrTail }.
 * A tool with `rss: false` runs bare (`cmd args`) and reports no RSS.
 */
export function runChild(tool, file, frames) {
  const rssFile = join(tmpdir(), `hopscope-bench-rss-${process.pid}-${seq++}`);
  const args = tool.args(file, frames);
  let cmd;
  let argv;
  let env = process.env;
  let poll = false;
  if (tool.rss === false) {
    // start-up cases: nothing in between (no preload, no /usr/bin/time, no polling) that the
    // milliseconds measured would include
    cmd = tool.cmd;
    argv = args;
  } else if (tool.node) {
    cmd = process.execPath;
    argv = ['--import', PRELOAD, ...args];
    env = { ...process.env, HOPSCOPE_BENCH_RSS_FILE: rssFile };
  } else if (rssMethod === 'time') {
    cmd = GNU_TIME;
    argv = ['-f', '%M', '-o', rssFile, tool.cmd, ...args];
  } else {
    cmd = tool.cmd;
    argv = args;
    poll = rssMethod === 'proc';
  }
  devNull ??= openSync('/dev/null', 'w');
  return new Promise((resolve, reject) => {
    const t0 = process.hrtime.bigint();
    const child = spawn(cmd, argv, { env, stdio: ['ignore', tool.checkStdout ? 'pipe' : devNull, 'pipe'] });
    let stdout = '';
    let stderr = '';
    let hwm = null;
    child.stdout?.setEncoding('utf8').on('data', (d) => {
      stdout += d;
    });
    child.stderr.setEncoding('utf8').on('data', (d) => {
      stderr = (stderr + d).slice(-4096);
    });
    const timer = poll
      ? setInterval(() => {
          try {
            const m = /VmHWM:\s+(\d+)/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'));
            if (m) hwm = Number(m[1]);
          } catch {}
        }, 5)
      : null;
    child.on('error', reject);
    child.on('close', (code, signal) => {
      const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
      if (timer) clearInterval(timer);
      const rssKiB =
        tool.rss === false ? null : poll ? hwm : rssMethod === 'n/a' && !tool.node ? null : readKiB(rssFile);
      resolve({ seconds, rssKiB, code: code ?? signal, stdout, stderrTail: stderr.trim() });
    });
  });
}

export function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** Median, min, max and spread ((max - min) / median) of a list of numbers. */
export function summarize(xs) {
  const med = median(xs);
  const min = Math.min(...xs);
  const max = Math.max(...xs);
  return { median: med, min, max, spread: med > 0 ? (max - min) / med : 0, samples: xs };
}

export const int = (n) => Math.round(n).toLocaleString('en-US');
export const mb = (kib) => (kib == null ? 'n/a' : `${(kib / 1024).toFixed(0)} MB`);
export const ratio = (x) =>
  x == null || !Number.isFinite(x) ? 'n/a' : `${x >= 10 ? x.toFixed(0) : x.toFixed(2)}x`;

/** Left-aligns the first column and right-aligns the rest. */
export function table(rows) {
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => String(r[i]).length)));
  return rows
    .map((r) =>
      r.map((c, i) => (i === 0 ? String(c).padEnd(widths[i]) : String(c).padStart(widths[i]))).join('  '),
    )
    .join('\n');
}

/**
 * Times every case `repeat` times, round-robin so that a change of load hits all cases alike, then
 * summarises each: median and spread of the seconds, peak RSS, frames per second.
 */
export async function timeRounds(cases, repeat, once) {
  for (let i = 0; i < repeat; i++) {
    for (const c of cases) {
      const r = await once(c);
      if (r) c.runs.push(r);
    }
  }
  for (const c of cases) {
    c.seconds = summarize(c.runs.map((r) => r.seconds));
    const rss = c.runs.map((r) => r.rssKiB).filter((x) => x != null);
    c.peakRssKiB = rss.length ? Math.max(...rss) : null;
    c.peakRssKiBSamples = rss;
    c.framesPerSecond = c.frames / c.seconds.median;
  }
}
