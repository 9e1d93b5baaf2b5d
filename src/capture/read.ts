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
import { createRequire } from 'node:module';
import type { InflateRaw } from 'node:zlib';
import { CaptureOpenError, EmptyCaptureError, NotACaptureError } from '../errors.js';
import type {
  CaptureFormat,
  CaptureInterface,
  CaptureProblem,
  CaptureSink,
  CaptureStatistics,
  Frame,
} from './frame.js';
import { createPcapParser, PCAP_MAGIC_MICRO, PCAP_MAGIC_NANO } from './pcap.js';
import { createPcapngParser, PCAPNG_SHB } from './pcapng.js';
import { hexBytes, u32 } from './records.js';

/**
 * node:zlib, loaded at the first gzip-compressed capture: most runs read none, and loading it with
 * worker_threads (parallel.ts) cost every run ~2 ms of start-up.
 */
let zlibModule: typeof import('node:zlib') | undefined;
function zlib(): typeof import('node:zlib') {
  zlibModule ??= createRequire(import.meta.url)('node:zlib') as typeof import('node:zlib');
  return zlibModule;
}

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
  /**
   * The bytes to read instead of opening `path` (which then only names them in messages): a
   * reader that paces the input itself, as annotate's merge of several files does.
   */
  source?: AsyncIterable<Uint8Array>;
  /** `path` already opened, and its first chunk read, by openAhead (the same chunk size). */
  opened?: Promise<OpenedFile>;
}

const DEFAULT_CHUNK = 1024 * 1024;

/**
 * The first reads of a file larger than one chunk are this small (then 4x larger each, up to the chunk size). V8
 * optimises the per-frame code while it runs over the first chunk, before that code has seen a
 * chunk end (a record cut by it, the other read buffer): the first 1 MiB chunk end would then
 * throw the optimised code away and compile it again. A few small chunks show V8 those paths
 * first; on a million frames this removes several recompilations of the hot path.
 */
const FIRST_READ = 16 * 1024;

/**
 * Whether a file of this process was read with the ramp above: after one, the per-frame code has
 * seen chunk ends, and the next files start at the full chunk. Ten captures read one after another
 * paid each its own ramp (four small reads instead of one, each a round trip through libuv's
 * thread pool).
 */
let rampDone = false;

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
  if (options.source !== undefined) {
    await pumpStream(options.source, raw, options, path);
  } else if (path === '-') {
    await pumpStream(options.stdin ?? process.stdin, raw, options, path);
  } else {
    const { handle, stats, first } = await (options.opened ?? openFile(path));
    try {
      if (stats.isDirectory()) throw new CaptureOpenError(path, 'is a directory, not a capture file');
      if (stats.isFile()) await pumpFile(handle, stats, raw, options, path, first);
      else await pumpStream(handle.createReadStream({ autoClose: false }), raw, options, path);
    } finally {
      await handle.close();
    }
  }
  await raw.end();
  return decoded.summary(raw.compressed);
}

/**
 * The bytes of the file at `path` for readCapture's `source`, `chunkBytes` at a time, each in a new
 * buffer as a stream's chunks are. `beforeRead` paces the reading: it may wait (annotate's merge),
 * and answers false to stop before the file ends (evidence, once every wanted frame is found).
 */
export async function* pacedFileChunks(
  path: string,
  chunkBytes: number,
  beforeRead: () => boolean | Promise<boolean>,
): AsyncGenerator<Uint8Array> {
  const handle = await openInput(path);
  try {
    while (await beforeRead()) {
      const buffer = new Uint8Array(chunkBytes);
      const { bytesRead } = await handle.read(buffer, 0, chunkBytes, null);
      if (bytesRead === 0) return;
      yield buffer.subarray(0, bytesRead);
    }
  } finally {
    await handle.close();
  }
}

/** A file opened for readCapture, with its first chunk when openAhead read it. */
export interface OpenedFile {
  handle: FileHandle;
  stats: Stats;
  /** The first chunk (in a read buffer of the chunk size), or null: pumpFile reads it. */
  first: FirstChunk | null;
}

