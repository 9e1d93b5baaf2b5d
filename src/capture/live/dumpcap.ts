/**
 * The dumpcap backend: Wireshark's capture program, one process per interface, writing pcapng to
 * its stdout, read by hopscope's own streaming pcapng reader. It captures into a kernel ring of
 * the size asked for (-B) in a process of its own, so a busy analysis only fills the pipe; it takes
 * snap lengths up to 262,144 bytes (BIG TCP frames whole); it runs inside a network namespace
 * (`ip netns exec NETNS dumpcap`); and when it stops it says how many frames the kernel dropped,
 * on stderr ("Packets received/dropped on interface 'X': R/D (pcap:P/dumpcap:Q/flushed:F/
 * ps_ifdrop:I)") and in an interface statistics block. libpcap's counters are cumulative and only
 * read at the end: while it runs, its drops are not known.
 */

import { type ChildProcess, spawn } from 'node:child_process';
import { oneLine } from '../../errors.js';
import type { CaptureStatistics } from '../frame.js';
import { createPcapngParser } from '../pcapng.js';
import { type CaptureHandle, classifyFailure, type StartCapture } from './backend.js';

/** How long frames may wait to be read together (ms): a few ms of delay, far fewer reads. */
const BATCH_MS = 2;

/** dumpcap's largest snap length. */
export const DUMPCAP_MAX_SNAPLEN = 262144;

export interface DumpcapCounters {
  received: number;
  dropped: number;
  ifDropped: number;
}

/** The counters of dumpcap's closing line on stderr, or null when it printed none. */
export function parseDumpcapCounters(stderr: string): DumpcapCounters | null {
  const match =
    /Packets received\/dropped on interface '[^']*': (\d+)\/(\d+)(?: \(pcap:(\d+)\/dumpcap:(\d+)\/flushed:(\d+)(?:\/ps_ifdrop:(\d+))?\))?/.exec(
      stderr,
    );
  if (match === null) return null;
  // The second number is libpcap's ps_drop plus what dumpcap itself dropped or flushed; the
  // interface's own drops (ps_ifdrop) are apart.
  return {
    received: Number(match[1]),
    dropped: Number(match[2]),
    ifDropped: match[6] !== undefined ? Number(match[6]) : 0,
  };
}

export function dumpcapArgs(
  device: string,
  options: { filter: string | null; snaplen: number; bufferSize: number },
): string[] {
  const args = [
    '-i',
    device,
    '-s',
    String(Math.min(options.snaplen, DUMPCAP_MAX_SNAPLEN)),
    // dumpcap takes the buffer in MiB.
    '-B',
    String(Math.max(1, Math.round(options.bufferSize / 1048576))),
    '-w',
    '-',
    '-q',
  ];
  if (options.filter !== null && options.filter !== '') args.push('-f', options.filter);
  return args;
}

export const startDumpcap: StartCapture = (spec, options, events): CaptureHandle => {
  const args = dumpcapArgs(spec.device, options);
  const [command, argv] =
    spec.netns === null
      ? ['dumpcap', args]
      : // ip netns exec execs dumpcap: the child's pid is dumpcap's, and signals reach it.
        ['ip', ['netns', 'exec', spec.netns, 'dumpcap', ...args]];
  let child: ChildProcess;
  let stderr = '';
  let ready = false;
  /** onReady was called: a failure after it means the interface went away. */
  let capturing = false;
  let stopping = false;
  let ended = false;
  let statistics: CaptureStatistics | null = null;
  const sink = events.sink;
  const parser = createPcapngParser({
    onInterface: (iface) => sink.onInterface(iface),
    onFrame: (frame) => sink.onFrame(frame),
    onProblem: (problem) => sink.onProblem(problem),
    onStatistics: (stats) => {
      statistics = stats;
    },
  });
  const end = (code: number | null, signal: NodeJS.Signals | null, spawnError: Error | null) => {
    if (ended) return;
    ended = true;
    parser.end();
    const counters = parseDumpcapCounters(stderr);
    const said = oneLine(
      stderr
        .split('\n')
        .filter(
          (line) =>
            line.trim() !== '' &&
            !/^(Capturing on|File: |Packets (captured|received)|Running as user)/.test(line.trim()),
        )
        .join(' '),
    );
    let reason = classifyFailure(said);
    if (spawnError !== null) {
      reason = (spawnError as NodeJS.ErrnoException).code === 'ENOENT' ? 'unavailable' : 'failed';
    } else if (stopping && (said === '' || reason === 'failed')) reason = 'stopped';
    else if (code === 0 && said === '') reason = stopping ? 'stopped' : 'gone';
    else if (capturing && reason === 'missing') reason = 'gone';
    const stats = statistics as CaptureStatistics | null;
    events.onEnd({
      reason,
      message:
        spawnError !== null
          ? (spawnError as NodeJS.ErrnoException).code === 'ENOENT'
            ? `${command} not found (Debian: apt-get install ${command === 'ip' ? 'iproute2' : 'wireshark-common'})`
            : spawnError.message
          : said !== ''
            ? said
            : signal !== null && !stopping
              ? `dumpcap ended by ${signal}`
              : null,
      received: counters?.received ?? stats?.received ?? null,
      // dumpcap writes libpcap's ps_drop into isb_ifdrop; its stderr line tells them apart.
      dropped: counters?.dropped ?? stats?.ifDropped ?? null,
      ifDropped: counters?.ifDropped ?? null,
    });
  };
  try {
    child = spawn(command, argv, { stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (error) {
    queueMicrotask(() => end(null, null, error as Error));
    return { stop: async () => {} };
  }
  // Read in batches: dumpcap flushes every few frames, and a 'data' event per flush costs more
  // than the frames in it. What arrives within BATCH_MS is read (concatenated) and parsed at once;
  // meanwhile it waits in the stream's buffer and the socket, and the kernel ring behind them.
  const stdout = child.stdout;
  let batch: NodeJS.Timeout | null = null;
  const drain = () => {
    batch = null;
    for (
      let chunk = stdout?.read() as Buffer | null;
      chunk !== null && chunk !== undefined;
      chunk = stdout?.read() as Buffer | null
    )
      parser.push(chunk);
  };
  stdout?.on('readable', () => {
    // A full buffer is read at once: waiting would only slow a stream that pours in.
    if (stdout.readableLength >= stdout.readableHighWaterMark) {
      if (batch !== null) clearTimeout(batch);
      drain();
    } else if (batch === null) batch = setTimeout(drain, BATCH_MS);
  });
  stdout?.on('end', () => {
    if (batch !== null) clearTimeout(batch);
    drain();
  });
  child.stderr?.setEncoding('utf8');
  child.stderr?.on('data', (text: string) => {
    // Only the first and the last lines matter; keep a bounded tail.
    stderr = (stderr + text).slice(-8192);
    // dumpcap says "Capturing on" just before it opens the interface: capturing once it has not
    // failed for a moment after that.
    if (!ready && /Capturing on /.test(stderr)) {
      ready = true;
      setTimeout(() => {
        if (ended) return;
        capturing = true;
        events.onReady();
      }, 150);
    }
  });
  const closed = new Promise<void>((resolve) => {
    child.on('error', (error) => {
      end(null, null, error);
      resolve();
    });
    child.on('close', (code, signal) => {
      end(code, signal, null);
      resolve();
    });
  });
  return {
    async stop() {
      if (ended) return;
      stopping = true;
      // SIGINT: dumpcap writes its statistics block and counters, then exits.
      child.kill('SIGINT');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await closed;
      clearTimeout(timer);
    },
  };
};
