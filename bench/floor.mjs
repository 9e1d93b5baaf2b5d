// The floor: the least work any pcap tool must do. Reads the capture in 1 MiB chunks into one reused
// buffer and walks the 16-byte record headers (no decoding), then prints the frame count.
// Run as a child process like every other case, so it pays Node's start-up too.
//   node bench/floor.mjs FILE
import { closeSync, openSync, readSync } from 'node:fs';

const fd = openSync(process.argv[2], 'r');
const buf = Buffer.allocUnsafe(1 << 20);
const header = Buffer.alloc(16); // a record header cut by a chunk boundary
let headerFill = 0;
let skip = 24; // file header, then each record's data
let le = true;
let first = true;
let frames = 0;
for (;;) {
  const n = readSync(fd, buf, 0, buf.length, null);
  if (n === 0) break;
  if (first) {
    first = false;
    const magic = buf.readUInt32LE(0);
    if (magic !== 0xa1b2c3d4 && magic !== 0xa1b23c4d) le = false;
  }
  let p = 0;
  while (p < n) {
    if (skip > 0) {
      const s = Math.min(skip, n - p);
      p += s;
      skip -= s;
    } else if (headerFill === 0 && p + 16 <= n) {
      skip = le ? buf.readUInt32LE(p + 8) : buf.readUInt32BE(p + 8);
      p += 16;
      frames++;
    } else {
      const s = Math.min(16 - headerFill, n - p);
      buf.copy(header, headerFill, p, p + s);
      headerFill += s;
      p += s;
      if (headerFill === 16) {
        skip = le ? header.readUInt32LE(8) : header.readUInt32BE(8);
        headerFill = 0;
        frames++;
      }
    }
  }
}
closeSync(fd);
process.stdout.write(`${frames}\n`);