interface FirstChunk {
  buffer: Uint8Array;
  bytes: number;
}

async function openFile(path: string): Promise<OpenedFile> {
  const handle = await openInput(path);
  try {
    return { handle, stats: await handle.stat(), first: null };
  } catch (err) {
    await handle.close().catch(() => {});
    throw new CaptureOpenError(path, openFailure(err), 0, { cause: err });
  }
}

/**
 * Opens the regular file at `path` and reads its first chunk, ahead of its turn: readCapture's
 * `opened`. Files read one after another (analyze of ten hops) start each with an open, a stat and
 * a first read, three round trips through libuv's thread pool that leave the main thread idle at
 * every file's start (~0.6-1 ms each); begun while the file before is parsed, they overlap it.
 * Fails as readCapture would, when the file's turn comes: the promise's rejection is handled here,
 * so that a file never read leaves none unhandled.
 */
export function openAhead(
  path: string,
  options: Pick<ReadCaptureOptions, 'chunkSize'> = {},
): Promise<OpenedFile> {
  const opened = openFile(path).then(async (file) => {
    const size = options.chunkSize ?? DEFAULT_CHUNK;
    // The ramp's small first reads are pumpFile's to make, and only a regular file is read ahead.
    if (!rampDone || !file.stats.isFile() || file.stats.size === 0) return file;
    const buffer = takeBuffer(size);
    try {
      const { bytesRead } = await file.handle.read(buffer, 0, size, null);
      return { ...file, first: { buffer, bytes: bytesRead } };
    } catch (err) {
      await file.handle.close().catch(() => {});
      throw new CaptureOpenError(path, `read failed: ${(err as Error).message}`, 0, { cause: err });
    }
  });
  opened.catch(() => {});
  return opened;
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

/**
 * Read buffers of files already read, for the next file: ten captures read one after another
 * would otherwise allocate (and zero) 20 MiB, and their external memory drives the GC. Three: a
 * file's two, and the one openAhead reads the next file's first chunk into.
 */
const spareBuffers: Uint8Array[] = [];
const SPARE_BUFFERS = 3;

function takeBuffer(size: number): Uint8Array {
  const spare = spareBuffers.pop();
  return spare !== undefined && spare.length === size ? spare : new Uint8Array(size);
}

/** Regular files: one reused buffer, FileHandle.read until the end. */
async function pumpFile(
  handle: FileHandle,
  stats: Stats,
  raw: RawStage,
  options: ReadCaptureOptions,
  path: string,
  first: FirstChunk | null,
): Promise<void> {
  if (stats.size === 0) throw new EmptyCaptureError(path, 'the file is empty');
  // The chunk size openAhead read the first chunk at (it took it from the same options).
  const size = first?.buffer.length ?? options.chunkSize ?? DEFAULT_CHUNK;
  // Two buffers: the next chunk is read (in libuv's thread pool) while this one is parsed, so the
  // disk and the parser overlap. A buffer is reused only after the parser is done with it (it
  // copies records that straddle chunks into its own carry buffer).
  let current = first?.buffer ?? takeBuffer(size);
  let next = takeBuffer(size);
  let total = 0;
  // A file read in one chunk has no chunk end to show V8 and is over before it optimises anything.
  let ramp = stats.size > size && !rampDone ? Math.min(FIRST_READ, size) : size;
  const readInto = (buffer: Uint8Array) => {
    const length = ramp;
    ramp = Math.min(ramp * 4, size);
    if (ramp === size && stats.size > size) rampDone = true;
    return handle.read(buffer, 0, length, null).then(
      (result) => result.bytesRead,
      (err: unknown) => {
        throw new CaptureOpenError(path, `read failed: ${(err as Error).message}`, total, { cause: err });
      },
    );
  };
  let pending = first !== null ? Promise.resolve(first.bytes) : readInto(current);
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
  // The parser copied what it keeps (records that straddle chunks) into its own carry buffer.
  await pending.catch(() => 0);
  spareBuffers.push(current, next);
  if (spareBuffers.length > SPARE_BUFFERS) spareBuffers.splice(0, spareBuffers.length - SPARE_BUFFERS);
}

/** stdin, FIFOs, devices: whatever chunks the stream gives. */
async function pumpStream(
  stream: AsyncIterable<string | Uint8Array>,
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
  private gunzip: GunzipStage | null = null;

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
      if (isGzip(first)) {
        this.compressed = true;
        this.gunzip = new GunzipStage(this.path, this.decoded);
      }
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
    if (this.gunzip !== null) await this.gunzip.end();
    this.decoded.end();
  }

  private async pass(chunk: Uint8Array): Promise<void> {
    if (this.gunzip === null) this.decoded.push(chunk);
    else await this.gunzip.write(chunk);
  }
}

