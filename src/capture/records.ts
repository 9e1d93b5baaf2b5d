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

/**
 * One reusable buffer for records that straddle chunks; grows by doubling up to `cap` bytes. It
 * holds bytes[start, length): dropping bytes from the front (while resynchronising) moves `start`,
 * and the bytes are moved back to 0 only when more are appended.
 */
export class CarryBuffer {
  bytes: Uint8Array;
  start = 0;
  length = 0;

  constructor(
    initialSize: number,
    readonly cap: number,
  ) {
    this.bytes = new Uint8Array(Math.min(initialSize, cap));
  }

  /** Bytes held. */
  get held(): number {
    return this.length - this.start;
  }

  clear(): void {
    this.start = 0;
    this.length = 0;
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
    if (this.start > 0) {
      this.bytes.copyWithin(0, this.start, this.length);
      this.length -= this.start;
      this.start = 0;
    }
    this.reserve(this.length + end - start);
    this.bytes.set(src.subarray(start, end), this.length);
    this.length += end - start;
  }
}

/** Sentinel returned by `measure` when the header is impossible and reading stops. */
export const STOP = -1;
/** Sentinel returned by `measure` while resynchronising: no record starts here, try `skipBy` bytes on. */
export const SKIP_BYTE = -2;
/** Sentinel returned by `measure` when it needs `wanted` bytes from the header to decide (look-ahead). */
export const NEED_MORE = -3;

const EMPTY = new Uint8Array(0);

export abstract class RecordStream {
  /** Bytes pushed so far (the stream offset of the next chunk). */
  bytes = 0;
  /** Set once a problem ended the reading: later bytes are counted and ignored. */
  stopped = false;
  /** Bytes of a record needed to know its total length (may change, e.g. after a file header). */
  protected headerSize: number;
  /** Set by `measure` before it returns NEED_MORE: bytes from the header it needs to decide. */
  protected wanted = 0;
  /** Set by `measure` before it returns SKIP_BYTE: how many bytes to skip (default 1). */
  protected skipBy = 1;
  /** True once end() was called: `measure` decides with the bytes it has (no NEED_MORE). */
  protected ended = false;
  /** Set by `walkSome(.., once)` when it returned after one record (so a fast loop may take over). */
  protected early = false;
  private readonly carry: CarryBuffer;
  /** Stream offset of the first byte held in the carry buffer. */
  private carryOffset = 0;
  /** Total length of the carried record once its header is in, else 0. */
  protected carryTotal = 0;

  constructor(headerSize: number, carryCap: number) {
    this.headerSize = headerSize;
    this.carry = new CarryBuffer(65536, carryCap);
    // V8 takes a field that no object of its class has written since it was set for a constant,
    // and compiles the formats' fast loops on that (`stopped` is read for every record). end()
    // writes both fields: at the end of the first file V8 threw those loops away, and the next
    // file ran them unoptimised until they were compiled again. Written here, they are variables
    // before anything is compiled.
    this.stopped = true;
    this.stopped = false;
    this.ended = true;
    this.ended = false;
  }

  /** Capacity of the carry buffer: stays bounded by the largest legal record. */
  get carryCapacity(): number {
    return this.carry.bytes.length;
  }

  /**
   * Reads the record header at b[p..p+headerSize) (stream offset `offset`, `avail` bytes from p in
   * b) and returns the total length of the record, STOP after reporting why reading cannot go on,
   * SKIP_BYTE (with skipBy) while resynchronising, or NEED_MORE (with wanted) to look further ahead.
   */
  protected abstract measure(b: Uint8Array, p: number, offset: number, avail: number): number;

  /** Handles the complete record b[p..p+total) found at stream offset `offset`. */
  protected abstract consume(b: Uint8Array, p: number, total: number, offset: number): void;

  /** The stream ended inside a record: `have` of `need` bytes (need 0: header not in yet). */
  protected abstract truncated(offset: number, have: number, need: number): void;

  /** The stream ended on a record boundary (nothing held): a format may report what is pending. */
  protected finish(): void {}

