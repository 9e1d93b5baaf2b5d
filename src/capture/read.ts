/**
 * readCapture: reads a capture file, stdin (`-`) or any other path (FIFO, character device) in
 * constant memory, gunzips it when its first bytes say gzip, detects the format from the first
 * decompressed bytes and drives the incremental pcap or pcapng parser.
 *
 *   regular file --FileHandle.read into one reused buffer--+
 *   stdin / FIFO / device --stream chunks------------------+--> [gunzip if 1f 8b] --> detect --> parser --> sink
 *
 * Memory held is the read buffer, zlib's window and the parser's carry buffer (bounded by the
 * largest legal record), whatever the size of the input: a 10 GB file uses what a 10 MB one does.
 *
 * What makes the input unreadable throws a CaptureOpenError (or its NotACaptureError /
 * EmptyCaptureError subclasses) with a one-line message naming the path: missing, a directory, no
 * permission, empty, not a capture (first 4 bytes in hex), corrupt gzip before any frame. A gzip
 * stream that breaks after frames were read is reported as 'capture.truncated-file' instead.
 */

import { constants, type Stats } from 'node:fs';
import { type FileHandle, open } from 'node:fs/promises';
import { createGunzip, type Gunzip } from 'node:zlib';
import { CaptureOpenError, EmptyCaptureError, NotACaptureError } from '../errors.js';
import type { CaptureFormat, CaptureInterface, CaptureProblem, CaptureSink, Frame } from './frame.js';
import { createPcapParser, PCAP_MAGIC_MICRO, PCAP_MAGIC_NANO } from './pcap.js';
import { createPcapngParser, PCAPNG_SHB } from './pcapng.js';
import { hexBytes, u32 } from './records.js';

export interface CaptureSummary {
  path: string;
  format: CaptureFormat;
  /** The input was gzip-compressed. */
  compressed: boolean;
  frames: number;
  /** Bytes of the (decompressed) capture stream. */
  bytes: number;
  interfaces: CaptureInterface[];
  /** How many problems were reported through onProblem. */
  problems: number;
}

export interface ReadCaptureOptions {
  /** Called after each chunk read: input bytes so far, and the file size (null for streams). */
  onProgress?: (bytesRead: number, totalBytes: number | null) => void;
  /** Read buffer size for regular files; default 1 MiB. */
  chunkSize?: number;
  /** The stream `-` stands for; default process.stdin (tests give another one). */
  stdin?: NodeJS.ReadableStream;
}

const DEFAULT_CHUNK = 1024 * 1024;

/** The capture format of a stream's first (decompressed) bytes, or null; needs 4 bytes. */
export function detectFormat(first: Uint8Array): CaptureFormat | null {
  if (first.length < 4) return null;
  if (u32(first, 0, true) === PCAPNG_SHB) return 'pcapng';
  for (const le of [true, false]) {
    const magic = u32(first, 0, le);
    if (magic === PCAP_MAGIC_MICRO) return 'pcap';
    if (magic === PCAP_MAGIC_NANO) return 'pcap-ns';
  }
  return null;
}

/** True when the bytes start with the gzip magic 1f 8b. */
export function isGzip(first: Uint8Array): boolean {
  return first.length >= 2 && first[0] === 0x1f && first[1] === 0x8b;
}

export async function readCapture(
  path: string,
  sink: CaptureSink,
  options: ReadCaptureOptions = {},
): Promise<CaptureSummary> {
  const decoded = new DecodedStage(path, sink);
  const raw = new RawStage(path, decoded);
  if (path === '-') {
    await pumpStream(options.stdin ?? process.stdin, raw, options, path);
  } else {
    const handle = await openInput(path);
    try {
      const stats = await handle.stat();
      if (stats.isDirectory()) throw new CaptureOpenError(path, 'is a directory, not a capture file');
      if (stats.isFile()) await pumpFile(handle, stats, raw, options, path);
      else await pumpStream(handle.createReadStream({ autoClose: false }), raw, options, path);
    } finally {
      await handle.close();
    }
  }
  await raw.end();
  return decoded.summary(raw.compressed);
}

async function openInput(path: string): Promise<FileHandle> {
  try {
    // O_NONBLOCK is not used: opening a FIFO waits (off the main thread) for its writer.
    return await open(path, constants.O_RDONLY);
  } catch (err) {
    throw new CaptureOpenError(path, openFailure(err), 0, { cause: err });
  }
}

