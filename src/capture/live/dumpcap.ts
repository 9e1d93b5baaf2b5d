/**
 * The dumpcap backend: Wireshark's capture program, one process per interface, writing pcapng to
 * its stdout (a Unix socket, see socketPair), read by hopscope's own streaming pcapng reader. It
 * captures into a kernel ring of the size asked for (-B) in a process of its own, so a busy
 * analysis only fills the socket and that ring; it takes snap lengths up to 262,144 bytes (BIG
 * TCP frames whole); it runs inside a network namespace (`ip netns exec NETNS dumpcap`); and when
 * it stops it says how many frames the kernel dropped, on stderr ("Packets received/dropped on
 * interface 'X': R/D (pcap:P/dumpcap:Q/flushed:F/ps_ifdrop:I)") and in an interface statistics
 * block. libpcap's counters are cumulative and only read at the end: while it runs, its drops are
 * not known. The tcpdump backend (TCPDUMP below) runs through the same startTool.
 */

import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { connect, createServer, type Socket } from 'node:net';
import { oneLine } from '../../errors.js';
import type { CaptureSink, CaptureStatistics } from '../frame.js';
import { createPcapParser } from '../pcap.js';
import { createPcapngParser } from '../pcapng.js';
import {
  type BackendOptions,
  type CaptureEvents,
  type CaptureHandle,
  classifyFailure,
  type StartCapture,
} from './backend.js';
import type { InterfaceSpec } from './spec.js';

/** How long frames may wait to be read together (ms): a few ms of delay, far fewer reads. */
const BATCH_MS = 2;

/** The one buffer a tool's stream is read into, reused for every read. */
const READ_BUFFER_BYTES = 1 << 20;
/**
 * A read at least this large means the stream pours in: the next read follows at once. Smaller
 * reads wait BATCH_MS. At 64 KiB dumpcap (which writes a few frames at a time) was held back so
 * often that it dropped 200,000 frames at 1 Gbit/s on the lab; at 16 KiB none, as before.
 */
const FULL_READ_BYTES = 16 * 1024;
/** A stream with a full read this recently is busy (ms). */
const BUSY_MS = 50;

let pairs = 0;

/**
 * A connected pair of Unix stream sockets (an abstract name, never a file): `theirs` becomes the
 * tool's stdout, `ours` is read with net's onread into one reused buffer. A pipe from spawn is read
 * into a new Buffer per read: at a gigabit of whole frames that is hundreds of MB/s of external
 * memory, and V8 answered with a mark-compact every 50 ms and four helper threads marking (half a
 * core, measured on the lab). A socket's buffer (~200 KiB) also holds three times a pipe's.
 */
function socketPair(
  onBytes: (n: number, buffer: Buffer) => boolean,
): Promise<{ ours: Socket; theirs: Socket }> {
  return new Promise((resolve, reject) => {
    const name = `\0hopscope-${process.pid}-${++pairs}-${Math.random().toString(36).slice(2)}`;
    const server = createServer({ pauseOnConnect: true });
    server.once('error', reject);
    server.once('connection', (theirs) => {
      server.close();
      resolve({ ours, theirs });
    });
    let ours: Socket;
    server.listen(name, () => {
      ours = connect({
        path: name,
        onread: { buffer: Buffer.allocUnsafe(READ_BUFFER_BYTES), callback: onBytes },
      });
      ours.once('error', (error) => {
        server.close();
        reject(error);
      });
    });
  });
}

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

/**
 * The flags dumpcap and tcpdump spell alike: the interface, the snap length (262,144 at most,
 * the largest either takes) and the kernel buffer, which dumpcap counts in MiB and tcpdump in KiB
 * (`bufferUnit`, bytes), at least one unit.
 */
function interfaceArgs(device: string, options: BackendOptions, bufferUnit: number): string[] {
  return [
    '-i',
    device,
    '-s',
    String(Math.min(options.snaplen, DUMPCAP_MAX_SNAPLEN)),
    '-B',
    String(Math.max(1, Math.round(options.bufferSize / bufferUnit))),
  ];
}

export function dumpcapArgs(device: string, options: BackendOptions): string[] {
  const args = [...interfaceArgs(device, options, 1048576), '-w', '-', '-q'];
  if (options.filter !== null && options.filter !== '') args.push('-f', options.filter);
  return args;
}

