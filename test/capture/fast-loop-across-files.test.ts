// The pcap reader's fast loop, once V8 has compiled it, serves every later file too. Ending a
// file once wrote a reader field V8 had taken for a constant, and V8 threw the compiled loop away
// at the end of the first file: with ten capture files, every file after the first ran it
// unoptimised until it was compiled again. Checked on the built reader (dist/, built by
// test/global-setup.ts) in a child process with V8's own trace of what it compiles and throws
// away: a performance property, asserted without timing anything.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = join(import.meta.dirname, '..', '..');
const pcapModule = pathToFileURL(join(root, 'dist', 'capture', 'pcap.js')).href;

/** Reads three in-memory pcap files of `frames` records each, in 64 KiB chunks, marking where each starts. */
const script = (frames: number) => `
import { createPcapParser } from ${JSON.stringify(pcapModule)};
const sink = { onInterface() {}, onFrame() {}, onProblem() {} };
const record = 16 + 60;
const file = new Uint8Array(24 + ${frames} * record);
const view = new DataView(file.buffer);
view.setUint32(0, 0xa1b2c3d4, true);
view.setUint16(4, 2, true);
view.setUint16(6, 4, true);
view.setUint32(16, 262144, true);
view.setUint32(20, 1, true);
for (let i = 0, p = 24; i < ${frames}; i++, p += record) {
  view.setUint32(p, 1700000000 + (i >> 10), true);
  view.setUint32(p + 4, (i & 1023) * 900, true);
  view.setUint32(p + 8, 60, true);
  view.setUint32(p + 12, 60, true);
}
for (const name of ['first', 'second', 'third']) {
  console.log('FILE ' + name);
  const parser = createPcapParser(sink);
  for (let at = 0; at < file.length; at += 65536) parser.push(file.subarray(at, at + 65536));
  parser.end();
  if (parser.frames !== ${frames}) throw new Error('read ' + parser.frames + ' frames');
}
console.log('DONE');
`;

describe('the pcap fast loop across files', () => {
  it('stays compiled from the first file to the last', () => {
    // Feedback from the first call, as the analysis session asks of V8 (pipeline/session.ts): each
    // file's first record takes the loop's early exit, and V8 records that only so.
    const child = spawnSync(
      process.execPath,
      [
        '--no-lazy-feedback-allocation',
        '--trace-opt',
        '--trace-deopt',
        '--input-type=module',
        '-e',
        // A million records a file: V8 compiles the loop on another thread, and a loaded machine (CI)
        // may take its time; the first file must outlast that.
        script(1_000_000),
      ],
      { encoding: 'utf8' },
    );
    expect(child.stderr).toBe('');
    expect(child.status).toBe(0);
    const lines = child.stdout.split('\n');
    const at = (marker: string) => lines.indexOf(marker);
    expect(at('DONE')).toBeGreaterThan(at('FILE third'));
    // The first file is long enough for V8 to compile the loop while reading it; otherwise this
    // test would check nothing.
    const compiled = lines.findIndex((l) => l.includes('completed optimizing') && l.includes('fastWalk'));
    expect(compiled).toBeGreaterThan(at('FILE first'));
    expect(compiled).toBeLessThan(at('FILE second'));
    // From then on, to the end of the last file: never thrown away.
    const thrownAway = lines
      .slice(compiled)
      .filter((l) => l.includes('fastWalk') && /deoptimiz|bailout/.test(l));
    expect(thrownAway).toEqual([]);
  });
});