function openFailure(err: unknown): string {
  const code = (err as NodeJS.ErrnoException).code;
  if (code === 'ENOENT') return 'no such file';
  if (code === 'EACCES' || code === 'EPERM') return 'permission denied';
  if (code === 'EISDIR') return 'is a directory, not a capture file';
  return `cannot open: ${(err as Error).message}`;
}

/** Regular files: one reused buffer, FileHandle.read until the end. */
async function pumpFile(
  handle: FileHandle,
  stats: Stats,
  raw: RawStage,
  options: ReadCaptureOptions,
  path: string,
): Promise<void> {
  if (stats.size === 0) throw new EmptyCaptureError(path, 'the file is empty');
  // Two buffers: the next chunk is read (in libuv's thread pool) while this one is parsed, so the
  // disk and the parser overlap. A buffer is reused only after the parser is done with it (it
  // copies records that straddle chunks into its own carry buffer).
  const size = options.chunkSize ?? DEFAULT_CHUNK;
  let current = new Uint8Array(size);
  let next = new Uint8Array(size);
  let total = 0;
  const readInto = (buffer: Uint8Array) =>
    handle.read(buffer, 0, buffer.length, null).then(
      (result) => result.bytesRead,
      (err: unknown) => {
        throw new CaptureOpenError(path, `read failed: ${(err as Error).message}`, total, { cause: err });
      },
    );
  let pending = readInto(current);
  for (;;) {
    const n = await pending;
    if (n === 0) break;
    total += n;
    pending = readInto(next);
    await raw.write(n === current.length ? current : current.subarray(0, n));
    options.onProgress?.(total, stats.size);
    if (raw.done) {
      await pending.catch(() => 0);
      break;
    }
    const used = current;
    current = next;
    next = used;
  }
}

/** stdin, FIFOs, devices: whatever chunks the stream gives. */
async function pumpStream(
  stream: NodeJS.ReadableStream,
  raw: RawStage,
  options: ReadCaptureOptions,
  path: string,
): Promise<void> {
  let total = 0;
  try {
    for await (const chunk of stream) {
      const bytes = typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Uint8Array);
      total += bytes.length;
      await raw.write(bytes);
      options.onProgress?.(total, null);
      if (raw.done) break;
    }
  } catch (err) {
    if (err instanceof CaptureOpenError) throw err;
    throw new CaptureOpenError(path, `read failed: ${(err as Error).message}`, total, { cause: err });
  }
}

/**
 * The input bytes: decides on the first two bytes whether they are gzip, then passes them on
 * (through a streaming gunzip when they are).
 */
class RawStage {
  compressed = false;
  private head: Uint8Array | null = new Uint8Array(0);
  private gunzip: Gunzip | null = null;
  private gunzipError: Error | null = null;

  constructor(
    private readonly path: string,
    private readonly decoded: DecodedStage,
  ) {}

  /** True once nothing more needs to be read. */
  get done(): boolean {
    return this.decoded.done;
  }

  async write(chunk: Uint8Array): Promise<void> {
    if (this.head !== null) {
      if (this.head.length + chunk.length < 2) {
        this.head = concat(this.head, chunk);
        return;
      }
      const first = this.head.length > 0 ? concat(this.head, chunk) : chunk;
      this.head = null;
      if (isGzip(first)) this.startGunzip();
      await this.pass(first);
      return;
    }
    await this.pass(chunk);
  }

  async end(): Promise<void> {
    if (this.head !== null) {
      const first = this.head;
      this.head = null;
      await this.pass(first);
    }
    if (this.gunzip !== null) await this.endGunzip(this.gunzip);
    this.decoded.end();
  }

  private async pass(chunk: Uint8Array): Promise<void> {
    if (this.gunzip === null) {
      this.decoded.push(chunk);
      return;
    }
    const gunzip = this.gunzip;
    // The write callback fires once zlib has consumed the chunk, so the read buffer may be reused.
    await writeConsumed(gunzip, chunk);
    this.checkGunzip();
    this.decoded.rethrow();
  }

  private startGunzip(): void {
    this.compressed = true;
    const gunzip = createGunzip();
    gunzip.on('data', (out: Buffer) => this.decoded.push(out));
    gunzip.on('error', (err) => {
      this.gunzipError ??= err;
    });
    this.gunzip = gunzip;
  }

  private endGunzip(gunzip: Gunzip): Promise<void> {
    return new Promise<void>((resolve) => {
      if (this.gunzipError !== null || gunzip.destroyed) {
        resolve();
        return;
      }
      gunzip.once('end', resolve);
      gunzip.once('error', () => resolve());
      gunzip.end();
    }).then(() => {
      this.checkGunzip();
      this.decoded.rethrow();
    });
  }

