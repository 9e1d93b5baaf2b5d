/**
 * The entry of a plain analyze command line (`analyze [--json] [--verbose] FILE...`, see
 * version.ts plainAnalyzeArgs): bin/hopscope.js loads this instead of main.js, and the bundle
 * (scripts/bundle.mjs) leaves yargs out of it, so such a run does not pay for loading yargs.
 */

export { runPlain } from './main.js';
