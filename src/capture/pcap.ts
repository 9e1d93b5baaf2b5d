/**
 * Incremental classic pcap (libpcap) parser: fed chunks of any size, it calls the sink once per
 * frame with one reused Frame, and holds at most one record in memory (see records.ts).
 *
 *   global header (24 bytes)
 *     0  magic      a1b2c3d4 (microseconds) or a1b23c4d (nanoseconds), in the writer's byte order
 *     4  version    major 2, minor 4 (16 bits each)
 *     8  thiszone   (unused)    12 sigfigs (unused)
 *    16  snaplen    20 linktype (low 16 bits; the high bits carry FCS information)
 *   record header (16 bytes), then incl_len bytes of frame
 *     0  ts_sec     4 ts_frac (micro- or nanoseconds)
 *     8  incl_len   12 orig_len
 *
 * Container problems never throw. A record cut off by the end of the stream is
 * 'capture.truncated-file'. A record whose header is damaged is 'capture.malformed': impossible
 * lengths (captured length above max(snaplen, 256 KiB), or more than the original length), all
 * zero bytes, or odd (longer than the snaplen, a fraction of a second or more, a day away from
 * the last frame) without a plausible record after it (two in a row); one longer than the snaplen
 * and believed shows the header's snaplen to be wrong, and raises the limit the checks use to its
 * length. After a damaged record the parser tries
 * each following byte offset (zero runs at once) until a plausible record header (0 < captured
 * length <= snaplen <= original length, fraction below a second, seconds within a day of the last
 * good frame, or of the frame before the last jump of a day or more between two good frames)
 * itself followed by a plausible one, or, far in time (damage right at a clock step), the first of
 * four records in a row that step on like a clock; and it reports the damaged spot in one line: its
 * offset, what was wrong, and where reading resumed (or that the file is zero bytes from there).
 * So one damaged record costs that record, not the rest of the file. A version other than 2.4 or
 * reserved link-type bits are warned about, once each. Every frame read before a problem has been
 * delivered; the look-ahead the checks need lives in the generic path only (see walk).
 *
 * Per frame the parser allocates only the `data` view (a `subarray` of the chunk or of the carry
 * buffer): decoders index `data` from 0 (src/decode/packet.ts), and a view is the cheapest way to
 * give them that without copying.
 */

import { viewOf } from '../arrays.js';
import { type CaptureSink, Direction, type DirectionValue, type Frame, LinkType } from './frame.js';
import { hexBytes, NEED_MORE, RecordStream, SKIP_BYTE, STOP, u16, u32 } from './records.js';

export const PCAP_MAGIC_MICRO = 0xa1b2c3d4;
export const PCAP_MAGIC_NANO = 0xa1b23c4d;
const GLOBAL_HEADER = 24;
const RECORD_HEADER = 16;
/** Records up to this many captured bytes are legal whatever the snaplen says. */
const MIN_RECORD_LIMIT = 262144;
/** No record is believed above this, whatever the snaplen says (bounds the carry buffer). */
const MAX_RECORD_LIMIT = 16 * 1024 * 1024;
/** A record found while resynchronising must be this close in time to the last frame. */
const RESYNC_WINDOW_SEC = 86400;
/**
 * Or, far from it (damage right at a clock step), the first of this many records in a row whose
 * times step forward by less than CHAIN_STEP_SEC each (see chainsOn).
 */
const CHAIN_RECORDS = 4;
const CHAIN_STEP_SEC = 3600;
/** Bits 16-25 of the global header's link type field: reserved, must be zero. */
const LINKTYPE_RESERVED_BITS = 0x03ff0000;

/** What the global header says. */
export interface PcapHeader {
  littleEndian: boolean;
  nanosecond: boolean;
  versionMajor: number;
  versionMinor: number;
  snaplen: number;
  linkType: number;
}

export interface PcapParserOptions {
  /** Largest captured length believed, above max(snaplen, 256 KiB); default 16 MiB. */
  maxRecordLength?: number;
}