/** A capture program run per interface, writing a capture to its stdout. */
export interface CaptureTool {
  name: string;
  /** The Debian package that has it. */
  debianPackage: string;
  args(device: string, options: BackendOptions): string[];
  /** The line on stderr after which it captures. */
  ready: RegExp;
  /** How long after that line to wait for an early failure before saying it captures. */
  readyDelayMs: number;
  /** Lines of its stderr that are not about a failure. */
  chatter: RegExp;
  counters(stderr: string): DumpcapCounters | null;
  format: 'pcap' | 'pcapng';
  /**
   * The signal that makes it write out what it buffered, sent when its stream has been quiet for
   * FLUSH_MS (a busy stream fills the buffer and flows on its own). Without one it must write
   * each frame as it comes.
   */
  flushSignal?: NodeJS.Signals;
  /** A command the tool runs under (it execs the tool: the pid and signals stay the tool's). */
  prefix?: () => string[];
  /**
   * The signal that makes it print its counters on stderr while it captures (every COUNTERS_MS),
   * so drops are known during a run of weeks, not only when it stops.
   */
  countersSignal?: NodeJS.Signals;
}

/** How often a tool with a countersSignal is asked for its counters. */
export const COUNTERS_MS = 5000;

/** How long a buffering tool's stream may stay quiet before it is told to write out its buffer. */
export const FLUSH_MS = 200;

export const DUMPCAP: CaptureTool = {
  name: 'dumpcap',
  debianPackage: 'wireshark-common',
  args: dumpcapArgs,
  // dumpcap says "Capturing on" just before it opens the interface.
  ready: /Capturing on /,
  readyDelayMs: 150,
  chatter: /^(Capturing on|File: |Packets (captured|received)|Running as user)/,
  counters: parseDumpcapCounters,
  format: 'pcapng',
};

export const startDumpcap: StartCapture = (spec, options, events) =>
  startTool(DUMPCAP, spec, options, events);

