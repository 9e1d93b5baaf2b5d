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
 * Container problems never throw: a record cut off by the end of the stream is reported as
 * 'capture.truncated-file'; a record whose lengths are impossible (captured length above
 * max(snaplen, 256 KiB), or more than the original length) as 'capture.malformed'. After such a
 * record the parser resynchronises: it tries each following byte offset until a plausible record
 * header (0 < captured length <= snaplen <= original length, fraction below a second, seconds
 * within a day of the last frame) and reports where it resumed; with no frame read yet to anchor
 * the time check, it stops instead. Every frame read before a problem has been delivered.
 *
 * Per frame the parser allocates only the `data` view (a `subarray` of the chunk or of the carry
 * buffer): decoders index `data` from 0 (src/decode/packet.ts), and a view is the cheapest way to
 * give them that without copying.
 */

import { type CaptureSink, Direction, type DirectionValue, type Frame, LinkType } from './frame.js';
import { hexBytes, RecordStream, SKIP_BYTE, STOP, u16, u32 } from './records.js';

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

class PcapStream extends RecordStream implements PcapParser {
  header: PcapHeader | null = null;
  frames = 0;
  private readonly frame = newFrame();
  private le = true;
  private nsPerFrac = 1000;
  private fracPerSec = 1_000_000;
  private recordLimit = MIN_RECORD_LIMIT;
  /** Captured length a record found while resynchronising may have: the snaplen when it is set. */
  private resyncCaplenLimit = MIN_RECORD_LIMIT;
  /** Stream offset where the search for a plausible record began, or -1 when not searching. */
  private resyncFrom = -1;
  /** ts_sec of the last frame delivered. */
  private lastSec = 0;

  constructor(
    private readonly sink: CaptureSink,
    private readonly maxRecordLimit: number,
  ) {
    // Until the global header is in, the "header" to measure is its 4-byte magic.
    super(4, RECORD_HEADER + Math.max(maxRecordLimit, GLOBAL_HEADER));
  }

  protected measure(b: Uint8Array, p: number, offset: number): number {
    if (this.header === null) return this.measureGlobalHeader(b, p);
    if (this.resyncFrom >= 0) return this.measureWhileResyncing(b, p, offset);
    const caplen = u32(b, p + 8, this.le);
    const origlen = u32(b, p + 12, this.le);
    if (caplen > this.recordLimit) {
      return this.malformed(
        offset,
        `captured length ${caplen} is above the limit ${this.recordLimit} (snaplen ${this.header.snaplen}, original length ${origlen})`,
      );
    }
    if (caplen > origlen) {
      return this.malformed(offset, `captured length ${caplen} is more than the original length ${origlen}`);
    }
    return RECORD_HEADER + caplen;
  }

  /**
   * The common case in one loop: a little- or big-endian record header read once, lengths checked,
   * the reused Frame filled and handed on, with no calls per record but the sink's. Any record the
   * loop does not take as is (impossible lengths, a fraction of a second or more, no header yet,
   * resynchronising) goes to the generic walk from that record on, which reports and recovers.
   */
  protected override walk(chunk: Uint8Array, start: number, base: number): number {
    if (this.header === null || this.resyncFrom >= 0) return super.walk(chunk, start, base);
    const n = chunk.length;
    const le = this.le;
    const frame = this.frame;
    const sink = this.sink;
    const limit = this.recordLimit;
    const fracPerSec = this.fracPerSec;
    const nsPerFrac = this.nsPerFrac;
    this.carryTotal = 0;
    let pos = start;
    while (pos + RECORD_HEADER <= n) {
      const sec = u32(chunk, pos, le);
      const frac = u32(chunk, pos + 4, le);
      const caplen = u32(chunk, pos + 8, le);
      const origlen = u32(chunk, pos + 12, le);
      if (caplen > limit || caplen > origlen || frac >= fracPerSec) return super.walk(chunk, pos, base);
      const total = RECORD_HEADER + caplen;
      if (pos + total > n) {
        this.carryTotal = total;
        return pos;
      }
      frame.number = ++this.frames;
      this.lastSec = sec;
      frame.timeSec = sec;
      frame.timeNs = frac * nsPerFrac;
      frame.capturedLength = caplen;
      frame.originalLength = origlen;
      frame.fileOffset = base + pos;
      frame.buffer = chunk;
      frame.dataOffset = pos + RECORD_HEADER;
      sink.onFrame(frame);
      if (this.stopped) return n;
      pos += total;
    }
    return pos;
  }

  /**
   * After a malformed record header, each byte offset is tried until a plausible record header:
   * captured length above 0 and within the snaplen, original length at least that (and below the largest
   * record believed), fraction below one second, and seconds within a day of the last frame's.
   */
  private measureWhileResyncing(b: Uint8Array, p: number, offset: number): number {
    const le = this.le;
    const sec = u32(b, p, le);
    const caplen = u32(b, p + 8, le);
    const origlen = u32(b, p + 12, le);
    const plausible =
      caplen > 0 &&
      caplen <= this.resyncCaplenLimit &&
      origlen >= caplen &&
      origlen <= this.maxRecordLimit &&
      u32(b, p + 4, le) < this.fracPerSec &&
      Math.abs(sec - this.lastSec) <= RESYNC_WINDOW_SEC;
    if (!plausible) return SKIP_BYTE;
    this.sink.onProblem({
      code: 'capture.malformed',
      frame: this.frames + 1,
      offset,
      message: `skipped ${offset - this.resyncFrom} bytes from offset ${this.resyncFrom}; frame ${this.frames + 1} is the plausible record found at offset ${offset}`,
    });
    this.resyncFrom = -1;
    return RECORD_HEADER + caplen;
  }