export interface PcapParser {
  push(chunk: Uint8Array): void;
  end(): void;
  /** The global header once its 24 bytes are in, else null. */
  readonly header: PcapHeader | null;
  readonly frames: number;
  /** Bytes pushed so far. */
  readonly bytes: number;
  /** True once a problem or end() ended the reading. */
  readonly stopped: boolean;
  /** Current size of the buffer for records that straddle chunks. */
  readonly carryCapacity: number;
}

export function createPcapParser(sink: CaptureSink, options: PcapParserOptions = {}): PcapParser {
  return new PcapStream(sink, options.maxRecordLength ?? MAX_RECORD_LIMIT);
}

/**
 * The reused Frame. A class, not an object literal: a literal with a getter gets dictionary-mode
 * properties in V8, which made every field read and write on the per-frame path a hash lookup.
 * Here the getter sits on the prototype and the fields stay fast, in one hidden class.
 */
class ReusedFrame implements Frame {
  number = 0;
  interfaceId = 0;
  linkType: number = LinkType.ETHERNET;
  timeSec = 0;
  timeNs = 0;
  capturedLength = 0;
  originalLength = 0;
  direction: DirectionValue = Direction.UNKNOWN;
  comment: string | null = null;
  fileOffset = 0;
  buffer: Uint8Array = new Uint8Array(0);
  dataOffset = 0;

  get data(): Uint8Array {
    return this.buffer.subarray(this.dataOffset, this.dataOffset + this.capturedLength);
  }
}

/** A Frame with every field set, to be refilled for each record. */
export function newFrame(): Frame {
  return new ReusedFrame();
}

/** True when the 16 bytes at b[p] are all zero (a preallocated or crashed file's tail). */
function zeroHeader(b: Uint8Array, p: number): boolean {
  for (let i = 0; i < RECORD_HEADER; i++) if (b[p + i] !== 0) return false;
  return true;
}

class PcapStream extends RecordStream implements PcapParser {
  header: PcapHeader | null = null;
  frames = 0;
  private readonly frame = newFrame();
  private le = true;
  private nsPerFrac = 1000;
  private fracPerSec = 1_000_000;
  private recordLimit = MIN_RECORD_LIMIT;
  /**
   * The snaplen when set (a record longer is suspect), else recordLimit; raised to the longest
   * record believed when the header's snaplen turns out to be below the records.
   */
  private snapLimit = MIN_RECORD_LIMIT;
  /** Stream offset of the damaged record where the search for a plausible record began, or -1. */
  private resyncFrom = -1;
  /** What was wrong with the record at resyncFrom. */
  private resyncWhy = '';
  /** True while every byte skipped since resyncFrom was zero. */
  private zeroOnly = false;
  /** ts_sec of the last frame delivered (the anchor of the plausibility checks). */
  private lastSec = 0;
  /**
   * ts_sec of the frame before the last jump of more than a day between two frames delivered, or
   * -1: the second anchor, for a file that leaves its time for a few frames and comes back (two
   * captures merged, a clock stepped and stepped back).
   */
  private earlierSec = -1;

  constructor(
    private readonly sink: CaptureSink,
    private readonly maxRecordLimit: number,
  ) {
    // Until the global header is in, the "header" to measure is its 4-byte magic. The carry holds
    // a record plus the next record's header (look-ahead while judging a suspect record).
    super(4, 2 * RECORD_HEADER + Math.max(maxRecordLimit, GLOBAL_HEADER));
  }