export function startTool(
  tool: CaptureTool,
  spec: InterfaceSpec,
  options: BackendOptions,
  events: CaptureEvents,
): CaptureHandle {
  const args = [...(tool.prefix?.() ?? []), tool.name, ...tool.args(spec.device, options)];
  const [command, argv] =
    spec.netns === null
      ? [args[0] as string, args.slice(1)]
      : // ip netns exec execs the tool: the child's pid is the tool's, and signals reach it.
        ['ip', ['netns', 'exec', spec.netns, ...args]];
  let child: ChildProcess | null = null;
  let ours: Socket | null = null;
  let stderr = '';
  let ready = false;
  /** onReady was called: a failure after it means the interface went away. */
  let capturing = false;
  let stopping = false;
  let ended = false;
  let statistics: CaptureStatistics | null = null;
  /** Bytes came from its stdout since the last look of the flusher. */
  let flowing = false;
  let flusher: NodeJS.Timeout | null = null;
  let asker: NodeJS.Timeout | null = null;
  /** stderr since the counters were last asked for (their answer comes in here). */
  let answer = '';
  const sink = events.sink;
  const toolSink: CaptureSink = {
    onInterface: (iface) => sink.onInterface(iface),
    onFrame: (frame) => sink.onFrame(frame),
    onProblem: (problem) => sink.onProblem(problem),
    onStatistics: (stats) => {
      statistics = stats;
    },
  };
  const parser = tool.format === 'pcapng' ? createPcapngParser(toolSink) : createPcapParser(toolSink);
  const end = (code: number | null, signal: NodeJS.Signals | null, spawnError: Error | null) => {
    if (ended) return;
    ended = true;
    if (flusher !== null) clearInterval(flusher);
    if (asker !== null) clearInterval(asker);
    ours?.destroy();
    parser.end();
    const counters = tool.counters(stderr);
    const said = oneLine(
      stderr
        .split('\n')
        .filter((line) => line.trim() !== '' && !tool.chatter.test(line.trim()))
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
            ? `${command} not found (Debian: apt-get install ${command === 'ip' ? 'iproute2' : tool.debianPackage})`
            : spawnError.message
          : said !== ''
            ? said
            : signal !== null && !stopping
              ? `${tool.name} ended by ${signal}`
              : null,
      received: counters?.received ?? stats?.received ?? null,
      // dumpcap writes libpcap's ps_drop into isb_ifdrop; its stderr line tells them apart.
      dropped: counters?.dropped ?? stats?.ifDropped ?? null,
      ifDropped: counters?.ifDropped ?? null,
    });
  };
  // Read as it comes when it pours in; a trickle (dumpcap writes every few frames) gathers in
  // the socket for BATCH_MS first, since a read per flush costs more than the frames in it. A
  // stream that poured in lately is busy: a small read there waits only for the next turn of the
  // event loop, since BATCH_MS at a gigabit is more than the socket holds (~200 KiB in 1.6 ms)
  // and the tool would stall with its ring filling.
  let resume: NodeJS.Timeout | null = null;
  let resumeSoon: NodeJS.Immediate | null = null;
  let busyUntil = 0;
  const readOn = () => {
    resume = null;
    resumeSoon = null;
    ours?.resume();
  };
  const onBytes = (n: number, buffer: Buffer): boolean => {
    flowing = true;
    parser.push(n === buffer.length ? buffer : buffer.subarray(0, n));
    const now = performance.now();
    if (n >= FULL_READ_BYTES) {
      busyUntil = now + BUSY_MS;
      return true;
    }
    if (resume === null && resumeSoon === null) {
      if (now < busyUntil) resumeSoon = setImmediate(readOn);
      else resume = setTimeout(readOn, BATCH_MS);
    }
    return false;
  };
  const launch = (pair: { ours: Socket; theirs: Socket }): Promise<void> => {
    ours = pair.ours;
    if (stopping) {
      pair.theirs.destroy();
      end(null, null, null);
      return Promise.resolve();
    }
    let spawned: ChildProcess;
    try {
      spawned = spawn(command, argv, { stdio: ['ignore', pair.theirs, 'pipe'] });
    } catch (error) {
      pair.theirs.destroy();
      end(null, null, error as Error);
      return Promise.resolve();
    }
    // The tool has its own copy: the stream ends when the tool closes it (exits).
    pair.theirs.destroy();
    child = spawned;
    return wire(spawned, pair.ours);
  };
  const wire = (running: ChildProcess, stream: Socket): Promise<void> => {
    running.stderr?.setEncoding('utf8');
    running.stderr?.on('data', (text: string) => {
      // Only the first and the last lines matter; keep a bounded tail.
      stderr = (stderr + text).slice(-8192);
      if (asker !== null) {
        answer = (answer + text).slice(-8192);
        const counters = answer.includes('\n') ? tool.counters(answer) : null;
        if (counters !== null) {
          answer = '';
          events.onCounters?.(counters);
        }
      }
      // Capturing once it said so and has not failed for a moment after that.
      if (!ready && tool.ready.test(stderr)) {
        ready = true;
        setTimeout(() => {
          if (ended) return;
          capturing = true;
          events.onReady();
          const signal = tool.flushSignal;
          if (signal !== undefined) {
            // Only a quiet stream is told: the tool is then waiting for frames, not writing one
            // (its handler flushes stdio from a signal), and a busy one's buffer fills anyway.
            flusher = setInterval(() => {
              if (!flowing && !stopping && !ended) running.kill(signal);
              flowing = false;
            }, FLUSH_MS);
            flusher.unref();
          }
          const ask = tool.countersSignal;
          if (ask !== undefined && events.onCounters !== undefined) {
            asker = setInterval(() => {
              if (stopping || ended) return;
              answer = '';
              running.kill(ask);
            }, COUNTERS_MS);
            asker.unref();
          }
        }, tool.readyDelayMs);
      }
    });
    return new Promise<void>((resolve) => {
      // Ended when the tool has exited and everything it wrote was read.
      let exit: { code: number | null; signal: NodeJS.Signals | null } | null = null;
      let drained = false;
      let late: NodeJS.Timeout | null = null;
      const settle = () => {
        if (exit === null || (!drained && late !== null)) return;
        if (!drained) {
          // Something else holds the socket open (a grandchild): a second more, then done.
          late = setTimeout(() => {
            drained = true;
            settle();
          }, 1000);
          return;
        }
        if (late !== null) clearTimeout(late);
        if (resume !== null) clearTimeout(resume);
        if (resumeSoon !== null) clearImmediate(resumeSoon);
        end(exit.code, exit.signal, null);
        resolve();
      };
      stream.on('end', () => {
        drained = true;
        settle();
      });
      stream.on('close', () => {
        drained = true;
        settle();
      });
      // A reset by the tool's side is the end of its stream: 'close' follows and settles it.
      // Without a listener a socket's 'error' would be thrown, taking every capture with it.
      stream.on('error', () => {});
      running.on('error', (error) => {
        end(null, null, error);
        resolve();
      });
      running.on('close', (code, signal) => {
        exit = { code, signal };
        settle();
      });
    });
  };
  let closed: Promise<void> = Promise.resolve();
  const launched = socketPair(onBytes).then(
    (pair) => {
      closed = launch(pair);
    },
    (error: Error) => end(null, null, error),
  );
  return {
    async stop() {
      stopping = true;
      await launched;
      if (ended || child === null) return;
      const running = child;
      // SIGINT: dumpcap writes its statistics block and counters (tcpdump its counters), then exits.
      running.kill('SIGINT');
      const timer = setTimeout(() => running.kill('SIGKILL'), 5000);
      await closed;
      clearTimeout(timer);
    },
  };
}

