/**
 * The package version, read from package.json next to dist/. Its own module, with nothing but
 * node:fs, so that bin/hopscope.js answers `--version` without loading yargs or the analysis.
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
