// npm run bench: how fast the project's pcap reader walks a capture, against a plain loop over the
// same file's records (the floor) and `tcpdump -nn -r` measured in the same run.
// Until `hopscope analyze` exists, this measures the reader; the analyze cases join it later.
// Input: the largest committed lab capture, repeated in memory and written once to a temp file so
// that the run has enough frames to time.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parsePcap } from '../dist/capture/pcap.js';

const samples = join(import.meta.dirname, '..', 'samples');
const files = readdirSync(samples, { recursive: true, encoding: 'utf8' })
  .filter((f) => f.endsWith('.pcap'))
  .map((f) => join(samples, f));
const biggest = files.sort((a, b) => statSync(b).size - statSync(a).size)[0];
const source = readFileSync(biggest);
const body = source.subarray(24);
const copies = Math.max(1, Math.ceil(200_000 / parsePcap(source).records.length));
const big = Buffer.concat([source.subarray(0, 24), ...Array.from({ length: copies }, () => body)]);
const dir = mkdtempSync(join(tmpdir(), 'hopscope-bench-'));
const path = join(dir, 'bench.pcap');
writeFileSync(path, big);

function time(fn) {
  const t0 = process.hrtime.bigint();
  const frames = fn();
  return { frames, seconds: Number(process.hrtime.bigint() - t0) / 1e9 };
}

function floor() {
  const b = readFileSync(path);
  let n = 0;
  for (let p = 24; p + 16 <= b.length; n++) p += 16 + b.readUInt32LE(p + 8);
  return n;
}

const results = [];
results.push(['plain read (floor)', time(floor)]);
results.push(['hopscope pcap reader', time(() => parsePcap(readFileSync(path), path).records.length)]);
if (spawnSync('sh', ['-c', 'command -v tcpdump']).status === 0) {
  results.push([
    'tcpdump -nn -r',
    time(() => {
      // tcpdump prints a line or more per frame; it reads every frame, as the floor counts them.
      execFileSync('tcpdump', ['-nn', '-r', path], {
        maxBuffer: 1 << 30,
        stdio: ['ignore', 'pipe', 'ignore'],
      });
      return results[0][1].frames;
    }),
  ]);
} else {
  console.log('tcpdump not installed: its ratio is left out');
}

const floorSeconds = results[0][1].seconds;
console.log(`capture: ${biggest.slice(samples.length + 1)} x${copies} = ${(big.length / 1e6).toFixed(1)} MB`);
for (const [name, r] of results) {
  const fps = r.frames / r.seconds;
  console.log(
    `${name.padEnd(22)} ${String(r.frames).padStart(9)} frames  ${(fps / 1e6).toFixed(2).padStart(7)} Mframes/s  ${(r.seconds / floorSeconds).toFixed(2).padStart(6)}x floor`,
  );
}
console.log(`peak RSS ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MB`);
rmSync(dir, { recursive: true, force: true });