/** tcpdump's closing counters: received by filter, dropped by kernel (and by interface, when said). */
export function parseTcpdumpCounters(stderr: string): DumpcapCounters | null {
  // The latest report counts: SIGUSR1 (countersSignal) makes tcpdump print them while it captures.
  const last = (pattern: RegExp): RegExpMatchArray | null => [...stderr.matchAll(pattern)].at(-1) ?? null;
  const received = last(/(\d+) packets? received by filter/g);
  const dropped = last(/(\d+) packets? dropped by kernel/g);
  if (received === null || dropped === null) return null;
  const ifDropped = last(/(\d+) packets? dropped by interface/g);
  return {
    received: Number(received[1]),
    dropped: Number(dropped[1]),
    ifDropped: ifDropped !== null ? Number(ifDropped[1]) : 0,
  };
}

export function tcpdumpArgs(device: string, options: BackendOptions): string[] {
  const args = [
    ...interfaceArgs(device, options, 1024),
    '-nn',
    // No -U: with it tcpdump writes (a system call) per frame, four times its CPU and three times
    // the drops of buffered writes at 3 Gbit/s on the lab; a quiet hop's buffer is flushed with
    // SIGUSR2 (TCPDUMP.flushSignal) instead, so its frames still reach the analysis within
    // FLUSH_MS of tcpdump reading them.
    '-w',
    '-',
  ];
  // tcpdump takes the filter as its last arguments, dumpcap after -f.
  if (options.filter !== null && options.filter !== '') args.push(options.filter);
  return args;
}

/**
 * tcpdump as a backend: libpcap's default (TPACKET_V3) ring, where frames of any size pack into
 * blocks, against dumpcap's immediate mode (TPACKET_V2), where each frame takes a slot of the
 * snap length; classic pcap on stdout; its drop counters when it stops.
 */
export const TCPDUMP: CaptureTool = {
  name: 'tcpdump',
  debianPackage: 'tcpdump',
  args: tcpdumpArgs,
  // tcpdump says "listening on" once the interface is open.
  ready: /listening on /,
  readyDelayMs: 0,
  chatter:
    /^(tcpdump: )?(listening on |\d+ packets? (captured|received by filter|dropped by (kernel|interface)))/,
  counters: parseTcpdumpCounters,
  format: 'pcap',
  // tcpdump(1): "Using the SIGUSR2 signal along with the -w flag will forcibly flush the output
  // buffer to the output file or pipe."
  flushSignal: 'SIGUSR2',
  // tcpdump(1): SIGUSR1 (SIGINFO elsewhere) prints the counters; tcpdump holds it back while it
  // writes a packet, so it does not land in the middle of one.
  countersSignal: 'SIGUSR1',
  prefix: stdbufPrefix,
};

/**
 * Bytes tcpdump gathers before it writes (stdio's buffer for its pcap output). Measured on the
 * lab next to ten tcpdumps, whole frames: 256 KiB dropped fewer than they did at 1 Gbit/s and
 * unlimited; 64 KiB more than they did unlimited. The price: a slow hop's frames wait up to a
 * flush interval or two (lag at most ~1 s at 1 Gbit/s with -s 256, against ~0.3 s).
 */
export const TCPDUMP_WRITE_BYTES = 256 * 1024;

let stdbuf: boolean | null = null;

/**
 * coreutils' stdbuf, to give tcpdump's output a 256 KiB stdio buffer: it writes in blocks of the
 * socket's st_blksize (4 KiB) otherwise, and each write wakes hopscope to read 4 KiB. Where
 * stdbuf is missing (or the kernel ignores its LD_PRELOAD, as for a tcpdump with file
 * capabilities) tcpdump runs as it is. A quiet hop's buffer is still written out within FLUSH_MS
 * (SIGUSR2).
 */
function stdbufPrefix(): string[] {
  stdbuf ??= existsSync('/usr/bin/stdbuf');
  return stdbuf ? ['stdbuf', `-o${TCPDUMP_WRITE_BYTES}`] : [];
}

export const startTcpdump: StartCapture = (spec, options, events) =>
  startTool(TCPDUMP, spec, options, events);
