// What the bench runs. One entry per tool: whether it can run here, and its command line for a
// capture. To plug in or change a case, edit its entry; the scenarios pick entries by id.
//   node: true   -> run as `node --import bench/peak-rss.mjs <args>` (peak RSS from the preload)
//   node: false  -> run `<cmd> <args>` (peak RSS from /usr/bin/time -f %M, else /proc VmHWM polling)
//   slice        -> the tool reads only the first `slice` frames (`-c N`); its rates are per frame
//   rss: false   -> run `<cmd> <args>` bare, no peak RSS (start-up cases: nothing added to the time)
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { which } from './lib.mjs';

const root = join(import.meta.dirname, '..');
const hopscopeBin = join(root, 'bin', 'hopscope.js');
const tsharkSlice = Number(process.env.BENCH_TSHARK_FRAMES ?? 100_000);

export const tools = {
  floor: {
    label: 'floor (node: 1 MiB reads, record headers)',
    node: true,
    available: () => true,
    args: (file) => [join(import.meta.dirname, 'floor.mjs'), file],
    // it prints the frame count it walked; the bench checks it against the synthesizer's
    checkStdout: true,
  },
  hopscope: {
    label: 'hopscope analyze --json',
    node: true,
    // BENCH_HOPSCOPE=path/to/hopscope.js times another build (e.g. a checkout of main) instead.
    available: () =>
      process.env.BENCH_HOPSCOPE
        ? existsSync(process.env.BENCH_HOPSCOPE) || `${process.env.BENCH_HOPSCOPE} not found`
        : existsSync(hopscopeBin) && existsSync(join(root, 'dist', 'cli', 'main.js'))
          ? true
          : 'not built yet',
    args: (file) => [process.env.BENCH_HOPSCOPE ?? hopscopeBin, 'analyze', '--json', file],
  },
  // The same build on several captures of one run at once (the multi-hop scenario): `file` is the
  // list of captures, in path order.
  hopscopeHops: {
    label: 'hopscope analyze --json (all hops)',
    node: true,
    available: () => tools.hopscope.available(),
    args: (files) => [process.env.BENCH_HOPSCOPE ?? hopscopeBin, 'analyze', '--json', ...files],
  },
  // The same, read in this one thread (`--jobs 1`): what analyze's worker threads add on a set large
  // enough for it to use them.
  hopscopeHopsOneThread: {
    label: 'hopscope analyze --json --jobs 1 (all hops)',
    node: true,
    available: () => tools.hopscope.available(),
    args: (files) => [
      process.env.BENCH_HOPSCOPE ?? hopscopeBin,
      'analyze',
      '--json',
      '--jobs',
      '1',
      ...files,
    ],
  },
  // Start-up (the startup scenario): bare Node and the same build's cheapest commands, run with the
  // same Node binary as the bench, without the RSS preload.
  nodeEmpty: {
    label: 'node -e 0',
    rss: false,
    available: () => true,
    cmd: process.execPath,
    args: () => ['-e', '0'],
  },
  hopscopeVersion: {
    label: 'hopscope --version',
    rss: false,
    available: () => tools.hopscope.available(),
    cmd: process.execPath,
    args: () => [process.env.BENCH_HOPSCOPE ?? hopscopeBin, '--version'],
  },
  hopscopeHelp: {
    label: 'hopscope --help',
    rss: false,
    available: () => tools.hopscope.available(),
    cmd: process.execPath,
    args: () => [process.env.BENCH_HOPSCOPE ?? hopscopeBin, '--help'],
  },
  hopscopeSmall: {
    label: 'hopscope analyze (small capture)',
    rss: false,
    available: () => tools.hopscope.available(),
    cmd: process.execPath,
    args: (file) => [process.env.BENCH_HOPSCOPE ?? hopscopeBin, 'analyze', file],
  },
  tcpdump: {
    label: 'tcpdump -nn -r',
    node: false,
    available: () => (which('tcpdump') ? true : 'not installed'),
    cmd: 'tcpdump',
    args: (file) => ['-nn', '-r', file],
  },
  tshark: {
    label: `tshark -n -r -c ${tsharkSlice.toLocaleString('en-US')} (slice)`,
    node: false,
    available: () => (which('tshark') ? true : 'not installed'),
    cmd: 'tshark',
    // -n (no name resolution) to match tcpdump -nn
    args: (file, frames) => ['-n', '-r', file, '-c', String(Math.min(tsharkSlice, frames))],
    slice: tsharkSlice,
  },
};