const GZIP_TRAILER = 8;
/** Header flags (RFC 1952). */
const FHCRC = 2;
const FEXTRA = 4;
const FNAME = 8;
const FCOMMENT = 16;

/** Length of the gzip member header at the start of b, 0 when more bytes are needed, -1 when it is no gzip header. */
function gzipHeaderLength(b: Uint8Array): number {
  if (b.length < 10) return 0;
  if (b[0] !== 0x1f || b[1] !== 0x8b || b[2] !== 8) return -1;
  const flags = b[3] as number;
  let p = 10;
  if (flags & FEXTRA) {
    if (b.length < p + 2) return 0;
    p += 2 + ((b[p] as number) | ((b[p + 1] as number) << 8));
  }
  for (const flag of [FNAME, FCOMMENT]) {
    if (flags & flag) {
      while (p < b.length && b[p] !== 0) p++;
      if (p >= b.length) return 0;
      p++;
    }
  }
  if (flags & FHCRC) p += 2;
  return b.length >= p ? p : 0;
}

/**
 * A streaming gunzip that keeps every byte zlib could decompress, as zcat does: the gzip header
 * is read here, the deflate data goes through zlib's raw inflate, and the trailer (CRC-32 and
 * length) is checked here, so a bad CRC or junk after the data is one warning line instead of the
 * loss of the output still queued in zlib. Concatenated members are read one after the other.
 * A break inside the deflate data itself is fatal before the first frame, a truncated file after it.
 */
class GunzipStage {
  private state: 'header' | 'deflate' | 'trailer' | 'after' = 'header';
  /** Header, trailer or next-magic bytes collected so far. */
  private held: Uint8Array = new Uint8Array(0);
  private inflate: InflateRaw | null = null;
  private inflateError: Error | null = null;
  private inflateEnded = false;
  /** Compressed bytes written to the current inflate. */
  private written = 0;
  private crc = 0;
  private size = 0;
  private members = 0;
  /** Compressed bytes seen before the current chunk. */
  private seen = 0;
  /** Compressed offset where the current state began. */
  private stateOffset = 0;
  private junkBytes = 0;
  private junkZero = true;
  private failed = false;

  constructor(
    private readonly path: string,
    private readonly decoded: DecodedStage,
  ) {}

  async write(chunk: Uint8Array): Promise<void> {
    let pos = 0;
    while (pos < chunk.length && !this.failed && !this.decoded.done) {
      if (this.state === 'deflate') pos = await this.writeDeflate(chunk, pos);
      else if (this.state === 'trailer') {
        const take = Math.min(GZIP_TRAILER - this.held.length, chunk.length - pos);
        this.held = concat(this.held, chunk.subarray(pos, pos + take));
        pos += take;
        if (this.held.length === GZIP_TRAILER) this.checkTrailer();
      } else if (this.state === 'header') {
        const before = this.held.length;
        this.held = concat(this.held, chunk.subarray(pos));
        const length = gzipHeaderLength(this.held);
        if (length === 0) pos = chunk.length;
        else if (length < 0) {
          if (this.members === 0) this.fail(new Error('not a gzip header'));
          this.startJunk(this.held);
          pos = chunk.length;
        } else {
          pos += length - before;
          this.startMember(this.seen + pos);
        }
      } else {
        // after a member: another member, or junk to the end
        if (this.junkBytes === 0 && this.held.length < 2) {
          const take = Math.min(2 - this.held.length, chunk.length - pos);
          this.held = concat(this.held, chunk.subarray(pos, pos + take));
          pos += take;
          if (this.held.length < 2) continue;
          if (this.held[0] === 0x1f && this.held[1] === 0x8b) this.state = 'header';
          else this.startJunk(this.held);
          continue;
        }
        this.countJunk(chunk.subarray(pos));
        pos = chunk.length;
      }
    }
    this.seen += chunk.length;
  }

