// readCapture end to end: regular files (small chunks too, with progress), gzip detected by its
// magic (whatever the name), a FIFO fed by a writer process (the stream path stdin also takes),
// `-` with an injected stdin stream, and every way the input can be unreadable: a directory, a
// missing file, no permission, an empty file, a text file, corrupt gzip; problems that keep the
// frames: a truncated last record, a record above 256 KiB, a gzip stream that breaks off.
import { execFileSync, spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { createPcapParser, PCAP_MAGIC_MICRO } from '../../src/capture/pcap.js';
import { detectFormat, type OpenedFile, openAhead, readCapture } from '../../src/capture/read.js';
import { CaptureOpenError, EmptyCaptureError, NotACaptureError } from '../../src/errors.js';
import { buildPcap, collect, frameDifference, root, samplePaths } from './helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'hopscope-capture-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const samplePath = samplePaths.find((p) => p.endsWith('pmtu-underlay/guest1-eth0.pcap')) as string;
const sample = readFileSync(samplePath);
const ngPath = join(root, 'test/fixtures/pmtu-guest1-eth0.pcapng');

function reference(bytes: Uint8Array) {
  const c = collect();
  const p = createPcapParser(c.sink);
  p.push(bytes);
  p.end();
  return c;
}
const expectedFrames = reference(sample).frames;

function file(name: string, bytes: Uint8Array | string): string {
  const path = join(dir, name);
  writeFileSync(path, bytes);
  return path;
}

describe('detectFormat', () => {
  it('names the format of the first bytes', () => {
    expect(detectFormat(sample.subarray(0, 4))).toBe('pcap');
    expect(detectFormat(readFileSync(ngPath).subarray(0, 4))).toBe('pcapng');
    expect(detectFormat(Buffer.from([0xa1, 0xb2, 0x3c, 0x4d]))).toBe('pcap-ns');
    expect(detectFormat(Buffer.from([0x4d, 0x3c, 0xb2, 0xa1]))).toBe('pcap-ns');
    expect(detectFormat(Buffer.from('GET /'))).toBeNull();
    expect(detectFormat(Buffer.from([0xd4, 0xc3]))).toBeNull();
  });
});

describe('readCapture', () => {
  it('reads a regular file, in 1 MiB or in 1000-byte reads, reporting progress', async () => {
    for (const chunkSize of [undefined, 1000]) {
      const c = collect();
      const progress: Array<[number, number | null]> = [];
      const summary = await readCapture(samplePath, c.sink, {
        chunkSize,
        onProgress: (read, total) => progress.push([read, total]),
      });
      expect(summary).toEqual({
        path: samplePath,
        format: 'pcap',
        compressed: false,
        frames: expectedFrames.length,
        bytes: sample.length,
        interfaces: [{ interfaceId: 0, linkType: 1, snaplen: 256, name: null, description: null }],
        problems: 0,
      });
      expect(frameDifference(c.frames, expectedFrames)).toBeNull();
      expect(progress.at(-1)).toEqual([sample.length, sample.length]);
      expect(progress.length).toBe(chunkSize ? Math.ceil(sample.length / chunkSize) : 1);
    }
  });

  it('ramps up its first reads once per process, not for every file', async () => {
    // Reads of 16 KiB, then 4x larger up to the chunk, show V8 a chunk end early; a second file
    // has nothing left to show and is read in whole chunks from its first read.
    const big = join(root, 'samples/jumbo-underlay/host1-phy0.pcap');
    const chunkSize = 64 * 1024;
    const steps = async () => {
      const progress: number[] = [];
      await readCapture(big, collect().sink, { chunkSize, onProgress: (read) => progress.push(read) });
      return progress.map((read, i) => read - (progress[i - 1] ?? 0));
    };
    const first = await steps();
    const second = await steps();
    expect(first.reduce((a, b) => a + b, 0)).toBe(second.reduce((a, b) => a + b, 0));
    expect(second.slice(0, -1).every((step) => step === chunkSize)).toBe(true);
  });

  it('reads a file opened ahead (its first chunk read) as it reads it opened in turn', async () => {
    const big = join(root, 'samples/jumbo-underlay/host1-phy0.pcap');
    const chunkSize = 64 * 1024;
    const read = async (opened?: Promise<OpenedFile>) => {
      const c = collect();
      const progress: number[] = [];
      const summary = await readCapture(big, c.sink, {
        chunkSize,
        ...(opened !== undefined ? { opened } : {}),
        onProgress: (bytes) => progress.push(bytes),
      });
      return { summary, frames: c.frames, progress };
    };
    const inTurn = await read();
    const ahead = await read(openAhead(big, { chunkSize }));
    expect(ahead.summary).toEqual(inTurn.summary);
    expect(frameDifference(ahead.frames, inTurn.frames)).toBeNull();
    // Read ahead: the first chunk was whole (the ramp is done after the first file).
    expect(ahead.progress[0]).toBe(chunkSize);
    expect(ahead.progress.at(-1)).toBe(readFileSync(big).length);
  });

  it('says a file opened ahead cannot be opened at its turn, and a file never read is no unhandled rejection', async () => {
    const missing = join(tmpdir(), `hopscope-missing-${process.pid}.pcap`);
    openAhead(missing); // never read: nothing may surface
    const error = await readCapture(missing, collect().sink, { opened: openAhead(missing) }).catch((e) => e);
    expect(error).toBeInstanceOf(CaptureOpenError);
    expect(String(error.message)).toContain('no such file');
    // A directory opened ahead is refused at its turn, as one opened in turn is.
    const dir = await readCapture(root, collect().sink, { opened: openAhead(root) }).catch((e) => e);
    expect(dir).toBeInstanceOf(CaptureOpenError);
    expect(String(dir.message)).toContain('is a directory');
  });

  it('reads pcapng', async () => {
    const c = collect();
    const summary = await readCapture(ngPath, c.sink);
    expect(summary).toMatchObject({
      format: 'pcapng',
      compressed: false,
      frames: expectedFrames.length,
      problems: 0,
    });
  });

  it('gunzips by magic, not by name, for pcap and pcapng', async () => {
    const gz = file('guest1.pcap', gzipSync(sample));
    const c = collect();
    const summary = await readCapture(gz, c.sink, { chunkSize: 4096 });
    expect(summary).toMatchObject({
      format: 'pcap',
      compressed: true,
      frames: expectedFrames.length,
      bytes: sample.length,
    });
    expect(frameDifference(c.frames, expectedFrames)).toBeNull();
    const ngGz = file('guest1.pcapng.gz', gzipSync(readFileSync(ngPath)));
    expect(await readCapture(ngGz, collect().sink)).toMatchObject({ format: 'pcapng', compressed: true });
  });

  it('reads a FIFO fed by another process, plain and gzipped (the stream path)', async () => {
    for (const [name, bytes] of [
      ['plain', sample],
      ['gz', gzipSync(sample)],
    ] as const) {
      const fifo = join(dir, `fifo-${name}`);
      execFileSync('mkfifo', [fifo]);
      const src = file(`fifo-src-${name}`, bytes);
      const writer = spawn('sh', ['-c', 'cat "$1" > "$2"', 'sh', src, fifo], { stdio: 'ignore' });
      const exited = new Promise((resolve) => writer.on('exit', resolve));
      const c = collect();
      const progress: Array<number | null> = [];
      const summary = await readCapture(fifo, c.sink, { onProgress: (_r, total) => progress.push(total) });
      expect(await exited).toBe(0);
      expect(summary).toMatchObject({
        format: 'pcap',
        compressed: name === 'gz',
        frames: expectedFrames.length,
      });
      expect(frameDifference(c.frames, expectedFrames)).toBeNull();
      expect(progress.every((t) => t === null)).toBe(true);
    }
  });

  it('reads `-` from stdin (an injected stream here), in tiny chunks too', async () => {
    for (const size of [1, 7, 65536]) {
      const chunks: Buffer[] = [];
      for (let p = 0; p < sample.length; p += size) chunks.push(sample.subarray(p, p + size));
      const c = collect();
      const summary = await readCapture('-', c.sink, { stdin: Readable.from(chunks) });
      expect(summary).toMatchObject({
        path: '-',
        format: 'pcap',
        frames: expectedFrames.length,
        problems: 0,
      });
      expect(frameDifference(c.frames, expectedFrames)).toBeNull();
    }
    await expect(readCapture('-', collect().sink, { stdin: Readable.from([]) })).rejects.toThrow(
      EmptyCaptureError,
    );
  });

  // vite-node (vitest's own runner) runs the TypeScript in a child; CI=true stops Vite from exiting
  // the child when stdin ends, which it otherwise does before the gzip stream is flushed.
  const viteNode = join(root, 'node_modules/.bin/vite-node');
  it.skipIf(!existsSync(viteNode))(
    'reads a real stdin pipe in a child process, plain and gzipped',
    async () => {
      for (const input of [sample, gzipSync(sample)]) {
        const child = spawn(viteNode, [join(root, 'test/fixtures/capture/read-stdin.ts')], {
          cwd: root,
          env: { ...process.env, CI: 'true' },
          stdio: ['pipe', 'pipe', 'inherit'],
        });
        let out = '';
        child.stdout.on('data', (d: Buffer) => {
          out += d.toString();
        });
        const exited = new Promise((resolve) => child.on('exit', resolve));
        child.stdin.end(input);
        expect(await exited).toBe(0);
        const dataBytes = expectedFrames.reduce((n, f) => n + f.data.length, 0);
        expect(JSON.parse(out)).toMatchObject({
          path: '-',
          format: 'pcap',
          compressed: input !== sample,
          frames: expectedFrames.length,
          dataBytes,
        });
      }
    },
  );

  it('names the path and what is wrong when the input cannot be read', async () => {
    const sink = collect().sink;
    await expect(readCapture(dir, sink)).rejects.toThrow(
      new CaptureOpenError(dir, 'is a directory, not a capture file'),
    );
    const missing = join(dir, 'nope.pcap');
    await expect(readCapture(missing, sink)).rejects.toThrow(`${missing}: no such file`);
    const empty = file('empty.pcap', '');
    await expect(readCapture(empty, sink)).rejects.toThrow(EmptyCaptureError);
    await expect(readCapture(empty, sink)).rejects.toThrow(`${empty}: the file is empty`);
    const text = file('notes.txt', 'hello, this is not a capture\n');
    await expect(readCapture(text, sink)).rejects.toThrow(NotACaptureError);
    await expect(readCapture(text, sink)).rejects.toThrow(
      `${text}: not a pcap or pcapng capture (first bytes: 68 65 6c 6c)`,
    );
    const tiny = file('tiny.pcap', Buffer.from([0xd4, 0xc3]));
    await expect(readCapture(tiny, sink)).rejects.toThrow(
      /tiny\.pcap: not a pcap or pcapng capture \(only 2 bytes: d4 c3\)/,
    );
    const gzText = file('notes.gz', gzipSync('plain text, compressed'));
    await expect(readCapture(gzText, sink)).rejects.toThrow(/first bytes: 70 6c 61 69/);
    const corrupt = file(
      'corrupt.pcap.gz',
      Buffer.concat([gzipSync(sample).subarray(0, 10), Buffer.alloc(64, 0xff)]),
    );
    await expect(readCapture(corrupt, sink)).rejects.toThrow(/corrupt\.pcap\.gz: corrupt gzip data: /);
    for (const err of [dir, missing, empty, text, corrupt].map((p) => readCapture(p, sink).catch((e) => e))) {
      const e = await err;
      expect(e).toBeInstanceOf(CaptureOpenError);
      expect(e.message).not.toContain('\n');
    }
  });

  it.skipIf(process.getuid?.() === 0)('says so when the file may not be read', async () => {
    const locked = file('locked.pcap', sample);
    chmodSync(locked, 0o000);
    await expect(readCapture(locked, collect().sink)).rejects.toThrow(`${locked}: permission denied`);
  });

  it('keeps the frames before a truncated last record', async () => {
    const path = file('cut.pcap', sample.subarray(0, sample.length - 5));
    const c = collect();
    const summary = await readCapture(path, c.sink, { chunkSize: 333 });
    expect(summary.frames).toBe(expectedFrames.length - 1);
    expect(summary.problems).toBe(1);
    expect(c.problems[0]).toMatchObject({ code: 'capture.truncated-file', frame: expectedFrames.length });
    expect(frameDifference(c.frames, expectedFrames.slice(0, -1))).toBeNull();
  });

  it('reports a record above 256 KiB as malformed and keeps the frames before it', async () => {
    const path = file(
      'huge.pcap',
      buildPcap(true, PCAP_MAGIC_MICRO, [
        [1_700_000_000, 0, [1, 2]],
        [1_700_000_001, 0, Buffer.alloc(262145)],
      ]),
    );
    const c = collect();
    const summary = await readCapture(path, c.sink);
    // the search for the next plausible record runs into the end of the file
    expect(summary).toMatchObject({ frames: 1, problems: 1 });
    expect(c.problems[0]).toMatchObject({ code: 'capture.malformed', frame: 2, offset: 42 });
  });

  it('reports a gzip stream that breaks off after frames as a truncated file', async () => {
    const gz = gzipSync(sample);
    const path = file('broken.pcap.gz', gz.subarray(0, Math.floor(gz.length / 2)));
    const c = collect();
    const summary = await readCapture(path, c.sink, { chunkSize: 2048 });
    expect(summary.compressed).toBe(true);
    expect(summary.frames).toBeGreaterThan(0);
    expect(summary.frames).toBeLessThan(expectedFrames.length);
    expect(summary.problems).toBe(1);
    expect(c.problems[0]?.code).toBe('capture.truncated-file');
    expect(c.problems[0]?.message).toMatch(/gzip stream breaks off/);
    expect(frameDifference(c.frames, expectedFrames.slice(0, c.frames.length))).toBeNull();
  });

  it('passes on what the sink throws', async () => {
    const sink = {
      ...collect().sink,
      onFrame: () => {
        throw new Error('sink failed');
      },
    };
    await expect(readCapture(samplePath, sink)).rejects.toThrow('sink failed');
    await expect(readCapture(file('sink.gz', gzipSync(sample)), sink)).rejects.toThrow('sink failed');
  });

  it('holds constant memory: a 48 MB capture read without keeping it', async () => {
    const body = sample.subarray(24);
    const copies = Math.ceil(48e6 / body.length);
    const big = join(dir, 'big.pcap');
    writeFileSync(
      big,
      Buffer.concat([sample.subarray(0, 24), ...Array.from({ length: copies }, () => body)]),
    );
    const base = process.memoryUsage();
    let peak = 0;
    let frames = 0;
    const summary = await readCapture(
      big,
      { onInterface() {}, onFrame: () => void frames++, onProblem() {} },
      {
        onProgress: () => {
          const m = process.memoryUsage();
          peak = Math.max(peak, m.arrayBuffers - base.arrayBuffers);
        },
      },
    );
    expect(summary.frames).toBe(copies * expectedFrames.length);
    expect(frames).toBe(summary.frames);
    // the 1 MiB read buffer and the carry buffer, not the file
    expect(peak).toBeLessThan(8 * 1024 * 1024);
  });
});