  /**
   * The generic path: every record the fast loop does not take as is. A record with impossible
   * lengths, or all zero, is damaged. One that is only odd (longer than the snaplen, a fraction of
   * a second or more, more than a day away from the last frame) is believed when the record after
   * it is plausible too, or the file ends right after it; otherwise it is damaged as well. After a
   * damaged record the reader looks for the next plausible one (see measureWhileResyncing).
   */
  protected measure(b: Uint8Array, p: number, offset: number, avail: number): number {
    if (this.header === null) return this.measureGlobalHeader(b, p);
    if (this.resyncFrom >= 0) return this.measureWhileResyncing(b, p, offset, avail);
    const le = this.le;
    const sec = u32(b, p, le);
    const frac = u32(b, p + 4, le);
    const caplen = u32(b, p + 8, le);
    const origlen = u32(b, p + 12, le);
    if (zeroHeader(b, p)) return this.damaged(offset, 'the record header is all zero bytes', true);
    if (caplen > this.recordLimit) {
      return this.damaged(
        offset,
        `captured length ${caplen} is above the limit ${this.recordLimit} (snaplen ${this.header.snaplen}, original length ${origlen})`,
      );
    }
    if (caplen > origlen) {
      return this.damaged(offset, `captured length ${caplen} is more than the original length ${origlen}`);
    }
    const total = RECORD_HEADER + caplen;
    let odd = '';
    if (caplen > this.snapLimit) odd = `captured length ${caplen} is above the snaplen ${this.snapLimit}`;
    else if (frac >= this.fracPerSec) odd = `the fraction of a second ${frac} is a second or more`;
    else if (this.frames > 0 && Math.abs(sec - this.lastSec) > RESYNC_WINDOW_SEC)
      odd = `its time ${sec} is more than a day from the last frame's ${this.lastSec}`;
    if (odd === '') return total;
    if (caplen > this.snapLimit) {
      // Longer than the snaplen: its length lies if a plausible pair of records starts inside it.
      if (avail < total + RECORD_HEADER && !this.ended) {
        this.wanted = total + RECORD_HEADER;
        return NEED_MORE;
      }
      const inside = Math.min(p + total, p + avail);
      for (let q = p + RECORD_HEADER; q < inside; q++) {
        if (this.pairAt(b, q, p + avail, sec))
          return this.damaged(offset, `${odd}, and a record starts inside it`);
      }
    }
    const next = this.followedWell(b, p, total, avail, sec);
    if (next === NEED_MORE) return NEED_MORE;
    if (next === 1) {
      // Believed though longer than the snaplen: the header's snaplen is not the writer's limit
      // (some writers put a wrong one there). Judged against it, every later record would be odd,
      // and after the first real damage, or a clock step of a day, no record could be plausible
      // again: the limit becomes the longest record believed.
      if (caplen > this.snapLimit) this.snapLimit = caplen;
      return total;
    }
    return this.damaged(offset, `${odd}, and the record after it is not plausible`);
  }

  /**
   * True when b[q] holds a plausible record header (as measureWhileResyncing asks: time within a
   * day of the last frame, or of `anchorSec` before any) followed, before `end`, by another.
   */
  private pairAt(b: Uint8Array, q: number, end: number, anchorSec: number): boolean {
    if (q + RECORD_HEADER > end) return false;
    const le = this.le;
    if (!this.resumable(b, q)) return false;
    const caplen = u32(b, q + 8, le);
    const sec = u32(b, q, le);
    if (this.frames > 0 ? !this.nearLast(sec) : Math.abs(sec - anchorSec) > RESYNC_WINDOW_SEC) return false;
    const r = q + RECORD_HEADER + caplen;
    return r + RECORD_HEADER <= end && this.plausibleAfter(b, r, sec);
  }

  /**
   * A record header reading may resume at, as far as its own fields tell: captured length above 0
   * and within the snaplen, original length at least that, a fraction below one second.
   */
  private resumable(b: Uint8Array, r: number): boolean {
    const le = this.le;
    const caplen = u32(b, r + 8, le);
    return (
      caplen > 0 &&
      caplen <= this.snapLimit &&
      u32(b, r + 12, le) >= caplen &&
      u32(b, r + 4, le) < this.fracPerSec
    );
  }

