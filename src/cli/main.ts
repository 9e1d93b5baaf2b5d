/**
 * The command line (yargs). `hopscope analyze CAPTURE...` reads captures and prints the summary
 * or, with --json, the report document. Exit codes: 0 the analysis ran, 1 a capture could not be
 * read at all (the others are still analysed and reported), 2 usage errors (a bad --topology
 * file included), 74 stdout could not be written (a reader that closed the pipe is not an error:
 * hopscope then ends quietly, as `| head` expects). bin/hopscope.js adds 70, an internal error.
 */

import { statSync } from 'node:fs';
import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import { HopscopeError, oneLine, UsageError } from '../errors.js';
import { createLogger, LOG_LEVELS, type LogLevel } from '../log.js';
import { createProgress } from './progress.js';
import { type PlainAnalyze, packageVersion, plainAnalyzeArgs } from './version.js';

export const EXIT_OK = 0;
export const EXIT_UNREADABLE = 1;
export const EXIT_USAGE = 2;
/** sysexits' EX_IOERR: the report could not be written (a full disk, a broken device). */
export const EXIT_OUTPUT = 74;

/** The options that take a value (yargs' own check of a missing one only covers the last). */
const VALUE_OPTIONS = ['hop', 'mtu', 'path', 'topology', 'log-level', 'jobs', 'vxlan-port', 'geneve-port'];

interface AnalyzeArgs {
  captures: string[];
  json: boolean;
  /** Repeatable options: one string, several, or none. */
  hop?: string | string[];
  mtu?: string | string[];
  topology?: string;
  path?: string;
  logLevel: LogLevel;
  verbose: boolean;
  color?: boolean;
  progress?: boolean;
  jobs?: number;
  vxlanPort?: number | number[];
  genevePort?: number | number[];
}

export interface CliIo {
  stdout: NodeJS.WritableStream & { isTTY?: boolean };
  stderr: NodeJS.WritableStream & { isTTY?: boolean };
}

async function runAnalyze(args: AnalyzeArgs, io: CliIo): Promise<number> {
  // Loaded here, not at the top: --help and usage errors do not pay for the analysis.
  const { analyzeCaptures, buildOverrides, buildReport, renderText } = await import('./analysis.js');
  if (args.captures.length === 0) throw new UsageError(NO_CAPTURE);
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
    throw new UsageError(`analyze: --jobs takes a whole number of worker threads, not ${args.jobs}`);
  const ports = (name: string, value: number | number[] | undefined): number[] => {
    const all = value === undefined ? [] : Array.isArray(value) ? value : [value];
    for (const p of all)
      if (!(Number.isInteger(p) && p > 0 && p < 65536))
        throw new UsageError(`analyze: --${name} takes a UDP port (1-65535), not ${p}`);
    return all;
  };
  const tunnelPorts = {
    vxlan: ports('vxlan-port', args.vxlanPort),
    geneve: ports('geneve-port', args.genevePort),
  };
  let result: Awaited<ReturnType<typeof analyzeCaptures>>;
  try {
    result = await analyzeCaptures(args.captures, {
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
  const report = buildReport(result, packageVersion());
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
  const code = result.captures.some((capture) => !capture.readable) ? EXIT_UNREADABLE : EXIT_OK;
  const written = await writeOut(io, text);
  if (written === 'failed') return EXIT_OUTPUT;
  for (const capture of result.captures) {
    if (!capture.readable) io.stderr.write(`hopscope: ${capture.errors[0] ?? capture.path}\n`);
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
    io.stderr.write(
      `hopscope: ${option} names ${missing.join(', ')}, which no capture holds (the hops: ${hops.join(', ') || 'none'})\n`,
    );
  }
  return code;
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
async function writeOut(io: CliIo, text: string): Promise<'written' | 'closed' | 'failed'> {
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

const NO_CAPTURE = 'analyze: name at least one capture (or - for stdin)';

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
function usageMessage(message: string, literals: readonly string[]): string {
  const following = /^Not enough arguments following: (.+)$/.exec(message);
  let text = message;
  if (following) text = `--${following[1]} needs a value`;
  else if (/^Not enough non-option arguments/.test(message)) text = NO_CAPTURE;
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
  const parser = yargs(argv)
    .scriptName('hopscope')
    .usage('$0 <command> [options]')
    .command(
      'analyze <captures..>',
      'Analyse captures: checksum offload, TSO/GSO super-frames, fragments, path MTU',
      (y) =>
        y
          .positional('captures', {
            describe: 'pcap or pcapng files (gzip too); - reads stdin',
            type: 'string',
            array: true,
            demandOption: true,
          })
          .option('json', {
            type: 'boolean',
            default: false,
            describe: 'Print the report as one JSON document',
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
          .option('verbose', {
            type: 'boolean',
            default: false,
            describe: 'Explain every finding in the summary, notes included',
          })
          .option('color', {
            type: 'boolean',
            describe: 'Colour the summary (default: when stdout is a terminal)',
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
          .example('$0 analyze samples/jumbo-underlay/host1-phy0.pcap', 'one capture')
          .example('tcpdump -i eth0 -w - | $0 analyze -', 'a live capture through stdin'),
      async (parsed) => {
        // yargs still calls the handler after .fail() reported a validation error (unknown option,
        // bad choice): nothing to analyse then, the usage error is the answer.
        if (usageError !== null) return;
        const args = parsed as unknown as AnalyzeArgs;
        args.captures = args.captures.map((path) => restore(path, literals));
        exitCode = await runAnalyze(args, io);
      },
    )
    .demandCommand(1, 'Name a command: analyze')
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
  if (usageError !== null) return usage(io, usageMessage(usageError, literals));
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
