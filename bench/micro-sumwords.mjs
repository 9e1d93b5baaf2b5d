// Micro-benchmark of one hot function, two implementations: the Internet-checksum word sum
// (src/observe/checksum.ts sumWords) as it was, byte by byte, against the shipped one, which reads
// 8 bytes per step as two big-endian 32-bit DataView loads. Both must return the same unfolded sum;
// the check runs first. Times are CPU time per call, the minimum of several rounds.
//
//   npm run build && node bench/micro-sumwords.mjs
import { sumWords } from '../dist/observe/checksum.js';

function bytewise(bytes, start, end, sum = 0) {
  let i = start;
  for (; i + 1 < end; i += 2) sum += (bytes[i] << 8) | bytes[i + 1];
  if (i < end) sum += bytes[i] << 8;
  return sum;
}

const buf = new Uint8Array(1 << 20);
for (let i = 0; i < buf.length; i++) buf[i] = (i * 2654435761) >>> 24;

function time(f, len) {
  const calls = Math.floor(3e7 / (len + 8));
  let best = Number.POSITIVE_INFINITY;
  let acc = 0;
  for (let round = 0; round < 7; round++) {
    const t0 = process.cpuUsage();
    for (let k = 0; k < calls; k++) {
      const s = (k * 61) & 0x7ffff;
      acc += f(buf, s, s + len);
    }
    const t = process.cpuUsage(t0);
    best = Math.min(best, ((t.user + t.system) * 1000) / calls);
  }
  if (acc < 0) console.log(acc);
  return best;
}

// 32: a TCP ACK with timestamps; 82: a VXLAN-encapsulated ACK (outer UDP); 1448: a full segment.
for (const len of [20, 32, 82, 1448]) {
  for (let k = 0; k < 2000; k++) {
    const s = (k * 7919) % 100000;
    const e = s + len + (k & 1);
    if (bytewise(buf, s, e, k) !== sumWords(buf, s, e, k)) throw new Error(`sums differ at ${s}..${e}`);
  }
  const a = time(bytewise, len);
  const b = time(sumWords, len);
  console.log(
    `${String(len).padStart(5)} bytes: byte by byte ${a.toFixed(1).padStart(6)} ns   32-bit loads ${b
      .toFixed(1)
      .padStart(6)} ns   ${(a / b).toFixed(2)}x`,
  );
}