  async end(): Promise<void> {
    if (this.failed || this.decoded.done) return;
    if (this.state === 'deflate' && this.inflate !== null) {
      const inflate = this.inflate;
      await new Promise<void>((resolve) => {
        if (this.inflateError !== null || this.inflateEnded) {
          resolve();
          return;
        }
        inflate.once('end', resolve);
        inflate.once('error', () => resolve());
        inflate.end();
      });
      if (this.inflateError !== null) this.broken(this.inflateError);
      else
        this.warn(`the gzip stream ends right after its deflate data (no trailer): the CRC is not checked`);
    } else if (this.state === 'trailer') {
      this.warn(`the gzip stream ends inside its ${GZIP_TRAILER}-byte trailer: the CRC is not checked`);
    } else if (this.state === 'header' && this.held.length > 0) {
      if (this.members === 0) this.fail(new Error('the gzip header is cut off'));
      else this.startJunk(this.held);
    } else if (this.state === 'after' && this.junkBytes === 0 && this.held.length > 0) {
      this.startJunk(this.held);
    }
    if (this.junkBytes > 0) {
      this.warn(
        this.junkZero
          ? `${this.junkBytes} zero bytes after the gzip data at compressed offset ${this.stateOffset}, ignored`
          : `${this.junkBytes} bytes of trailing junk after the gzip data at compressed offset ${this.stateOffset}, ignored (every decompressed byte is kept)`,
      );
    }
  }

  private startMember(offset: number): void {
    const { crc32, createInflateRaw } = zlib();
    this.members++;
    this.held = new Uint8Array(0);
    this.state = 'deflate';
    this.stateOffset = offset;
    this.written = 0;
    this.crc = 0;
    this.size = 0;
    this.inflateEnded = false;
    const inflate = createInflateRaw();
    inflate.on('data', (out: Buffer) => {
      this.crc = crc32(out, this.crc);
      this.size = (this.size + out.length) % 4294967296;
      this.decoded.push(out);
    });
    inflate.on('error', (err) => {
      this.inflateError ??= err;
    });
    inflate.on('end', () => {
      this.inflateEnded = true;
    });
    this.inflate = inflate;
  }

  /** Writes chunk[pos..] to zlib; when the deflate data ends inside it, moves on to the trailer. */
  private async writeDeflate(chunk: Uint8Array, pos: number): Promise<number> {
    const inflate = this.inflate as InflateRaw;
    const slice = pos === 0 ? chunk : chunk.subarray(pos);
    this.written += slice.length;
    // The write callback fires once zlib has consumed the chunk, so the read buffer may be reused.
    await writeConsumed(inflate, slice);
    if (this.inflateError !== null) {
      this.broken(this.inflateError);
      return chunk.length;
    }
    const unconsumed = this.written - inflate.bytesWritten;
    if (unconsumed <= 0) return chunk.length;
    if (!this.inflateEnded) await new Promise<void>((resolve) => inflate.once('end', resolve));
    inflate.destroy();
    this.inflate = null;
    this.state = 'trailer';
    this.held = new Uint8Array(0);
    this.stateOffset = this.seen + chunk.length - unconsumed;
    return chunk.length - unconsumed;
  }

