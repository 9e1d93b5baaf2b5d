// Preload for benchmarked Node children: `node --import ./bench/peak-rss.mjs script.js ...`.
// At exit it writes the process's peak resident set size (process.resourceUsage().maxRSS, in KiB)
// to the file named by HOPSCOPE_BENCH_RSS_FILE. The variable is removed at start-up so that any
// Node process the child starts does not overwrite the number.
import { writeFileSync } from 'node:fs';

const target = process.env.HOPSCOPE_BENCH_RSS_FILE;
delete process.env.HOPSCOPE_BENCH_RSS_FILE;
if (target) {
  process.on('exit', () => {
    try {
      writeFileSync(target, `${process.resourceUsage().maxRSS}\n`);
    } catch {
      // the bench reports n/a when the file is missing
    }
  });
}
