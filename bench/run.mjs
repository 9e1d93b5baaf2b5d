// npm run bench: runs every scenario under bench/cases/ (one scenario per file) and writes the numbers
// to bench/results/latest.json. Each scenario times its cases in child processes and prints ratios
// against the floor and against tcpdump/tshark measured in the same run.
//
//   node bench/run.mjs [--huge | --frames N] [--scenario NAME]
//   --scenario single-capture | multi-hop | fragments | startup | live   only that scenario (default: all of bench/cases/)
//   --huge   single-capture: >= 10,000,000 frames (fragments: half); multi-hop: timed at 1M, plus one run on a 10x set
//   BENCH_REPEAT=5          timed runs per case (median and spread reported)
//   BENCH_CASES=floor,tcpdump  only these cases (floor, hopscope, tcpdump, tshark; multi-hop: hopscope)
//   BENCH_TSHARK_FRAMES=100000 tshark slice size
//   BENCH_STARTUP_REPEAT=21    timed runs per case of the startup scenario (short runs: more of them)
import { execFileSync } from 'node:child_process';
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { which } from './lib.mjs';
import { DEFAULT_FRAMES, HUGE_FRAMES } from './synthesize.mjs';

const argv = process.argv.slice(2);
const opt = (name) => {
  const i = argv.indexOf(name);
  return i < 0 ? undefined : argv[i + 1];
};
const huge = argv.includes('--huge');
const frames = huge ? HUGE_FRAMES : Number(opt('--frames') ?? DEFAULT_FRAMES);
const repeat = Number(process.env.BENCH_REPEAT ?? 5);
const only = process.env.BENCH_CASES?.split(',').map((s) => s.trim());
if (!Number.isInteger(frames) || frames < 1 || !Number.isInteger(repeat) || repeat < 1) {
  console.error('usage: node bench/run.mjs [--huge | --frames N] [--scenario NAME]  (BENCH_REPEAT >= 1)');
  process.exit(2);
}

const version = (cmd, args) => {
  if (!which(cmd)) return null;
  try {
    return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).split('\n')[0];
  } catch {
    return null;
  }
};
const env = {
  node: process.version,
  cpu: cpus()[0]?.model ?? '?',
  cores: cpus().length,
  tcpdump: version('tcpdump', ['--version']),
  tshark: version('tshark', ['--version']),
  loadAverage: loadavg()[0],
};
console.log(
  `hopscope bench  ${new Date().toISOString()}  node ${env.node}  ${env.cpu}, ${env.cores} ${
    env.cores === 1 ? 'core' : 'cores'
  }  load ${env.loadAverage.toFixed(1)}`,
);

const dir = join(import.meta.dirname, 'cases');
const wanted = opt('--scenario');
const scenarios = [];
for (const file of readdirSync(dir)
  .filter((f) => f.endsWith('.mjs'))
  .sort()) {
  const scenario = await import(join(dir, file));
  if (wanted && scenario.name !== wanted) continue;
  console.log('');
  scenarios.push(await scenario.run({ frames, repeat, only, huge, log: (m) => console.log(m) }));
}

const results = join(import.meta.dirname, 'results');
mkdirSync(results, { recursive: true });
const path = join(results, 'latest.json');
writeFileSync(path, `${JSON.stringify({ date: new Date().toISOString(), env, scenarios }, null, 2)}\n`);
console.log(`\nnumbers: ${path.slice(join(import.meta.dirname, '..').length + 1)}`);
