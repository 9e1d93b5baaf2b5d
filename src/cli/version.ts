/**
 * What bin/hopscope.js decides before loading the CLI: the package version, read from package.json
 * next to dist/, and whether a command line is a plain analyze. Its own module, with nothing but
 * node:fs, so that `--version` loads neither yargs nor the analysis, and a plain analyze not yargs.
 */

import { readFileSync } from 'node:fs';

export function packageVersion(): string {
  const url = new URL('../../package.json', import.meta.url);
  return (JSON.parse(readFileSync(url, 'utf8')) as { version: string }).version;
}

/**
 * The command lines that only ask for the version: `--version` or `-V` alone. yargs prints the same
 * for them (main() declares -V as the alias of --version), so the fast path changes no output.
 */
export function asksOnlyVersion(args: readonly string[]): boolean {
  return args.length === 1 && (args[0] === '--version' || args[0] === '-V');
}

/** A plain analyze command line: its captures and flags (see plainAnalyzeArgs). */
export interface PlainAnalyze {
  captures: string[];
  json: boolean;
  verbose: boolean;
}

/**
 * The most common command lines, `analyze [--json] [--verbose] FILE...` with plain file names, are
 * run without yargs (cli/plain.ts): loading yargs is ~25 ms, most of a small capture's run and a
 * tenth of a million frames'. Anything else (another option, `-`, `--`, a name that starts with
 * `-`, a repeated flag, --help) is null and goes through yargs. For what it accepts, it gives what
 * yargs hands the analyze handler (test/cli/plain-args.test.ts compares the two).
 */
export function plainAnalyzeArgs(args: readonly string[]): PlainAnalyze | null {
  if (args[0] !== 'analyze') return null;
  const plain: PlainAnalyze = { captures: [], json: false, verbose: false };
  for (let i = 1; i < args.length; i++) {
    const arg = args[i] as string;
    if (arg === '--json' && !plain.json) plain.json = true;
    else if (arg === '--verbose' && !plain.verbose) plain.verbose = true;
    else if (arg === '' || arg.startsWith('-')) return null;
    else plain.captures.push(arg);
  }
  return plain.captures.length > 0 ? plain : null;
}
