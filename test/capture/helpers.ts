// Shared by the capture tests: a sink that copies what it is given (the Frame is reused), a seeded
// PRNG, chunked pushing, and builders of hand-made pcap and pcapng bytes.
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { CaptureInterface, CaptureProblem, CaptureSink, Frame } from '../../src/capture/frame.js';

export const root = join(import.meta.dirname, '..', '..');
export const samplesDir = join(root, 'samples');
export const samplePaths = readdirSync(samplesDir, { recursive: true, encoding: 'utf8' })
  .filter((f) => f.endsWith('.pcap'))
  .sort()
  .map((f) => join(samplesDir, f));

/** A frame's fields with its bytes copied; where they sat in the reader's buffer is left out. */
export interface FrameCopy extends Omit<Frame, 'data' | 'buffer' | 'dataOffset'> {
  data: Buffer;
}

function copyFrame(f: Frame): FrameCopy {
  const { buffer: _buffer, dataOffset: _offset, data, ...fields } = f;
  return { ...fields, data: Buffer.from(data) };
}

export interface Collected {
  sink: CaptureSink;
  frames: FrameCopy[];
  interfaces: CaptureInterface[];
  problems: CaptureProblem[];
}

/** A sink keeping a copy of everything (frames are copied: the reader reuses one object). */
export function collect(): Collected {
  const out: Collected = {
    frames: [],
    interfaces: [],
    problems: [],
    sink: {
      onInterface: (i) => out.interfaces.push({ ...i }),
      onFrame: (f) => out.frames.push(copyFrame(f)),
      onProblem: (p) => out.problems.push({ ...p }),
    },
  };
  return out;
}

export { prng } from '../helpers/prng.js';

/**
 * Pushes `bytes` in chunks whose sizes `nextSize` picks, each copied into one reused buffer that
 * is overwritten afterwards (as readCapture does), so a parser that keeps views would be caught.
 */
export function pushChunked(
  parser: { push(c: Uint8Array): void; end(): void },
  bytes: Uint8Array,
  nextSize: () => number,
): void {
  const scratch = new Uint8Array(Math.max(1, bytes.length));
  for (let p = 0; p < bytes.length; ) {
    const n = Math.min(Math.max(1, nextSize()), bytes.length - p);
    const chunk = scratch.subarray(0, n);
    chunk.set(bytes.subarray(p, p + n));
    parser.push(chunk);
    chunk.fill(0xee);
    p += n;
  }
  parser.end();
}

/** Classic pcap bytes: records of [sec, frac, data, origlen?]. */
export function buildPcap(
  le: boolean,
  magic: number,
  records: Array<[number, number, number[] | Buffer, number?]>,
  snaplen = 65535,
): Buffer {
  const w32 = (b: Buffer, v: number, o: number) =>
    le ? b.writeUInt32LE(v >>> 0, o) : b.writeUInt32BE(v >>> 0, o);
  const h = Buffer.alloc(24);
  w32(h, magic, 0);
  le ? h.writeUInt16LE(2, 4) : h.writeUInt16BE(2, 4);
  le ? h.writeUInt16LE(4, 6) : h.writeUInt16BE(4, 6);
  w32(h, snaplen, 16);
  w32(h, 1, 20);
  const parts: Buffer[] = [h];
  for (const [sec, frac, bytes, orig] of records) {
    const r = Buffer.alloc(16);
    w32(r, sec, 0);
    w32(r, frac, 4);
    w32(r, bytes.length, 8);
    w32(r, orig ?? bytes.length + 100, 12);
    parts.push(r, Buffer.from(bytes));
  }
  return Buffer.concat(parts);
}

/** Builders of pcapng blocks in one byte order. */
export function pcapngWriter(le: boolean) {
  const u32 = (v: number) => {
    const b = Buffer.alloc(4);
    le ? b.writeUInt32LE(v >>> 0) : b.writeUInt32BE(v >>> 0);
    return b;
  };
  const u16 = (v: number) => {
    const b = Buffer.alloc(2);
    le ? b.writeUInt16LE(v) : b.writeUInt16BE(v);
    return b;
  };
  const i64 = (v: bigint) => {
    const b = Buffer.alloc(8);
    le ? b.writeBigInt64LE(v) : b.writeBigInt64BE(v);
    return b;
  };
  const pad = (b: Buffer) => Buffer.concat([b, Buffer.alloc((4 - (b.length % 4)) % 4)]);
  const opt = (code: number, value: Buffer) => Buffer.concat([u16(code), u16(value.length), pad(value)]);
  const endOpt = Buffer.alloc(4);
  const withEnd = (opts: Buffer[]) => (opts.length ? [...opts, endOpt] : []);
  /** A block; `lie` is added to the leading length only. */
  const block = (type: number, body: Buffer, lie = 0) => {
    const len = 12 + body.length;
    return Buffer.concat([u32(type), u32(len + lie), body, u32(len)]);
  };
  const packetBody = (ts: bigint, data: Buffer, origlen?: number) => [
    u32(Number(ts >> 32n)),
    u32(Number(ts & 0xffffffffn)),
    u32(data.length),
    u32(origlen ?? data.length + 10),
    pad(data),
  ];
  return {
    u32,
    i64,
    opt,
    block,
    shb: (opts: Buffer[] = []) =>
      block(
        0x0a0d0d0a,
        Buffer.concat([u32(0x1a2b3c4d), u16(1), u16(0), Buffer.alloc(8, 0xff), ...withEnd(opts)]),
      ),
    idb: (linkType: number, opts: Buffer[] = [], snaplen = 262144) =>
      block(1, Buffer.concat([u16(linkType), u16(0), u32(snaplen), ...withEnd(opts)])),
    epb: (ifId: number, ts: bigint, data: Buffer, opts: Buffer[] = [], lie = 0, origlen?: number) =>
      block(6, Buffer.concat([u32(ifId), ...packetBody(ts, data, origlen), ...withEnd(opts)]), lie),
    pb: (ifId: number, ts: bigint, data: Buffer, opts: Buffer[] = []) =>
      block(2, Buffer.concat([u16(ifId), u16(0), ...packetBody(ts, data), ...withEnd(opts)])),
    spb: (origlen: number, data: Buffer) => block(3, Buffer.concat([u32(origlen), pad(data)])),
  };
}

/** First difference between two frame lists, or null (much faster than a deep toEqual). */
export function frameDifference(a: FrameCopy[], b: FrameCopy[]): string | null {
  if (a.length !== b.length) return `${a.length} frames against ${b.length}`;
  for (let i = 0; i < a.length; i++) {
    const x = a[i] as FrameCopy;
    const y = b[i] as FrameCopy;
    for (const k of Object.keys(x) as Array<keyof FrameCopy>) {
      if (k === 'data') {
        if (!x.data.equals(y.data)) return `frame ${i + 1}: data differs`;
      } else if (x[k] !== y[k]) return `frame ${i + 1}: ${k} ${String(x[k])} against ${String(y[k])}`;
    }
  }
  return null;
}