  private checkTrailer(): void {
    const t = this.held;
    const crc =
      ((t[0] as number) | ((t[1] as number) << 8) | ((t[2] as number) << 16) | ((t[3] as number) << 24)) >>>
      0;
    const size =
      ((t[4] as number) | ((t[5] as number) << 8) | ((t[6] as number) << 16) | ((t[7] as number) << 24)) >>>
      0;
    if (crc !== this.crc >>> 0 || size !== this.size) {
      this.warn(
        `the gzip trailer at compressed offset ${this.stateOffset} does not match the data (CRC-32 ${hex32(crc)} against ${hex32(this.crc)}, length ${size} against ${this.size}); every decompressed byte is kept`,
      );
    }
    this.held = new Uint8Array(0);
    this.state = 'after';
    this.stateOffset += GZIP_TRAILER;
  }

  private startJunk(bytes: Uint8Array): void {
    this.state = 'after';
    this.held = new Uint8Array(0);
    this.countJunk(bytes);
  }

  private countJunk(bytes: Uint8Array): void {
    this.junkBytes += bytes.length;
    if (this.junkZero) for (const x of bytes) if (x !== 0) this.junkZero = false;
  }

  private warn(what: string): void {
    this.decoded.warn(what);
  }

  /** A break inside the deflate data: fatal before the first frame, a truncated file after it. */
  private broken(err: Error): void {
    this.failed = true;
    this.inflate?.destroy();
    if (this.decoded.frames === 0) this.fail(err);
    else this.decoded.breakOff(`the gzip stream breaks off (${err.message})`);
  }

  private fail(err: Error): never {
    this.failed = true;
    throw new CaptureOpenError(this.path, `corrupt gzip data: ${err.message}`, 0, { cause: err });
  }
}

function hex32(x: number): string {
  return `0x${(x >>> 0).toString(16).padStart(8, '0')}`;
}

/**
 * Counts what a parser hands on, and hands it on (interface statistics too: a pcapng file's drop
 * counters reach the session). A class, not closures made per file: the parser's loop calls
 * onFrame for every frame and V8 compiles it for the call target it has seen, so a closure of each
 * file's own would be a new target at every file, throwing the compiled loop away.
 */
class CountingSink implements CaptureSink {
  frames = 0;
  problems = 0;
  readonly interfaces: CaptureInterface[] = [];

  constructor(private readonly sink: CaptureSink) {}

  onInterface(iface: CaptureInterface): void {
    this.interfaces.push({ ...iface });
    this.sink.onInterface(iface);
  }

  onFrame(frame: Frame): void {
    this.frames++;
    this.sink.onFrame(frame);
  }

  onProblem(problem: CaptureProblem): void {
    this.problems++;
    this.sink.onProblem(problem);
  }

  onStatistics(stats: CaptureStatistics): void {
    this.sink.onStatistics?.(stats);
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
  private readonly counting: CountingSink;

  constructor(
    private readonly path: string,
    sink: CaptureSink,
  ) {
    this.counting = new CountingSink(sink);
  }

  get frames(): number {
    return this.counting.frames;
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

  /** A problem of the container around the capture (gzip) after which reading goes on: one line. */
  warn(what: string): void {
    const offset = this.parser?.bytes ?? 0;
    this.counting.onProblem({
      code: 'capture.malformed',
      frame: this.counting.frames + 1,
      offset,
      message: `${what} (decompressed offset ${offset})`,
    });
  }

  /** The input ended without all of the capture: reported, frames kept. */
  breakOff(why: string): void {
    const offset = this.parser?.bytes ?? 0;
    this.counting.onProblem({
      code: 'capture.truncated-file',
      frame: this.counting.frames + 1,
      offset,
      message: `frame ${this.counting.frames + 1} at offset ${offset}: ${why}; the frames before it are kept`,
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
      frames: this.counting.frames,
      bytes: this.parser?.bytes ?? 0,
      interfaces: this.counting.interfaces,
      problems: this.counting.problems,
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
function writeConsumed(gunzip: InflateRaw, chunk: Uint8Array): Promise<void> {
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