  /** A broken gzip stream: fatal before the first frame, a truncated file after it. */
  private checkGunzip(): void {
    const err = this.gunzipError;
    if (err === null || this.decoded.done) return;
    if (this.decoded.frames === 0) {
      this.gunzip?.destroy();
      throw new CaptureOpenError(this.path, `corrupt gzip data: ${err.message}`, 0, { cause: err });
    }
    this.decoded.breakOff(`the gzip stream breaks off (${err.message})`);
    this.gunzip?.destroy();
  }
}

/**
 * The decompressed capture stream: detects the format on its first 4 bytes, then feeds the parser.
 * Runs inside zlib's 'data' events, so failures are kept and rethrown by the caller.
 */
class DecodedStage {
  format: CaptureFormat | null = null;
  done = false;
  private parser: {
    push(c: Uint8Array): void;
    end(): void;
    readonly bytes: number;
    readonly stopped: boolean;
  } | null = null;
  private head: Uint8Array = new Uint8Array(0);
  private failure: unknown = null;
  private frameCount = 0;
  private problemCount = 0;
  private readonly interfaces: CaptureInterface[] = [];
  private readonly counting: CaptureSink;

  constructor(
    private readonly path: string,
    sink: CaptureSink,
  ) {
    this.counting = {
      onInterface: (iface: CaptureInterface) => {
        this.interfaces.push({ ...iface });
        sink.onInterface(iface);
      },
      onFrame: (frame: Frame) => {
        this.frameCount++;
        sink.onFrame(frame);
      },
      onProblem: (problem: CaptureProblem) => {
        this.problemCount++;
        sink.onProblem(problem);
      },
    };
  }

  get frames(): number {
    return this.frameCount;
  }

  push(chunk: Uint8Array): void {
    if (this.done) return;
    try {
      if (this.parser === null) this.detect(chunk);
      else this.parser.push(chunk);
      if (this.parser?.stopped) this.done = true;
    } catch (err) {
      this.failure ??= err;
      this.done = true;
    }
  }

  /** Throws what went wrong inside push, if anything. */
  rethrow(): void {
    if (this.failure !== null) throw this.failure;
  }

  /** The input ended without all of the capture: reported, frames kept. */
  breakOff(why: string): void {
    const offset = this.parser?.bytes ?? 0;
    this.counting.onProblem({
      code: 'capture.truncated-file',
      frame: this.frameCount + 1,
      offset,
      message: `frame ${this.frameCount + 1} at offset ${offset}: ${why}; the frames before it are kept`,
    });
    this.done = true;
  }

  end(): void {
    this.rethrow();
    if (this.parser === null) {
      if (this.head.length === 0) throw new EmptyCaptureError(this.path, 'no bytes to read (empty input)');
      throw this.notACapture(this.head);
    }
    if (!this.done) this.parser.end();
    this.done = true;
  }

  summary(compressed: boolean): CaptureSummary {
    return {
      path: this.path,
      format: this.format ?? 'pcap',
      compressed,
      frames: this.frameCount,
      bytes: this.parser?.bytes ?? 0,
      interfaces: this.interfaces,
      problems: this.problemCount,
    };
  }

  private detect(chunk: Uint8Array): void {
    const first = this.head.length > 0 ? concat(this.head, chunk) : chunk;
    if (first.length < 4) {
      this.head = concat(this.head, chunk);
      return;
    }
    const format = detectFormat(first);
    if (format === null) throw this.notACapture(first);
    this.format = format;
    this.parser = format === 'pcapng' ? createPcapngParser(this.counting) : createPcapParser(this.counting);
    this.parser.push(first);
  }

  private notACapture(first: Uint8Array): NotACaptureError {
    const shown = first.length >= 4 ? 'first bytes' : `only ${first.length} bytes`;
    return new NotACaptureError(
      this.path,
      `not a pcap or pcapng capture (${shown}: ${hexBytes(first) || 'none'})`,
    );
  }
}

/** Writes to zlib and waits until it has consumed the chunk, or failed. */
function writeConsumed(gunzip: Gunzip, chunk: Uint8Array): Promise<void> {
  return new Promise<void>((resolve) => {
    const settle = () => {
      gunzip.off('error', settle);
      resolve();
    };
    gunzip.once('error', settle);
    gunzip.write(chunk, settle);
  });
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}
