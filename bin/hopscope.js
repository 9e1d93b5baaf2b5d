#!/usr/bin/env node
// The hopscope command: runs the compiled CLI (npm run build writes dist/).
// `--version` alone is answered from package.json without loading yargs or the analysis (most of
// the start-up time); everything else goes through the yargs CLI in dist/cli/main.js.
import { asksOnlyVersion, packageVersion } from '../dist/cli/version.js';

const fail = (error) => {
  process.stderr.write(`hopscope: internal error: ${error?.stack ?? error}\n`);
  process.exitCode = 70;
};

if (asksOnlyVersion(process.argv.slice(2))) {
  try {
    process.stdout.write(`${packageVersion()}\n`);
  } catch (error) {
    fail(error);
  }
} else {
  import('../dist/cli/main.js')
    .then(({ hideArgs, main }) => main(hideArgs()))
    .then((code) => {
      process.exitCode = code;
    }, fail);
}
