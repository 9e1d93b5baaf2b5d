#!/usr/bin/env node
// The hopscope command: runs the compiled CLI (npm run build writes dist/).
import { hideArgs, main } from '../dist/cli/main.js';

main(hideArgs()).then(
  (code) => {
    process.exitCode = code;
  },
  (error) => {
    process.stderr.write(`hopscope: internal error: ${error?.stack ?? error}\n`);
    process.exitCode = 70;
  },
);