  protected consume(b: Uint8Array, p: number, total: number, offset: number): void {
    if (this.header === null) {
      this.readGlobalHeader(b, p);
      return;
    }
    const le = this.le;
    const frame = this.frame;
    const sec = u32(b, p, le);
    const frac = u32(b, p + 4, le);
    const caplen = total - RECORD_HEADER;
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
      this.sink.onProblem({
        code: 'capture.malformed',
        frame: this.frames + 1,
        offset: this.resyncFrom,
        message: `no plausible record after offset ${this.resyncFrom} up to the end of the file (${this.bytes} bytes)`,
      });
      return;
    }
    const what =
      this.header === null
        ? `the file ends inside the ${GLOBAL_HEADER}-byte global header (${have} bytes)`
        : `frame ${this.frames + 1} at offset ${offset} is cut off by the end of the file (${have} of ${need || RECORD_HEADER} bytes)`;
    this.sink.onProblem({ code: 'capture.truncated-file', frame: this.frames + 1, offset, message: what });
  }

  private measureGlobalHeader(b: Uint8Array, p: number): number {
    const magicLE = u32(b, p, true);
    const magicBE = u32(b, p, false);
    if (magicLE === PCAP_MAGIC_MICRO || magicLE === PCAP_MAGIC_NANO) return GLOBAL_HEADER;
    if (magicBE === PCAP_MAGIC_MICRO || magicBE === PCAP_MAGIC_NANO) return GLOBAL_HEADER;
    return this.malformed(0, `not a classic pcap file (first bytes ${hexBytes(b.subarray(p))})`);
  }

  private readGlobalHeader(b: Uint8Array, p: number): void {
    const magicLE = u32(b, p, true);
    const le = magicLE === PCAP_MAGIC_MICRO || magicLE === PCAP_MAGIC_NANO;
    const magic = u32(b, p, le);
    const snaplen = u32(b, p + 16, le);
    const header: PcapHeader = {
      littleEndian: le,
      nanosecond: magic === PCAP_MAGIC_NANO,
      versionMajor: u16(b, p + 4, le),
      versionMinor: u16(b, p + 6, le),
      snaplen,
      linkType: u32(b, p + 20, le) & 0xffff,
    };
    this.header = header;
    this.le = le;
    this.nsPerFrac = header.nanosecond ? 1 : 1000;
    this.fracPerSec = header.nanosecond ? 1_000_000_000 : 1_000_000;
    this.recordLimit = Math.min(Math.max(snaplen, MIN_RECORD_LIMIT), this.maxRecordLimit);
    this.resyncCaplenLimit = snaplen > 0 ? Math.min(snaplen, this.recordLimit) : this.recordLimit;
    this.headerSize = RECORD_HEADER;
    this.frame.linkType = header.linkType;
    this.sink.onInterface({
      interfaceId: 0,
      linkType: header.linkType,
      snaplen,
      name: null,
      description: null,
    });
  }

  /**
   * Reports an impossible header. After at least one frame (whose time anchors the search) the
   * parser looks for the next plausible record; before any, or for the global header, it stops.
   */
  private malformed(offset: number, what: string): number {
    const frame = this.frames + 1;
    const where = this.header === null ? '' : `frame ${frame} at offset ${offset}: `;
    const resync = this.header !== null && this.frames > 0;
    this.sink.onProblem({
      code: 'capture.malformed',
      frame,
      offset,
      message: `${where}${what}; ${resync ? 'looking for the next plausible record' : 'reading stops here'}`,
    });
    if (resync) {
      this.resyncFrom = offset;
      return SKIP_BYTE;
    }
    this.stopped = true;
    return STOP;
  }
}

// ---------------------------------------------------------------------------------------------
// Compatibility: the whole-buffer reader some tests and bench/run.mjs still import.

/** One record of `parsePcap` (compatibility shape). */
export interface PcapRecord {
  frame: number;
  /** Timestamp in nanoseconds since the epoch. */
  timeNs: bigint;
  capturedLength: number;
  originalLength: number;
  /** A view into the buffer given to parsePcap. */
  data: Uint8Array;
}

export interface PcapFile {
  linkType: number;
  snaplen: number;
  nanosecond: boolean;
  littleEndian: boolean;
  records: PcapRecord[];
  /** Byte offset of the record where reading stopped on a problem, if any. */
  truncatedAt: number | null;
}

/**
 * Reads a whole classic pcap held in memory (built on createPcapParser). Kept for test helpers and
 * the bench; new code should use readCapture or createPcapParser. Throws a plain Error naming
 * `name` when the buffer is not a classic pcap.
 */
export function parsePcap(buf: Uint8Array, name = 'capture'): PcapFile {
  const records: PcapRecord[] = [];
  let truncatedAt: number | null = null;
  let notPcap: string | null = null;
  const parser = createPcapParser({
    onInterface() {},
    onFrame(f) {
      records.push({
        frame: f.number,
        timeNs: BigInt(f.timeSec) * 1_000_000_000n + BigInt(f.timeNs),
        capturedLength: f.capturedLength,
        originalLength: f.originalLength,
        data: f.data,
      });
    },
    onProblem(p) {
      if (parser.header === null) notPcap = p.message;
      else truncatedAt ??= p.offset;
    },
  });
  parser.push(buf);
  parser.end();
  const header = parser.header;
  if (header === null)
    throw new Error(`${name}: ${notPcap ?? `${buf.length} bytes, too short for a pcap header`}`);
  return { ...header, records, truncatedAt };
}
