/**
 * The command line (yargs). `hopscope analyze CAPTURE...` reads captures and prints the summary
 * or, with --json, the report document; `hopscope report` writes it as an HTML or Markdown
 * document, `hopscope annotate` as one pcapng with the findings as packet comments;
 * `hopscope live` captures on interfaces and analyses as frames come (src/capture/live/,
 * src/service/); `hopscope explain [FILE...]` explains tcpdump or Wireshark text line by line
 * (src/explain/). Exit codes: 0 the analysis ran, 1 a capture could not be
 * read at all (the others are still analysed and reported), 2 usage errors (a bad --topology
 * file included), 74 stdout could not be written (a reader that closed the pipe is not an error:
 * hopscope then ends quietly, as `| head` expects). bin/hopscope.js adds 70, an internal error.
 */

import { statSync } from 'node:fs';
import type { Readable } from 'node:stream';
import yargs, { type Argv } from 'yargs';
import { hideBin } from 'yargs/helpers';
import { HopscopeError, oneLine, UsageError } from '../errors.js';
import { createLogger, LOG_LEVELS, type LogLevel } from '../log.js';
import type { LiveArgs } from './live.js';
import type { LiveServiceArgs } from './live-service.js';
import { createProgress } from './progress.js';
import { type PlainAnalyze, packageVersion, plainAnalyzeArgs } from './version.js';

export const EXIT_OK = 0;
export const EXIT_UNREADABLE = 1;
export const EXIT_USAGE = 2;
/** sysexits' EX_IOERR: the report could not be written (a full disk, a broken device). */
export const EXIT_OUTPUT = 74;

/** The options that take a value (yargs' own check of a missing one only covers the last). */
const VALUE_OPTIONS = [
  'hop',
  'mtu',
  'path',
  'topology',
  'log-level',
  'jobs',
  'vxlan-port',
  'geneve-port',
  'token',
  'token-file',
  'interface',
  'follow',
  'backend',
  'filter',
  'snaplen',
  'buffer-size',
  'duration',
  'count',
  'listen',
  'evidence',
  'evidence-max-bytes',
  'agent-name',
  'log-format',
  'output',
  'format',
];

/** The options every command that analyses captures takes (analyze, report, annotate). */
export interface AnalysisArgs {
  captures: string[];
  /** Repeatable options: one string, several, or none. */
  hop?: string | string[];
  mtu?: string | string[];
  topology?: string;
  path?: string;
  logLevel: LogLevel;
  progress?: boolean;
  jobs?: number;
  vxlanPort?: number | number[];
  genevePort?: number | number[];
  token?: string;
  tokenFile?: string;
}

interface AnalyzeArgs extends AnalysisArgs {
  json: boolean;
  verbose: boolean;
  color?: boolean;
}

export interface CliIo {
  stdout: NodeJS.WritableStream & { isTTY?: boolean };
  stderr: NodeJS.WritableStream & { isTTY?: boolean };
  /** explain's input (default: process.stdin). */
  stdin?: Readable;
}

/** What an analysis run hands to the command that asked for it. */
export interface AnalysisRun {
  result: AnalysisResult;
  /** Exit code so far: EXIT_UNREADABLE when a capture could not be read at all. */
  code: number;
  /** Said on stderr once the command's output is written (unreadable captures, unknown hop names). */
  warnings: string[];
}

type AnalysisResult = Awaited<ReturnType<typeof import('./analysis.js')['analyzeCaptures']>>;