  push(chunk: Uint8Array): void {
    const base = this.bytes;
    this.bytes += chunk.length;
    if (this.stopped) return;
    let pos = 0;
    if (this.carry.held > 0) {
      pos = this.completeCarried(chunk);
      if (this.carry.held > 0 || this.stopped) return;
    }
    pos = this.walk(chunk, pos, base);
    if (this.stopped || pos >= chunk.length) return;
    this.carryOffset = base + pos;
    this.carry.clear();
    this.carry.append(chunk, pos, chunk.length);
  }

  end(): void {
    if (this.stopped) return;
    this.ended = true;
    if (this.carry.held > 0) this.completeCarried(EMPTY);
    if (!this.stopped) {
      if (this.carry.held > 0) this.truncated(this.carryOffset, this.carry.held, this.carryTotal);
      else this.finish();
    }
    this.carry.clear();
    this.stopped = true;
  }

  /**
   * Walks the records lying wholly in the chunk; returns where the first incomplete one starts (and
   * sets carryTotal to its length when its header was in the chunk). A format may override it with
   * a faster loop for its common case, falling back to walkSome.
   */
  protected walk(chunk: Uint8Array, pos: number, base: number): number {
    return this.walkSome(chunk, pos, base, false);
  }

  /** The generic walk; with `once` it returns right after the first record consumed (early = true). */
  protected walkSome(chunk: Uint8Array, pos: number, base: number, once: boolean): number {
    const n = chunk.length;
    this.carryTotal = 0;
    this.early = false;
    while (pos + this.headerSize <= n) {
      this.wanted = 0;
      const total = this.measure(chunk, pos, base + pos, n - pos);
      if (total === STOP) return n;
      if (total === SKIP_BYTE) {
        pos += this.skipBy;
        this.skipBy = 1;
        continue;
      }
      if (total === NEED_MORE) break;
      if (pos + total > n) {
        this.carryTotal = total;
        break;
      }
      this.consume(chunk, pos, total, base + pos);
      if (this.stopped) return n;
      pos += total;
      if (once) {
        this.early = true;
        return pos;
      }
    }
    return pos;
  }

  /**
   * Completes the carried record from the chunk's first bytes (measuring, skipping and looking
   * ahead inside the carry as the format asks); returns how many bytes of the chunk were taken.
   * Returns with the carry empty (the rest of the chunk is walked in place) or the chunk used up.
   */
  private completeCarried(chunk: Uint8Array): number {
    let pos = 0;
    const carry = this.carry;
    for (;;) {
      let held = carry.held;
      if (held === 0) {
        carry.clear();
        return pos;
      }
      const want = this.carryTotal > 0 ? this.carryTotal : Math.max(this.headerSize, this.wanted);
      if (held < want) {
        const take = Math.min(want - held, chunk.length - pos);
        if (take > 0) {
          carry.append(chunk, pos, pos + take);
          pos += take;
          held += take;
        }
        // At the end of the stream a look-ahead that cannot come is decided without it.
        const decideNow = this.ended && this.carryTotal === 0 && held >= this.headerSize;
        if (held < want && !decideNow) return pos;
      }
      if (this.carryTotal === 0) {
        this.wanted = 0;
        const total = this.measure(carry.bytes, carry.start, this.carryOffset, held);
        if (total === STOP) return chunk.length;
        if (total === NEED_MORE) {
          if (this.wanted <= held) return chunk.length; // a format bug; never loop
          continue;
        }
        if (total === SKIP_BYTE) {
          const by = Math.min(this.skipBy, held);
          this.skipBy = 1;
          carry.start += by;
          this.carryOffset += by;
          continue;
        }
        this.carryTotal = total;
        continue;
      }
      const total = this.carryTotal;
      this.carryTotal = 0;
      this.consume(carry.bytes, carry.start, total, this.carryOffset);
      carry.start += total;
      this.carryOffset += total;
      if (this.stopped) return chunk.length;
    }
  }
}