  /** Whether `sec` is within a day of the last frame's time, or of the time before its last jump. */
  private nearLast(sec: number): boolean {
    return (
      Math.abs(sec - this.lastSec) <= RESYNC_WINDOW_SEC ||
      (this.earlierSec >= 0 && Math.abs(sec - this.earlierSec) <= RESYNC_WINDOW_SEC)
    );
  }

  /**
   * Two in a row: 1 when the record of `total` bytes at b[p] is followed by a plausible record
   * header (time within a day of `sec`, of the last frame, or of the time before the last jump;
   * else followed in turn by one within a day of it) or by the very end of the file, 0 when not,
   * NEED_MORE (wanted set) when the bytes to tell are not in yet.
   */
  private followedWell(b: Uint8Array, p: number, total: number, avail: number, sec: number): number {
    if (avail < total + RECORD_HEADER) {
      if (!this.ended) {
        this.wanted = total + RECORD_HEADER;
        return NEED_MORE;
      }
      return avail === total ? 1 : 0;
    }
    const q = p + total;
    const le = this.le;
    const nextSec = u32(b, q, le);
    const caplen = u32(b, q + 8, le);
    if (zeroHeader(b, q) || caplen > this.recordLimit || caplen > u32(b, q + 12, le)) return 0;
    if (Math.abs(nextSec - sec) <= RESYNC_WINDOW_SEC || (this.frames > 0 && this.nearLast(nextSec))) return 1;
    // A time far off, but the lengths chain on: to the very end of the file, or to a third record
    // header within a day of the next one (a file whose time jumps twice in a row: a capture merged
    // in, a clock stepped). Believed too. What the carry cannot hold is not waited for.
    const last = total + RECORD_HEADER + caplen;
    const capacity = this.maxRecordLimit + 2 * RECORD_HEADER;
    if (last >= capacity) return 0;
    if (avail >= last + RECORD_HEADER) return this.plausibleAfter(b, p + last, nextSec) ? 1 : 0;
    if (this.ended) return avail === last ? 1 : 0;
    if (last + RECORD_HEADER > capacity) {
      if (avail > last) return 0;
      this.wanted = last + 1;
      return NEED_MORE;
    }
    this.wanted = last + RECORD_HEADER;
    return NEED_MORE;
  }

  /**
   * While resynchronising, for a candidate record far in time from the last frame: 1 when the
   * CHAIN_RECORDS record headers from it on chain by their lengths, each plausible (lengths
   * possible, a fraction below a second) and no earlier than the one before it and less than
   * CHAIN_STEP_SEC later, or the file ends right after one of them; 0 when not; NEED_MORE (wanted
   * set) when the bytes to tell are not in yet. The bytes a damaged record leaves behind can look
   * like a chain of records: read four bytes off, intact records whose captured and original
   * lengths agree chain on just as well, their fractions of a second standing in for the seconds.
   * So the first must lie a whole fraction range past 1970 (a microsecond file: 12 days; a
   * nanosecond one: 2001), and the four must step on like a clock. What the carry cannot hold
   * (records near the largest size) is not believed.
   */
  private chainsOn(b: Uint8Array, p: number, avail: number, sec: number): number {
    // Read four bytes off, the seconds are a fraction of a second: below fracPerSec, never believed.
    if (sec < this.fracPerSec) return 0;
    const capacity = this.maxRecordLimit + 2 * RECORD_HEADER;
    const le = this.le;
    let at = 0;
    let previous = sec;
    for (let n = 0; n < CHAIN_RECORDS; n++) {
      if (avail < at + RECORD_HEADER) {
        if (this.ended) return n > 1 && avail === at ? 1 : 0;
        if (at + RECORD_HEADER > capacity) return 0;
        this.wanted = at + RECORD_HEADER;
        return NEED_MORE;
      }
      const r = p + at;
      const time = u32(b, r, le);
      if (!this.resumable(b, r) || time < previous || time - previous >= CHAIN_STEP_SEC) return 0;
      previous = time;
      at += RECORD_HEADER + u32(b, r + 8, le);
    }
    return 1;
  }

