#!/usr/bin/env node
// The hopscope command: runs the compiled CLI (npm run build writes dist/: tsc, then the bundle of
// scripts/bundle.mjs over dist/cli/main.js). `--version` alone is answered from package.json
// without loading yargs or the analysis (most of the start-up time); a plain
// `analyze [--json] [--verbose] FILE...` runs through dist/cli/plain.js, which the bundle builds
// without yargs; everything else goes through the yargs CLI in dist/cli/main.js.
import { asksOnlyVersion, packageVersion, plainAnalyzeArgs } from '../dist/cli/version.js';

/** An internal error (a bug): its stack, mapped to src/*.ts when the source maps are there. */
const fail = async (error) => {
  let stack = error?.stack ?? String(error);
  try {
    stack = (await import('../dist/cli/stack.js')).mapStack(stack);
  } catch {}
  process.stderr.write(`hopscope: internal error: ${stack}\n`);
  process.exitCode = 70;
};

if (asksOnlyVersion(process.argv.slice(2))) {
  try {
    // As main() does for the report: a closed pipe is not worth a word, a failed write is (74).
    process.stdout.on('error', () => {});
    process.stdout.write(`${packageVersion()}\n`, (error) => {
      if (!error || error.code === 'EPIPE') return;
      process.stderr.write(
        `hopscope: cannot write to stdout: ${error.code === 'ENOSPC' ? 'no space left on device (ENOSPC)' : error.message}\n`,
      );
      process.exitCode = 74;
    });
  } catch (error) {
    fail(error);
  }
} else {
  // process.argv after `node hopscope.js`: what yargs' hideBin gives under Node.
  const plain = plainAnalyzeArgs(process.argv.slice(2));
  (plain !== null
    ? import('../dist/cli/plain.js').then(({ runPlain }) => runPlain(plain))
    : import('../dist/cli/main.js').then(({ hideArgs, main }) => main(hideArgs()))
  ).then((code) => {
    process.exitCode = code;
    // A plain analyze has written its report and has nothing left to do: once stdout has taken the
    // last byte, it ends here instead of letting Node tear down the analysis' heap (5-10 ms of a
    // million-frame run, median of 30 alternated runs 423.5 -> 417.5 ms). Other commands end
    // naturally: a service or a capture may still be closing what it opened.
    if (plain !== null) process.stdout.write('', () => process.exit(code));
  }, fail);
}
