/**
 * The command line (yargs). `hopscope analyze CAPTURE...` reads captures and prints the summary
 * or, with --json, the report document. Exit codes: 0 the analysis ran, 1 a capture could not be
 * read at all (the others are still analysed and reported), 2 usage errors.
 */

import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import { HopscopeError, UsageError } from '../errors.js';
import { createLogger, LOG_LEVELS, type LogLevel } from '../log.js';
import { createProgress } from './progress.js';
import { packageVersion } from './version.js';

export const EXIT_OK = 0;
export const EXIT_UNREADABLE = 1;
export const EXIT_USAGE = 2;

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
  args.captures = args.captures.map((path) => (path === STDIN_PLACEHOLDER ? '-' : path));
  if (args.captures.length === 0) throw new UsageError('analyze: name at least one capture (or - for stdin)');
  const list = (value: string | string[] | undefined): string[] =>
    value === undefined ? [] : Array.isArray(value) ? value : [value];
  const overrides = buildOverrides(list(args.hop), list(args.mtu), args.topology);
  const logger = createLogger(args.logLevel);
  const progress = createProgress(io.stderr, args.progress ?? Boolean(io.stderr.isTTY));
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
  const result = await analyzeCaptures(args.captures, {
    overrides,
    logger,
    logLevel: args.logLevel,
    ...(args.jobs !== undefined ? { jobs: args.jobs } : {}),
    tunnelPorts,
    onProgress: progress.update,
    ...(path !== undefined && path.length > 0 ? { path } : {}),
  });
  progress.done();
  const report = buildReport(result, packageVersion());
  if (args.json) {
    io.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
  } else {
    const color = args.color ?? (Boolean(io.stdout.isTTY) && process.env.NO_COLOR === undefined);
    io.stdout.write(
      renderText(report, {
        color,
        verbose: args.verbose,
        width: Math.min(110, (io.stdout as { columns?: number }).columns ?? 100),
      }),
    );
  }
  for (const capture of result.captures) {
    if (!capture.readable) io.stderr.write(`hopscope: ${capture.errors[0] ?? capture.path}\n`);
  }
  return result.captures.some((capture) => !capture.readable) ? EXIT_UNREADABLE : EXIT_OK;
}

/** yargs drops a lone "-"; it stands in for it while parsing (no file name holds a NUL byte). */
const STDIN_PLACEHOLDER = '\u0000stdin';

/** Runs the CLI and resolves to the exit code; never calls process.exit itself. */
export async function main(
  rawArgv: string[],
  io: CliIo = { stdout: process.stdout, stderr: process.stderr },
): Promise<number> {
  const argv = rawArgv.map((arg) => (arg === '-' ? STDIN_PLACEHOLDER : arg));
  let exitCode = EXIT_OK;
  let usageError: string | null = null;
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
            describe: 'The hops in path order, comma-separated (default: from the topology or the traffic)',
          })
          .option('topology', {
            type: 'string',
            describe: 'A topology.json in the lab form (hop kinds and MTUs)',
          })
          .option('log-level', {
            choices: LOG_LEVELS,
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
        exitCode = await runAnalyze(parsed as unknown as AnalyzeArgs, io);
      },
    )
    .demandCommand(1, 'Name a command: analyze')
    .strict()
    .help()
    .version(packageVersion())
    .alias('version', 'V')
    .exitProcess(false)
    .fail((message, error) => {
      if (error && !(error instanceof UsageError)) throw error;
      usageError = message ?? error?.message ?? 'usage error';
    });
  skipHelpCache(parser);
  try {
    // With a callback yargs hands --help/--version text back instead of printing it itself.
    await parser.parseAsync(argv, {}, (_error, _parsed, output) => {
      if (output && usageError === null) io.stdout.write(`${output}\n`);
    });
  } catch (error) {
    if (error instanceof UsageError) {
      usageError = error.message;
    } else if (error instanceof HopscopeError) {
      io.stderr.write(`hopscope: ${error.message}\n`);
      return EXIT_UNREADABLE;
    } else {
      throw error;
    }
  }
  if (usageError !== null) {
    io.stderr.write(`hopscope: ${usageError}\nRun hopscope --help for usage.\n`);
    return EXIT_USAGE;
  }
  return exitCode;
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