  /** A record header at b[r] as followedWell wants the next one: lengths possible, time within a day of `sec`. */
  private plausibleAfter(b: Uint8Array, r: number, sec: number): boolean {
    const le = this.le;
    const caplen = u32(b, r + 8, le);
    return (
      !zeroHeader(b, r) &&
      caplen <= this.recordLimit &&
      caplen <= u32(b, r + 12, le) &&
      Math.abs(u32(b, r, le) - sec) <= RESYNC_WINDOW_SEC
    );
  }

  /**
   * The common case in one loop: a little- or big-endian record header read once, lengths and time
   * checked, the reused Frame filled and handed on, with no calls per record but the sink's. A
   * record the loop does not take as is (lengths above the snaplen or the original length, zero
   * length, a fraction of a second or more, a day or more from the last frame, no header yet,
   * resynchronising) goes to the generic walk for that one record, which judges, reports and
   * recovers; then this loop goes on.
   */
  protected override walk(chunk: Uint8Array, start: number, base: number): number {
    let pos = start;
    for (;;) {
      if (this.header !== null && this.resyncFrom < 0) {
        pos = this.fastWalk(chunk, pos, base);
        if (!this.early) return pos;
      }
      pos = this.walkSome(chunk, pos, base, true);
      if (!this.early) return pos;
    }
  }

  /** The fast loop; sets `early` when it stopped at a record it does not take as is. */
  private fastWalk(chunk: Uint8Array, start: number, base: number): number {
    const n = chunk.length;
    const le = this.le;
    const frame = this.frame;
    const sink = this.sink;
    const limit = this.snapLimit;
    const fracPerSec = this.fracPerSec;
    const nsPerFrac = this.nsPerFrac;
    let last = this.lastSec;
    this.carryTotal = 0;
    this.early = false;
    let pos = start;
    // The record header through the chunk's DataView, not u32(): this loop inlines the whole
    // per-frame path, which spends V8's inlining budget, and the four u32 calls it left standing
    // were 1-3 % of a run. A DataView read is no call for V8 to inline.
    const view = viewOf(chunk);
    while (pos + RECORD_HEADER <= n) {
      const sec = view.getUint32(pos, le);
      const frac = view.getUint32(pos + 4, le);
      const caplen = view.getUint32(pos + 8, le);
      const origlen = view.getUint32(pos + 12, le);
      if (
        (caplen - 1) >>> 0 >= limit ||
        caplen > origlen ||
        frac >= fracPerSec ||
        sec - last > RESYNC_WINDOW_SEC ||
        last - sec > RESYNC_WINDOW_SEC
      ) {
        this.early = true;
        break;
      }
      const total = RECORD_HEADER + caplen;
      if (pos + total > n) {
        this.carryTotal = total;
        break;
      }
      frame.number = ++this.frames;
      last = sec;
      frame.timeSec = sec;
      frame.timeNs = frac * nsPerFrac;
      frame.capturedLength = caplen;
      frame.originalLength = origlen;
      frame.fileOffset = base + pos;
      frame.buffer = chunk;
      frame.dataOffset = pos + RECORD_HEADER;
      sink.onFrame(frame);
      if (this.stopped) {
        this.lastSec = last;
        this.early = false;
        return n;
      }
      pos += total;
    }
    this.lastSec = last;
    return pos;
  }

