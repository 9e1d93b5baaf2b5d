/**
 * The incremental machinery shared by the pcap and pcapng parsers: byte readers and
 * `RecordStream`, which cuts a stream of chunks into length-prefixed records.
 *
 * Both formats are a sequence of records whose header says how long the record is:
 *
 *   | header (headerSize bytes, tells the total length) | rest of the record ... |
 *
 * A record that lies wholly inside the pushed chunk is handed to `consume` as (chunk, start), so
 * its bytes are read in place. Only a record that straddles two or more chunks is copied, into one
 * carry buffer that grows up to the largest record the format allows and is then reused. So the
 * memory held is bounded by the largest legal record, whatever the size of the stream.
 */

/** Reads an unsigned 16-bit integer. */
export function u16(b: Uint8Array, o: number, le: boolean): number {
  const x = b[o] as number;
  const y = b[o + 1] as number;
  return le ? x | (y << 8) : (x << 8) | y;
}

/** Reads an unsigned 32-bit integer. */
export function u32(b: Uint8Array, o: number, le: boolean): number {
  const b0 = b[o] as number;
  const b1 = b[o + 1] as number;
  const b2 = b[o + 2] as number;
  const b3 = b[o + 3] as number;
  return le
    ? (b0 | (b1 << 8) | (b2 << 16) | (b3 << 24)) >>> 0
    : ((b0 << 24) | (b1 << 16) | (b2 << 8) | b3) >>> 0;
}

/** Reads a signed 64-bit integer as a double (exact up to 2^53 in magnitude). */
export function i64(b: Uint8Array, o: number, le: boolean): number {
  const hi = le ? u32(b, o + 4, true) | 0 : u32(b, o, false) | 0;
  const lo = le ? u32(b, o, true) : u32(b, o + 4, false);
  return hi * 4294967296 + lo;
}

/** "0a 0d 0d 0a": bytes as hex, for messages. */
export function hexBytes(b: Uint8Array, count = 4): string {
  return Array.from(b.subarray(0, count), (x) => x.toString(16).padStart(2, '0')).join(' ');
}

/** One reusable buffer for records that straddle chunks; grows by doubling up to `cap` bytes. */
export class CarryBuffer {
  bytes: Uint8Array;
  length = 0;

  constructor(
    initialSize: number,
    readonly cap: number,
  ) {
    this.bytes = new Uint8Array(Math.min(initialSize, cap));
  }

  /** Makes room for `total` bytes (never more than the cap) keeping what is held. */
  reserve(total: number): void {
    if (total <= this.bytes.length) return;
    let size = this.bytes.length * 2;
    while (size < total) size *= 2;
    const grown = new Uint8Array(Math.min(Math.max(size, total), this.cap));
    grown.set(this.bytes.subarray(0, this.length));
    this.bytes = grown;
  }

  append(src: Uint8Array, start: number, end: number): void {
    this.reserve(this.length + end - start);
    this.bytes.set(src.subarray(start, end), this.length);
    this.length += end - start;
  }
}

/** Sentinel returned by `measure` when the header is impossible and reading stops. */
export const STOP = -1;
/** Sentinel returned by `measure` while resynchronising: no record starts here, try one byte on. */
export const SKIP_BYTE = -2;

export abstract class RecordStream {
  /** Bytes pushed so far (the stream offset of the next chunk). */
  bytes = 0;
  /** Set once a problem ended the reading: later bytes are counted and ignored. */
  stopped = false;
  /** Bytes of a record needed to know its total length (may change, e.g. after a file header). */
  protected headerSize: number;
  private readonly carry: CarryBuffer;
  /** Stream offset of the record held in the carry buffer. */
  private carryOffset = 0;
  /** Total length of the carried record once its header is in, else 0. */
  protected carryTotal = 0;

  constructor(headerSize: number, carryCap: number) {
    this.headerSize = headerSize;
    this.carry = new CarryBuffer(65536, carryCap);
  }

  /** Capacity of the carry buffer: stays bounded by the largest legal record. */
  get carryCapacity(): number {
    return this.carry.bytes.length;
  }

  /**
   * Reads the record header at b[p..p+headerSize) (stream offset `offset`) and returns the total
   * length of the record, or STOP after reporting why the header is impossible.
   */
  protected abstract measure(b: Uint8Array, p: number, offset: number): number;

  /** Handles the complete record b[p..p+total) found at stream offset `offset`. */
  protected abstract consume(b: Uint8Array, p: number, total: number, offset: number): void;

  /** The stream ended inside a record: `have` of `need` bytes (need 0: header not in yet). */
  protected abstract truncated(offset: number, have: number, need: number): void;

  push(chunk: Uint8Array): void {
    const base = this.bytes;
    this.bytes += chunk.length;
    if (this.stopped) return;
    let pos = 0;
    if (this.carry.length > 0) {
      pos = this.completeCarried(chunk);
      if (this.carry.length > 0 || this.stopped) return;
    }
    pos = this.walk(chunk, pos, base);
    if (this.stopped || pos >= chunk.length) return;
    this.carryOffset = base + pos;
    this.carry.length = 0;
    this.carry.append(chunk, pos, chunk.length);
  }

  end(): void {
    if (this.stopped) return;
    if (this.carry.length > 0) this.truncated(this.carryOffset, this.carry.length, this.carryTotal);
    this.carry.length = 0;
    this.stopped = true;
  }

  /**
   * Walks the records lying wholly in the chunk; returns where the first incomplete one starts (and
   * sets carryTotal to its length when its header was in the chunk). A format may override it with
   * a faster loop for its common case, falling back to this one.
   */
  protected walk(chunk: Uint8Array, pos: number, base: number): number {
    const n = chunk.length;
    this.carryTotal = 0;
    while (pos + this.headerSize <= n) {
      const total = this.measure(chunk, pos, base + pos);
      if (total === STOP) return n;
      if (total === SKIP_BYTE) {
        pos++;
        continue;
      }
      if (pos + total > n) {
        this.carryTotal = total;
        break;
      }
      this.consume(chunk, pos, total, base + pos);
      if (this.stopped) return n;
      pos += total;
    }
    return pos;
  }

  /** Completes the carried record from the chunk's first bytes; returns how many were taken. */
  private completeCarried(chunk: Uint8Array): number {
    let pos = 0;
    const carry = this.carry;
    while (this.carryTotal === 0) {
      const take = Math.min(this.headerSize - carry.length, chunk.length - pos);
      carry.append(chunk, pos, pos + take);
      pos += take;
      if (carry.length < this.headerSize) return pos;
      const total = this.measure(carry.bytes, 0, this.carryOffset);
      if (total === STOP) return chunk.length;
      if (total === SKIP_BYTE) {
        carry.bytes.copyWithin(0, 1, carry.length);
        carry.length--;
        this.carryOffset++;
        continue;
      }
      this.carryTotal = total;
    }
    const take = Math.min(this.carryTotal - carry.length, chunk.length - pos);
    carry.append(chunk, pos, pos + take);
    pos += take;
    if (carry.length < this.carryTotal) return pos;
    this.consume(carry.bytes, 0, this.carryTotal, this.carryOffset);
    carry.length = 0;
    this.carryTotal = 0;
    return this.stopped ? chunk.length : pos;
  }
}