/** Reads and analyses the captures as the options say; the commands differ only in what they write. */
export async function runAnalysis(command: string, args: AnalysisArgs, io: CliIo): Promise<AnalysisRun> {
  // Loaded here, not at the top: --help and usage errors do not pay for the analysis.
  const { analyzeCaptures, buildOverrides } = await import('./analysis.js');
  if (args.captures.length === 0) throw new UsageError(noCapture(command));
  const list = (value: string | string[] | undefined): string[] =>
    value === undefined ? [] : Array.isArray(value) ? value : [value];
  const overrides = buildOverrides(list(args.hop), list(args.mtu), args.topology);
  const logger = createLogger(args.logLevel);
  const showProgress = args.progress ?? Boolean(io.stderr.isTTY);
  const progress = createProgress(io.stderr, showProgress, {
    streams: showProgress ? args.captures.filter(canWait) : [],
  });
  const path = args.path
    ?.split(',')
    .map((name) => name.trim())
    .filter(Boolean);
  if (args.jobs !== undefined && !(Number.isInteger(args.jobs) && args.jobs >= 0))
    throw new UsageError(`${command}: --jobs takes a whole number of worker threads, not ${args.jobs}`);
  const ports = (name: string, value: number | number[] | undefined): number[] => {
    const all = value === undefined ? [] : Array.isArray(value) ? value : [value];
    for (const p of all)
      if (!(Number.isInteger(p) && p > 0 && p < 65536))
        throw new UsageError(`${command}: --${name} takes a UDP port (1-65535), not ${p}`);
    return all;
  };
  const tunnelPorts = {
    vxlan: ports('vxlan-port', args.vxlanPort),
    geneve: ports('geneve-port', args.genevePort),
  };
  const hasAgents = args.captures.some((path) => /^https?:\/\//i.test(path));
  let agentToken: string | null = null;
  if (args.token !== undefined || args.tokenFile !== undefined) {
    const { readToken } = await import('../service/listen.js');
    agentToken = readToken(args.token, args.tokenFile);
  }
  let result: AnalysisResult;
  try {
    result = await analyzeCaptures(args.captures, {
      ...(hasAgents
        ? { agents: { toolVersion: packageVersion(), ...(agentToken !== null ? { token: agentToken } : {}) } }
        : {}),
      overrides,
      logger,
      logLevel: args.logLevel,
      ...(args.jobs !== undefined ? { jobs: args.jobs } : {}),
      tunnelPorts,
      onProgress: progress.update,
      ...(path !== undefined && path.length > 0 ? { path } : {}),
    });
  } finally {
    progress.done();
  }
  const code = result.captures.some((capture) => !capture.readable) ? EXIT_UNREADABLE : EXIT_OK;
  const warnings: string[] = [];
  for (const capture of result.captures) {
    if (!capture.readable) warnings.push(`hopscope: ${capture.errors[0] ?? capture.path}`);
  }
  // Hop names given on the command line that no capture holds: a warning, not an error. The names
  // are known only once every capture is read (pcapng if_name, tcpdump -i any interfaces), so
  // refusing would throw the analysis away; and a --path may name more hops than the captures
  // given (a script's fixed path over some of them). The report still says how it ordered the hops.
  const hops = result.hops.map((hop) => hop.name);
  const given: Array<[string, readonly string[]]> = [
    ['--path', path ?? []],
    ['--hop', [...overrides.kinds.keys()]],
    ['--mtu', [...overrides.mtus.keys()]],
  ];
  for (const [option, names] of given) {
    const missing = [...new Set(names)].filter((name) => !hops.includes(name));
    if (missing.length === 0) continue;
    warnings.push(
      `hopscope: ${option} names ${missing.join(', ')}, which no capture holds (the hops: ${hops.join(', ') || 'none'})`,
    );
  }
  return { result, code, warnings };
}

export function sayWarnings(io: CliIo, run: AnalysisRun): void {
  for (const line of run.warnings) io.stderr.write(`${line}\n`);
}

async function runAnalyze(args: AnalyzeArgs, io: CliIo): Promise<number> {
  const run = await runAnalysis('analyze', args, io);
  const { buildReport, renderText } = await import('./analysis.js');
  const report = buildReport(run.result, packageVersion());
  let text: string;
  if (args.json) {
    text = `${JSON.stringify(report, null, 2)}\n`;
  } else {
    const color = args.color ?? (Boolean(io.stdout.isTTY) && process.env.NO_COLOR === undefined);
    text = renderText(report, {
      color,
      verbose: args.verbose,
      width: Math.min(110, (io.stdout as { columns?: number }).columns ?? 100),
    });
  }
  const written = await writeOut(io, text);
  if (written === 'failed') return EXIT_OUTPUT;
  sayWarnings(io, run);
  return run.code;
}

interface ExplainArgs {
  files?: string[];
  json: boolean;
  summary: boolean;
  color?: boolean;
}

async function runExplainCommand(args: ExplainArgs, io: CliIo): Promise<number> {
  // Loaded here, as analyze's code is: --help does not pay for it.
  const { runExplain } = await import('./explain.js');
  const result = await runExplain(
    {
      files: args.files ?? [],
      json: args.json,
      summary: args.summary,
      ...(args.color !== undefined ? { color: args.color } : {}),
    },
    { stdin: io.stdin ?? process.stdin, stdout: io.stdout, stderr: io.stderr },
  );
  for (const problem of result.unreadable) io.stderr.write(`hopscope: explain: ${oneLine(problem)}\n`);
  if (result.output !== 'written' && result.output !== 'closed') {
    io.stderr.write(`hopscope: cannot write to stdout: ${describeWriteError(result.output)}\n`);
    return EXIT_OUTPUT;
  }
  return result.unreadable.length > 0 ? EXIT_UNREADABLE : EXIT_OK;
}

/** stdin and whatever is not a regular file or a directory (FIFOs, devices) can wait for data. */
function canWait(path: string): boolean {
  if (path === '-') return true;
  try {
    const stats = statSync(path);
    return !stats.isFile() && !stats.isDirectory();
  } catch {
    return false;
  }
}

/**
 * Writes all of `text` to stdout and says how that went. A closed pipe (EPIPE: `| head` had
 * enough) is 'closed': nothing is said about it and the run keeps its exit code, as a Unix tool's
 * reader expects. Any other failure (ENOSPC on a full disk) is said in one line on stderr and is
 * 'failed' (EXIT_OUTPUT). Without the listener the stream's 'error' event would go unhandled: a
 * stack, and exit code 1, which means an unreadable capture.
 */
export async function writeOut(
  io: CliIo,
  text: string | Uint8Array,
): Promise<'written' | 'closed' | 'failed'> {
  const stream = io.stdout;
  if (!stream.listeners('error').includes(ignoreError)) stream.on('error', ignoreError);
  const error = await new Promise<Error | null | undefined>((resolve) => {
    stream.write(text, resolve);
  });
  if (error === null || error === undefined) return 'written';
  if ((error as NodeJS.ErrnoException).code === 'EPIPE') return 'closed';
  io.stderr.write(`hopscope: cannot write to stdout: ${describeWriteError(error)}\n`);
  return 'failed';
}

/** The write's callback has the error; the 'error' event that follows it needs a listener. */
const ignoreError = () => {};

function describeWriteError(error: Error): string {
  const code = (error as NodeJS.ErrnoException).code;
  if (code === 'ENOSPC') return 'no space left on device (ENOSPC)';
  return oneLine(error.message || String(code));
}

function noCapture(command: string): string {
  return `${command}: name at least one capture (or - for stdin)`;
}

/** The options of every command that analyses captures, as yargs declares them. */
function withAnalysisOptions<T>(y: Argv<T>): Argv<T> {
  return y
    .positional('captures', {
      describe:
        'pcap or pcapng files (gzip too); - reads stdin; http://host:port asks a hopscope live agent for its hops',
      type: 'string',
      array: true,
      demandOption: true,
    })
    .option('hop', {
      type: 'string',
      requiresArg: true,
      describe: 'Set a hop kind: NAME=KIND (guest, tap, bridge, vxlan, geneve, physical, any)',
    })
    .option('mtu', {
      type: 'string',
      requiresArg: true,
      describe: 'Set a hop MTU: NAME=BYTES (repeatable)',
    })
    .option('path', {
      type: 'string',
      requiresArg: true,
      describe: 'The hops in path order, comma-separated (default: from the topology or the traffic)',
    })
    .option('topology', {
      type: 'string',
      requiresArg: true,
      describe: 'A topology.json in the lab form (hop kinds and MTUs)',
    })
    .option('log-level', {
      choices: LOG_LEVELS,
      requiresArg: true,
      default: 'warn' as LogLevel,
      describe: 'Log level of the logs on stderr',
    })
    .option('progress', {
      type: 'boolean',
      describe: 'Progress on stderr (default: when stderr is a terminal)',
    })
    .option('jobs', {
      type: 'number',
      requiresArg: true,
      describe:
        'Threads that read capture files at once (default: one per core for two or more files of 384 MiB in all; 0 or 1: one)',
    })
    .option('vxlan-port', {
      type: 'number',
      requiresArg: true,
      describe: 'Also decode UDP to this port as VXLAN (besides 4789, 8472; repeatable)',
    })
    .option('geneve-port', {
      type: 'number',
      requiresArg: true,
      describe: 'Also decode UDP to this port as Geneve (besides 6081; repeatable)',
    })
    .option('token', {
      type: 'string',
      requiresArg: true,
      describe: "Bearer token for agents' URLs (http://host:9477) among the captures",
    })
    .option('token-file', {
      type: 'string',
      requiresArg: true,
      describe: "Read the agents' token from this file (its first line)",
    }) as Argv<T>;
}

/** yargs drops a lone "-"; it stands in for it while parsing (no file name holds a NUL byte). */
const STDIN_PLACEHOLDER = '\u0000stdin';
/** An argument after `--`, which yargs would keep out of the captures: `\0arg<index>`. */
const LITERAL_PREFIX = '\u0000arg';

/** Every placeholder in `text` back to what was typed. */
function restore(text: string, literals: readonly string[]): string {
  const [head = '', ...rest] = text.split(LITERAL_PREFIX);
  const literal = rest.map((piece) => {
    const digits = /^\d+/.exec(piece)?.[0] ?? '';
    return `${literals[Number(digits)] ?? ''}${piece.slice(digits.length)}`;
  });
  return [head, ...literal].join('').replaceAll(STDIN_PLACEHOLDER, '-');
}

interface PreparedArgv {
  /** What yargs parses: placeholders for `-` and for everything after `--`. */
  argv: string[];
  /** The arguments after `--`, word for word. */
  literals: string[];
  /** An option that takes a value but has none (`--mtu` last, `--mtu --`, `--topology=`). */
  missingValue: string | null;
}

/**
 * `--` ends the options: what follows are captures, even `-x.pcap` (and `-`, stdin, as `cat --
 * -` reads it). yargs puts them apart from the positional arguments, so they are handed to it as
 * placeholders that look like nothing but a capture, put back afterwards. An option that needs a
 * value and ends the options instead is found here, by the name yargs would give it.
 */
function prepareArgv(raw: readonly string[]): PreparedArgv {
  const end = raw.indexOf('--');
  const options = end < 0 ? [...raw] : raw.slice(0, end);
  const literals = end < 0 ? [] : raw.slice(end + 1);
  let missingValue: string | null = null;
  for (let i = 0; i < options.length && missingValue === null; i++) {
    const arg = options[i] as string;
    if (!arg.startsWith('--')) continue;
    const eq = arg.indexOf('=');
    const name = (eq < 0 ? arg.slice(2) : arg.slice(2, eq)).replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
    if (!VALUE_OPTIONS.includes(name)) continue;
    if (eq >= 0) {
      if (eq === arg.length - 1) missingValue = `--${name}`;
    } else if (i === options.length - 1) {
      missingValue = `--${name}`;
    } else {
      i++; // its value, whatever it looks like
    }
  }
  const argv = options.map((arg) => (arg === '-' ? STDIN_PLACEHOLDER : arg));
  literals.forEach((arg, index) => {
    argv.push(arg === '-' ? STDIN_PLACEHOLDER : `${LITERAL_PREFIX}${index}`);
  });
  return { argv, literals, missingValue };
}

/** yargs' messages in hopscope's words, and placeholders back to what was typed. */
function usageMessage(message: string, literals: readonly string[], command?: string): string {
  const following = /^Not enough arguments following: (.+)$/.exec(message);
  let text = message;
  // A short alias (-i, -f) is named as typed, with one dash.
  if (following) text = `${following[1]?.length === 1 ? '-' : '--'}${following[1]} needs a value`;
  else if (/^Not enough non-option arguments/.test(message)) text = noCapture(command ?? 'analyze');
  return oneLine(restore(text, literals));
}

/** Runs the CLI and resolves to the exit code; never calls process.exit itself. */
export async function main(
  rawArgv: string[],
  io: CliIo = { stdout: process.stdout, stderr: process.stderr },
): Promise<number> {
  const plain = plainAnalyzeArgs(rawArgv);
  if (plain !== null) return runPlain(plain, io);
  const { argv, literals, missingValue } = prepareArgv(rawArgv);
  if (missingValue !== null) return usage(io, `${missingValue} needs a value`);
  let exitCode = EXIT_OK;
  let usageError: string | null = null;
  let helpText: string | null = null;
  /**
   * The arguments of a command that analyses captures, with the captures as typed; null when
   * there is nothing to run: yargs still calls the handler after .fail() reported a validation
   * error (unknown option, bad choice), and the usage error is the answer.
   */
  const analysisArgs = <T extends AnalysisArgs>(parsed: unknown): T | null => {
    if (usageError !== null) return null;
    const args = parsed as T;
    args.captures = args.captures.map((path) => restore(path, literals));
    return args;
  };
  const parser = yargs(argv)
    .scriptName('hopscope')
    .usage('$0 <command> [options]')
    .command(
      'analyze <captures..>',
      'Analyse captures: checksum offload, TSO/GSO super-frames, fragments, path MTU',
      (y) =>
        withAnalysisOptions(y)
          .option('json', {
            type: 'boolean',
            default: false,
            describe: 'Print the report as one JSON document',
          })
          .option('verbose', {
            type: 'boolean',
            default: false,
            describe: 'Explain every finding in the summary, notes included',
          })
          .option('color', {
            type: 'boolean',
            describe: 'Colour the summary (default: when stdout is a terminal)',
          })
          .example('$0 analyze samples/jumbo-underlay/host1-phy0.pcap', 'one capture')
          .example(
            '$0 analyze --token-file t http://hv1:9477 http://hv2:9477',
            'correlate what hopscope live agents on two hosts saw',
          )
          .example('tcpdump -i eth0 -w - | $0 analyze -', 'a live capture through stdin'),
      async (parsed) => {
        const args = analysisArgs<AnalyzeArgs>(parsed);
        if (args === null) return;
        exitCode = await runAnalyze(args, io);
      },
    )
    .command(
      'report <captures..>',
      'Write the analysis as a document to attach to a ticket: self-contained HTML, or Markdown',
      (y) =>
        withAnalysisOptions(y)
          .option('output', {
            alias: 'o',
            type: 'string',
            requiresArg: true,
            describe: 'The file to write (default: stdout)',
          })
          .option('format', {
            choices: ['html', 'md'] as const,
            requiresArg: true,
            describe: 'html or md (default: md for an --output ending in .md, else html)',
          })
          .example('$0 report --topology t.json *.pcap -o report.html', 'an HTML report'),
      async (parsed) => {
        const args = analysisArgs<ReportArgs>(parsed);
        if (args === null) return;
        const { runReport } = await import('./report-command.js');
        exitCode = await runReport(args, io, rawArgv);
      },
    )
    .command(
      'annotate <captures..>',
      'Write the captures as one pcapng, one interface per hop, the findings as packet comments',
      (y) =>
        withAnalysisOptions(y)
          .option('output', {
            alias: 'o',
            type: 'string',
            requiresArg: true,
            demandOption: true,
            describe: 'The pcapng file to write (- for stdout)',
          })
          .option('align', {
            type: 'boolean',
            default: false,
            describe: 'Correct each hop’s timestamps by its estimated clock offset',
          })
          .example('$0 annotate --align *.pcap -o annotated.pcapng', 'open it in Wireshark'),
      async (parsed) => {
        const args = analysisArgs<AnnotateArgs>(parsed);
        if (args === null) return;
        const { runAnnotate } = await import('./report-command.js');
        exitCode = await runAnnotate(args, io);
      },
    )
    .command(
      'live',
      'Capture on several interfaces at once (or a VM’s whole path) and analyse as it comes, until stopped',
      (y) =>
        y
          .option('interface', {
            alias: 'i',
            type: 'string',
            requiresArg: true,
            describe: 'An interface to capture on: IF, or NETNS/IF inside a network namespace (repeatable)',
          })
          .option('follow', {
            type: 'string',
            requiresArg: true,
            describe:
              'A VM’s tap (or NETNS/TAP): discover its bridge, tunnel devices and underlay, and capture on all of them',
          })
          .option('backend', {
            choices: ['tcpdump', 'dumpcap', 'cap'],
            default: 'tcpdump',
            describe:
              'tcpdump: tcpdump per interface (libpcap’s block ring, buffered); dumpcap: Wireshark’s dumpcap per interface (a write per frame); both count drops and enter namespaces; cap: libpcap in-process',
          })
          .option('filter', { alias: 'f', type: 'string', requiresArg: true, describe: 'BPF capture filter' })
          .option('snaplen', {
            alias: 's',
            type: 'number',
            requiresArg: true,
            describe:
              'Bytes kept per frame (default: each device’s largest super-frame, gso/gro_max_size, plus headers; dumpcap takes up to 262144, cap is fixed at 65535)',
          })
          .option('buffer-size', {
            alias: 'B',
            type: 'number',
            default: 32,
            describe: 'Kernel capture buffer per interface, MiB',
          })
          .option('duration', { type: 'number', requiresArg: true, describe: 'Stop after this many seconds' })
          .option('count', {
            alias: 'c',
            type: 'number',
            requiresArg: true,
            describe: 'Stop after this many frames in all',
          })
          .option('json', {
            type: 'boolean',
            default: false,
            describe: 'Print the final report as one JSON document',
          })
          .option('hop', {
            type: 'string',
            requiresArg: true,
            describe: 'Set a hop kind: NAME=KIND (over what the system says)',
          })
          .option('mtu', { type: 'string', requiresArg: true, describe: 'Set a hop MTU: NAME=BYTES' })
          .option('path', {
            type: 'string',
            requiresArg: true,
            describe: 'The hops in path order, comma-separated',
          })
          .option('log-level', {
            choices: LOG_LEVELS,
            requiresArg: true,
            default: 'info' as LogLevel,
            describe: 'Log level of the logs on stderr',
          })
          .option('verbose', {
            type: 'boolean',
            default: false,
            describe: 'Explain every finding in the summary',
          })
          .option('color', {
            type: 'boolean',
            describe: 'Colour the summary (default: when stdout is a terminal)',
          })
          .option('listen', {
            type: 'string',
            requiresArg: true,
            describe:
              'Serve the HTTP API (/snapshot /events /metrics /healthz /hops) on ADDRESS:PORT, e.g. 127.0.0.1:9477; off unless given. Any address but loopback needs a token',
          })
          .option('token-file', {
            type: 'string',
            requiresArg: true,
            describe: 'The bearer token every API request must carry, from this file (its first line)',
          })
          .option('token', {
            type: 'string',
            requiresArg: true,
            describe: 'The bearer token on the command line (seen by ps: prefer --token-file)',
          })
          .option('evidence', {
            type: 'string',
            requiresArg: true,
            describe: 'Write the frames behind each finding to this directory as pcapng files',
          })
          .option('evidence-max-bytes', {
            type: 'string',
            requiresArg: true,
            default: '100M',
            describe: 'Bound of all evidence files together (the oldest are removed): 500M, 2G',
          })
          .option('evidence-buffer', {
            type: 'number',
            requiresArg: true,
            describe: 'Recent frames kept per interface to take evidence from, MiB (default 8)',
          })
          .option('agent-name', {
            type: 'string',
            requiresArg: true,
            describe:
              "This agent's name in /hops (another host's analyze prefixes its hop names with it; default: the host name)",
          })
          .option('log-format', {
            choices: ['json', 'text'],
            requiresArg: true,
            describe:
              'The finding stream on stderr: pino JSON lines, or text lines (default: text when stderr is a terminal)',
          })
          .example('$0 live -i tap0 -i brq97 -i vxlan-97 -i eth1', 'four hops of one hypervisor')
          .example('$0 live --follow tap0 --duration 60', 'a VM’s path, for a minute')
          .example('$0 live -i ns1/phy0 -i ns2/phy0', 'interfaces in two network namespaces'),
      async (parsed) => {
        if (usageError !== null) return;
        const { runLiveCommand } = await import('./live.js');
        const { startLiveService } = await import('./live-service.js');
        const service = await startLiveService(
          parsed as unknown as LiveServiceArgs,
          io.stderr,
          packageVersion(),
        );
        let result: Awaited<ReturnType<typeof runLiveCommand>>;
        try {
          result = await runLiveCommand(
            parsed as unknown as LiveArgs,
            io,
            packageVersion(),
            rawArgv,
            service.hooks,
          );
        } finally {
          await service.close();
        }
        if (result.code !== 0) {
          io.stderr.write(result.text);
          exitCode = result.code;
          return;
        }
        exitCode = (await writeOut(io, result.text)) === 'failed' ? EXIT_OUTPUT : EXIT_OK;
      },
    )
    .command(
      'explain [files..]',
      'Explain tcpdump or Wireshark text, line by line: checksum offload, super-frames, fragments, ICMP',
      (y) =>
        y
          .positional('files', {
            describe: 'text files of tcpdump or tshark output (default, or -: stdin)',
            type: 'string',
            array: true,
          })
          .option('json', {
            type: 'boolean',
            default: false,
            describe: 'One JSON object per explained packet (NDJSON); with --summary, the summary last',
          })
          .option('summary', {
            type: 'boolean',
            default: false,
            describe: 'Print only the summary: counts per explanation and the verdict',
          })
          .option('color', {
            type: 'boolean',
            describe: 'Colour the explanations (default: when stdout is a terminal)',
          })
          .example('tcpdump -vv -nn -i tap0 | $0 explain', 'explain a live capture as it runs')
          .example('$0 explain ticket.txt', 'explain lines pasted from a ticket')
          .example('tshark -r capture.pcap | $0 explain --summary', 'the verdict on a packet list'),
      async (parsed) => {
        if (usageError !== null) return;
        const args = parsed as unknown as ExplainArgs;
        args.files = (args.files ?? []).map((path) => restore(path, literals));
        exitCode = await runExplainCommand(args, io);
      },
    )
    .demandCommand(1, 'Name a command: analyze, report, annotate, live or explain')
    .strict()
    .help()
    .version(packageVersion())
    .alias('version', 'V')
    .exitProcess(false)
    .fail((message, error) => {
      // YError: yargs' own parse errors (an option without its value).
      if (error && !(error instanceof UsageError) && error.name !== 'YError') throw error;
      // yargs counts the captures before it looks for unknown options, and an unknown option takes
      // the word after it as its value (`--frob x.pcap`): then the unknown option is the news, not
      // the missing capture. Otherwise the first failure is the one to tell.
      const text = message ?? error?.message ?? 'usage error';
      if (
        usageError === null ||
        (/^Unknown argument/.test(text) && /^Not enough non-option/.test(usageError))
      )
        usageError = text;
    });
  skipHelpCache(parser);
  try {
    // With a callback yargs hands --help/--version text back instead of printing it itself.
    await parser.parseAsync(argv, {}, (_error, _parsed, output) => {
      if (output && usageError === null) helpText = `${output}\n`;
    });
  } catch (error) {
    if (error instanceof UsageError) {
      usageError ??= error.message;
    } else if (error instanceof HopscopeError) {
      io.stderr.write(`hopscope: ${error.message}\n`);
      return EXIT_UNREADABLE;
    } else {
      throw error;
    }
  }
  if (usageError !== null) return usage(io, usageMessage(usageError, literals, commandOf(argv)));
  if (helpText !== null && (await writeOut(io, helpText)) === 'failed') return EXIT_OUTPUT;
  return exitCode;
}

/**
 * A plain analyze command line (version.ts plainAnalyzeArgs) run without yargs: the handler yargs
 * would call, with yargs' defaults, its errors answered as main() answers them through yargs.
 */
export async function runPlain(
  plain: PlainAnalyze,
  io: CliIo = { stdout: process.stdout, stderr: process.stderr },
): Promise<number> {
  try {
    return await runAnalyze({ ...plain, logLevel: 'warn' }, io);
  } catch (error) {
    if (error instanceof UsageError) return usage(io, oneLine(error.message));
    if (error instanceof HopscopeError) {
      io.stderr.write(`hopscope: ${error.message}\n`);
      return EXIT_UNREADABLE;
    }
    throw error;
  }
}

/** The command the arguments name (for messages), when they name one. */
function commandOf(argv: readonly string[]): string | undefined {
  return argv.find((arg) => COMMANDS.includes(arg));
}

const COMMANDS = ['analyze', 'report', 'annotate'];

export interface ReportArgs extends AnalysisArgs {
  output?: string;
  format?: 'html' | 'md';
}

export interface AnnotateArgs extends AnalysisArgs {
  output: string;
  align: boolean;
}

function usage(io: CliIo, message: string): number {
  io.stderr.write(`hopscope: ${message}\nRun hopscope --help for usage.\n`);
  return EXIT_USAGE;
}

/**
 * After starting a command's handler, yargs lays out the whole help text and keeps it, in case the
 * handler asks for help later (showHelp) or a failure prints it. hopscope does neither (its .fail()
 * prints one line), and the layout (cliui, string widths) is about 20 ms of every analyze run:
 * the cache is switched off. Internal to yargs (getInternalMethods), so only when it looks as
 * expected; otherwise yargs keeps caching and nothing changes but the time.
 */
function skipHelpCache(parser: object): void {
  type Usage = { cacheHelpMessage?: unknown };
  const internal = (parser as { getInternalMethods?: () => { getUsageInstance?: () => Usage } })
    .getInternalMethods;
  const usage = typeof internal === 'function' ? internal.call(parser).getUsageInstance?.() : undefined;
  if (usage && typeof usage.cacheHelpMessage === 'function') usage.cacheHelpMessage = () => {};
}

export function hideArgs(): string[] {
  return hideBin(process.argv);
}