  /**
   * After a damaged record header, each byte offset is tried (runs of zero bytes are crossed at
   * once) until a plausible record header: captured length above 0 and within the snaplen, original
   * length at least that (and below the largest record believed), fraction below one second,
   * seconds within a day of the last frame's or of the one before its last jump (of the candidate's
   * own before any frame), and the record after it plausible too (two in a row), or the end of the
   * file right after it. A candidate far in time is believed when it chains on (see chainsOn).
   */
  private measureWhileResyncing(b: Uint8Array, p: number, offset: number, avail: number): number {
    if (zeroHeader(b, p)) {
      let q = p + RECORD_HEADER;
      const end = p + avail;
      while (q < end && b[q] === 0) q++;
      this.skipBy = Math.max(1, q - p - (RECORD_HEADER - 1));
      return SKIP_BYTE;
    }
    const le = this.le;
    const sec = u32(b, p, le);
    const caplen = u32(b, p + 8, le);
    if (!this.resumable(b, p) || u32(b, p + 12, le) > this.maxRecordLimit) {
      if (b[p] !== 0) this.zeroOnly = false;
      return SKIP_BYTE;
    }
    const total = RECORD_HEADER + caplen;
    // Far in time from the last frame: the damage may sit right at a clock step of days. Believed
    // when a few records in a row agree with each other; else no record after the step would be.
    const next =
      this.frames === 0 || this.nearLast(sec)
        ? this.followedWell(b, p, total, avail, sec)
        : this.chainsOn(b, p, avail, sec);
    if (next === NEED_MORE) return NEED_MORE;
    if (next === 0) {
      if (b[p] !== 0) this.zeroOnly = false;
      return SKIP_BYTE;
    }
    const frame = this.frames + 1;
    const from = this.resyncFrom;
    const skipped = offset - from;
    this.sink.onProblem({
      code: 'capture.malformed',
      frame,
      offset: from,
      message: this.zeroOnly
        ? `from offset ${from} the file holds ${skipped} zero bytes instead of records (preallocated, or its writer stopped); reading resumes at offset ${offset} with frame ${frame}`
        : `frame ${frame} at offset ${from}: damaged record header (${this.resyncWhy}); skipped ${skipped} bytes, reading resumes at offset ${offset} with frame ${frame}`,
    });
    this.resyncFrom = -1;
    return total;
  }

  protected consume(b: Uint8Array, p: number, total: number, offset: number): void {
    if (this.header === null) {
      this.readGlobalHeader(b, p, offset);
      return;
    }
    const le = this.le;
    const frame = this.frame;
    const sec = u32(b, p, le);
    const frac = u32(b, p + 4, le);
    const caplen = total - RECORD_HEADER;
    // (The fast loop takes no record more than a day from the last: every jump is delivered here.)
    if (this.frames > 0 && Math.abs(sec - this.lastSec) > RESYNC_WINDOW_SEC) this.earlierSec = this.lastSec;
    frame.number = ++this.frames;
    this.lastSec = sec;
    // A fraction of a whole second or more (never written by libpcap) is carried into the seconds.
    if (frac < this.fracPerSec) {
      frame.timeSec = sec;
      frame.timeNs = frac * this.nsPerFrac;
    } else {
      frame.timeSec = sec + Math.floor(frac / this.fracPerSec);
      frame.timeNs = (frac % this.fracPerSec) * this.nsPerFrac;
    }
    frame.capturedLength = caplen;
    frame.originalLength = u32(b, p + 12, le);
    frame.fileOffset = offset;
    frame.buffer = b;
    frame.dataOffset = p + RECORD_HEADER;
    this.sink.onFrame(frame);
  }

  protected truncated(offset: number, have: number, need: number): void {
    if (this.resyncFrom >= 0) {
      this.finish();
      return;
    }
    const what =
      this.header === null
        ? `the file ends inside the ${GLOBAL_HEADER}-byte global header (${have} bytes)`
        : `frame ${this.frames + 1} at offset ${offset} is cut off by the end of the file (${have} of ${need || RECORD_HEADER} bytes)`;
    this.sink.onProblem({ code: 'capture.truncated-file', frame: this.frames + 1, offset, message: what });
  }

  /** The end of the file reached while looking for a plausible record: one line for the spot. */
  protected override finish(): void {
    if (this.resyncFrom < 0) return;
    const from = this.resyncFrom;
    const frame = this.frames + 1;
    const rest = this.bytes - from;
    this.sink.onProblem({
      code: 'capture.malformed',
      frame,
      offset: from,
      message: this.zeroOnly
        ? `from offset ${from} to the end of the file the records are all zero bytes (${rest} bytes: preallocated, or its writer stopped); no frames in them`
        : `frame ${frame} at offset ${from}: damaged record header (${this.resyncWhy}); no plausible record after it up to the end of the file (${this.bytes} bytes)`,
    });
    this.resyncFrom = -1;
  }

  private measureGlobalHeader(b: Uint8Array, p: number): number {
    const magicLE = u32(b, p, true);
    const magicBE = u32(b, p, false);
    if (magicLE === PCAP_MAGIC_MICRO || magicLE === PCAP_MAGIC_NANO) return GLOBAL_HEADER;
    if (magicBE === PCAP_MAGIC_MICRO || magicBE === PCAP_MAGIC_NANO) return GLOBAL_HEADER;
    this.sink.onProblem({
      code: 'capture.malformed',
      frame: 1,
      offset: 0,
      message: `not a classic pcap file (first bytes ${hexBytes(b.subarray(p))}); reading stops here`,
    });
    this.stopped = true;
    return STOP;
  }

  private readGlobalHeader(b: Uint8Array, p: number, offset: number): void {
    const magicLE = u32(b, p, true);
    const le = magicLE === PCAP_MAGIC_MICRO || magicLE === PCAP_MAGIC_NANO;
    const magic = u32(b, p, le);
    const snaplen = u32(b, p + 16, le);
    const rawLinkType = u32(b, p + 20, le);
    const header: PcapHeader = {
      littleEndian: le,
      nanosecond: magic === PCAP_MAGIC_NANO,
      versionMajor: u16(b, p + 4, le),
      versionMinor: u16(b, p + 6, le),
      snaplen,
      linkType: rawLinkType & 0xffff,
    };
    this.header = header;
    this.le = le;
    this.nsPerFrac = header.nanosecond ? 1 : 1000;
    this.fracPerSec = header.nanosecond ? 1_000_000_000 : 1_000_000;
    this.recordLimit = Math.min(Math.max(snaplen, MIN_RECORD_LIMIT), this.maxRecordLimit);
    this.snapLimit = snaplen > 0 ? Math.min(snaplen, this.recordLimit) : this.recordLimit;
    this.headerSize = RECORD_HEADER;
    this.frame.linkType = header.linkType;
    // Fields tshark and libpcap refuse: said once; the records are read on (they are judged one by one).
    if (header.versionMajor !== 2 || header.versionMinor !== 4) {
      this.warnHeader(
        offset + 4,
        `pcap version ${header.versionMajor}.${header.versionMinor} in the global header (only 2.4 is standard; tshark and libpcap may refuse the file)`,
      );
    }
    if ((rawLinkType & LINKTYPE_RESERVED_BITS) !== 0) {
      this.warnHeader(
        offset + 20,
        `link type field 0x${rawLinkType.toString(16).padStart(8, '0')} has reserved bits set (tshark and libpcap may refuse the file); link type ${header.linkType} used`,
      );
    }
    this.sink.onInterface({
      interfaceId: 0,
      linkType: header.linkType,
      snaplen,
      name: null,
      description: null,
    });
  }

  private warnHeader(offset: number, what: string): void {
    this.sink.onProblem({
      code: 'capture.malformed',
      frame: 1,
      offset,
      message: `global header, field at offset ${offset}: ${what}; reading goes on`,
    });
  }

  /** Starts the search for the next plausible record after the damaged one at `offset` (reported on resuming). */
  private damaged(offset: number, why: string, zero = false): number {
    this.resyncFrom = offset;
    this.resyncWhy = why;
    this.zeroOnly = zero;
    this.skipBy = 1;
    return SKIP_BYTE;
  }
}

// ---------------------------------------------------------------------------------------------
// Compatibility: the whole-buffer reader some tests and bench/run.mjs still import.
