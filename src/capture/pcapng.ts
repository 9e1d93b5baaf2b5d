/**
 * Incremental pcapng parser (draft-ietf-opsawg-pcapng): fed chunks of any size, it calls the sink
 * once per frame with one reused Frame, and holds at most one block in memory (see records.ts).
 *
 * Every block is
 *
 *   0  block type (4)     4  block total length (4)     8  body ...     total-4  total length again
 *
 *   Section Header 0x0a0d0d0a: byte-order magic 1a2b3c4d (sets the byte order of its section),
 *                  version (2+2), section length (8), options. Interface ids restart at 0.
 *   Interface Description 1: link type (2), reserved (2), snaplen (4), options if_name (2),
 *                  if_description (3), if_tsresol (9), if_tsoffset (14).
 *   Enhanced Packet 6: interface id (4), timestamp high (4), low (4), captured length (4),
 *                  original length (4), data padded to 4, options opt_comment (1), epb_flags (2).
 *   Simple Packet 3: original length (4), data (captured length = min(original, IDB 0 snaplen,
 *                  what the block holds)); no interface id, no timestamp.
 *   Packet (legacy) 2: interface id (2), drops (2), then as the Enhanced Packet.
 *   Custom 0xbad/0x40000bad and systemd Journal Export 9: no frame here, but each takes a frame
 *                  number, as Wireshark shows them as frames ("No." N here is "No." N there).
 *   Anything else (Name Resolution 4, Interface Statistics 5, Decryption Secrets 10, unknown):
 *                  skipped by its length.
 *
 * Frame.interfaceId numbers interfaces over the whole file, sections concatenated; an interface a
 * later section declares again (same if_name and link type as one of an earlier section) keeps
 * the id of its first declaration, so a file whose sections repeat their interfaces has each once.
 *
 * Container problems never throw. A block whose length lies (below 12, not a multiple of 4, above
 * the cap, or not repeated at the end) is 'capture.malformed': the reader looks for the next block
 * whose type is known and whose length and trailing length agree, and goes on from there (one
 * line for the damaged spot, naming its offset and where reading resumes). A damaged section or
 * interface header still opens its section or declares its interface from its fixed fields. A
 * packet naming an undeclared interface, or whose captured length runs past its block, is
 * 'capture.malformed' and that block alone is skipped; a block cut off by the end of the stream is
 * 'capture.truncated-file'. A section whose major version is not 1 (tshark refuses the file) is
 * warned about and read on. Per frame the parser allocates only the `data` view (as pcap.ts), and
 * the comment string for frames that carry one.
 */

import {
  type CaptureInterface,
  type CaptureSink,
  type CaptureStatistics,
  Direction,
  type DirectionValue,
} from './frame.js';
import { newFrame } from './pcap.js';
import { hexBytes, i64, NEED_MORE, RecordStream, SKIP_BYTE, STOP, u16, u32 } from './records.js';
import { MICROSECONDS, resolutionFromTsresol, splitTimestamp, type TimeResolution } from './timestamp.js';

export const PCAPNG_SHB = 0x0a0d0d0a;
export const PCAPNG_BYTE_ORDER_MAGIC = 0x1a2b3c4d;
const BLOCK_IDB = 1;
const BLOCK_PB = 2;
const BLOCK_SPB = 3;
const BLOCK_EPB = 6;
const BLOCK_NRB = 4;
const BLOCK_ISB = 5;
const BLOCK_JOURNAL = 9;
const BLOCK_DSB = 10;
const BLOCK_CUSTOM = 0xbad;
const BLOCK_CUSTOM_NOCOPY = 0x40000bad;
const OPT_END = 0;
const OPT_COMMENT = 1;
const OPT_FLAGS = 2;
const OPT_IF_NAME = 2;
const OPT_IF_DESCRIPTION = 3;
const OPT_IF_TSRESOL = 9;
const OPT_IF_TSOFFSET = 14;
const OPT_ISB_IFRECV = 4;
const OPT_ISB_IFDROP = 5;
const OPT_ISB_OSDROP = 7;
/** Smallest block: type, length, trailing length. */
const MIN_BLOCK = 12;
/** Largest block believed by default (bounds the carry buffer). */
const MAX_BLOCK = 16 * 1024 * 1024;

export interface PcapngParserOptions {
  /** Largest block length believed; default 16 MiB. */
  maxBlockLength?: number;
}

export interface PcapngParser {
  push(chunk: Uint8Array): void;
  end(): void;
  /** Interfaces declared so far, over all sections. */
  readonly interfaces: readonly CaptureInterface[];
  readonly sections: number;
  readonly frames: number;
  readonly bytes: number;
  readonly stopped: boolean;
  readonly carryCapacity: number;
}

export function createPcapngParser(sink: CaptureSink, options: PcapngParserOptions = {}): PcapngParser {
  return new PcapngStream(sink, options.maxBlockLength ?? MAX_BLOCK);
}

/** Per-interface state the packet blocks need. */
interface InterfaceState {
  info: CaptureInterface;
  resolution: TimeResolution;
  offsetSec: number;
}

const utf8 = new TextDecoder('utf-8', { fatal: false });

/** Decodes an option string, without the NULs some writers pad it with. */
function optionString(b: Uint8Array, start: number, length: number): string {
  let end = start + length;
  while (end > start && b[end - 1] === 0) end--;
  return utf8.decode(b.subarray(start, end));
}

class PcapngStream extends RecordStream implements PcapngParser {
  frames = 0;
  sections = 0;
  readonly interfaces: CaptureInterface[] = [];
  private readonly states: InterfaceState[] = [];
  private readonly frame = newFrame();
  private le = true;
  /** Index in `states` of the current section's interface 0. */
  private sectionBase = 0;
  /** Stream offset of the damaged block where the search for the next block began, or -1. */
  private resyncFrom = -1;
  /** What was wrong with the block at resyncFrom. */
  private resyncWhy = '';

  constructor(
    private readonly sink: CaptureSink,
    private readonly maxBlock: number,
  ) {
    super(MIN_BLOCK, maxBlock);
  }

  protected measure(b: Uint8Array, p: number, offset: number, avail: number): number {
    if (this.resyncFrom >= 0) return this.measureWhileResyncing(b, p, offset, avail);
    if (u32(b, p, true) === PCAPNG_SHB) {
      if (u32(b, p + 8, true) === PCAPNG_BYTE_ORDER_MAGIC) this.le = true;
      else if (u32(b, p + 8, false) === PCAPNG_BYTE_ORDER_MAGIC) this.le = false;
      else if (this.sections === 0)
        return this.stop(
          offset,
          `section header with unknown byte-order magic ${hexBytes(b.subarray(p + 8))}`,
        );
      else
        return this.damaged(
          b,
          p,
          offset,
          avail,
          `section header with unknown byte-order magic ${hexBytes(b.subarray(p + 8))}`,
        );
    } else if (this.sections === 0) {
      return this.stop(offset, `no section header block first (first bytes ${hexBytes(b.subarray(p))})`);
    }
    const length = u32(b, p + 4, this.le);
    if (length < MIN_BLOCK || length % 4 !== 0 || length > this.maxBlock) {
      const type = u32(b, p, this.le);
      return this.damaged(
        b,
        p,
        offset,
        avail,
        `block of type 0x${type.toString(16)} claims an impossible length ${length}`,
      );
    }
    if (avail < length) {
      if (!this.ended) {
        this.wanted = length;
        return NEED_MORE;
      }
      // Past the end of the file: cut off, unless a whole block follows (then the length lies).
      if (!this.blockWithin(b, p + 1, p + avail)) return length;
      const type = u32(b, p, this.le);
      return this.damaged(
        b,
        p,
        offset,
        avail,
        `block of type 0x${type.toString(16)} claims a length ${length} that runs past the end of the file`,
      );
    }
    const trailer = u32(b, p + length - 4, this.le);
    if (trailer !== length) {
      const type = u32(b, p, this.le);
      return this.damaged(
        b,
        p,
        offset,
        avail,
        `block of type 0x${type.toString(16)}: length ${length} at the start does not match the ${trailer} at the end`,
      );
    }
    return length;
  }

  /**
   * After a damaged block, each byte offset is tried until a block whose type is known, whose
   * length is possible for that type, and whose trailing length repeats it (a section header also
   * needs its byte-order magic). The damaged spot is reported once, when reading resumes.
   */
  private measureWhileResyncing(b: Uint8Array, p: number, offset: number, avail: number): number {
    let le = this.le;
    let type = u32(b, p, le);
    if (type === PCAPNG_SHB) {
      if (u32(b, p + 8, true) === PCAPNG_BYTE_ORDER_MAGIC) le = true;
      else if (u32(b, p + 8, false) === PCAPNG_BYTE_ORDER_MAGIC) le = false;
      else return SKIP_BYTE;
      type = PCAPNG_SHB;
    }
    const min = minimumLength(type);
    if (min === 0) return SKIP_BYTE;
    const length = u32(b, p + 4, le);
    if (length < min || length % 4 !== 0 || length > this.maxBlock) return SKIP_BYTE;
    if (avail < length) {
      if (this.ended) return SKIP_BYTE;
      this.wanted = length;
      return NEED_MORE;
    }
    if (u32(b, p + length - 4, le) !== length) return SKIP_BYTE;
    this.le = le;
    this.endResync(
      `skipped ${offset - this.resyncFrom} bytes, reading resumes at offset ${offset} with a block of type 0x${type.toString(16)}`,
    );
    return length;
  }

  protected consume(b: Uint8Array, p: number, total: number, offset: number): void {
    const le = this.le;
    const type = u32(b, p, le);
    if (type === BLOCK_EPB || type === BLOCK_PB) this.readPacket(b, p, total, offset, type);
    else if (type === PCAPNG_SHB) this.readSectionHeader(b, p, offset);
    else if (type === BLOCK_IDB) this.readInterface(b, p, total, offset);
    else if (type === BLOCK_SPB) this.readSimplePacket(b, p, total, offset);
    else if (type === BLOCK_ISB) this.readStatistics(b, p, total, offset);
    else if (type === BLOCK_CUSTOM || type === BLOCK_CUSTOM_NOCOPY || type === BLOCK_JOURNAL) this.frames++;
  }

  protected truncated(offset: number, have: number, need: number): void {
    if (this.resyncFrom >= 0) {
      this.finish();
      return;
    }
    const frame = this.frames + 1;
    const size = need === 0 ? 'its header' : `${need} bytes`;
    this.sink.onProblem({
      code: 'capture.truncated-file',
      frame,
      offset,
      message: `block at offset ${offset} (before frame ${frame}) is cut off by the end of the file: ${have} bytes of ${size}`,
    });
  }

  /** The end of the file reached while looking for a block: one line for the damaged spot. */
  protected override finish(): void {
    if (this.resyncFrom < 0) return;
    this.endResync(`no block after it up to the end of the file (${this.bytes} bytes)`);
  }

  /** One line for the damaged block at resyncFrom and how the search after it ended (`outcome`). */
  private endResync(outcome: string): void {
    const from = this.resyncFrom;
    const frame = this.frames + 1;
    this.sink.onProblem({
      code: 'capture.malformed',
      frame,
      offset: from,
      message: `block at offset ${from} (frame ${frame}): ${this.resyncWhy}; ${outcome}`,
    });
    this.resyncFrom = -1;
  }

  /** True when a whole block (known type, agreeing lengths) starts somewhere in b[from, end). */
  private blockWithin(b: Uint8Array, from: number, end: number): boolean {
    const le = this.le;
    for (let q = from; q + MIN_BLOCK <= end; q++) {
      const min = minimumLength(u32(b, q, le));
      if (min === 0) continue;
      const length = u32(b, q + 4, le);
      if (length >= min && length % 4 === 0 && q + length <= end && u32(b, q + length - 4, le) === length)
        return true;
    }
    return false;
  }

  /**
   * A block whose length lies: what its fixed fields say is kept (a section header opens its
   * section, an interface description declares its interface), then the next block is looked for.
   */
  private damaged(b: Uint8Array, p: number, offset: number, avail: number, why: string): number {
    if (avail < 16 && !this.ended) {
      this.wanted = 16;
      return NEED_MORE;
    }
    const type = avail >= 16 ? u32(b, p, this.le) : -1;
    if (type === PCAPNG_SHB) this.openSection(b, p, offset);
    else if (type === BLOCK_IDB) this.declareInterface(b, p, 16, offset);
    this.resyncFrom = offset;
    this.resyncWhy = why;
    this.skipBy = 1;
    return SKIP_BYTE;
  }

  private readSectionHeader(b: Uint8Array, p: number, offset: number): void {
    this.openSection(b, p, offset);
  }

  /** A new section: interface ids restart; a major version other than 1 is warned about. */
  private openSection(b: Uint8Array, p: number, offset: number): void {
    this.sections++;
    this.sectionBase = this.states.length;
    const major = u16(b, p + 12, this.le);
    if (major !== 1) {
      const minor = u16(b, p + 14, this.le);
      this.sink.onProblem({
        code: 'capture.malformed',
        frame: this.frames + 1,
        offset: offset + 12,
        message: `section header at offset ${offset}: version ${major}.${minor} (only major version 1 is standard; tshark refuses the file); reading goes on`,
      });
    }
  }

  private readInterface(b: Uint8Array, p: number, total: number, offset: number): void {
    if (total < 20) {
      this.skip(offset, `interface description block of ${total} bytes is too short`);
      return;
    }
    this.declareInterface(b, p, total, offset);
  }

  /**
   * Declares the interface of the description at b[p] (options read up to p + total - 4). One an
   * earlier section declared already (same non-empty if_name and link type) keeps its id.
   */
  private declareInterface(b: Uint8Array, p: number, total: number, _offset: number): void {
    const le = this.le;
    const info: CaptureInterface = {
      interfaceId: this.interfaces.length,
      linkType: u16(b, p + 8, le),
      snaplen: u32(b, p + 12, le),
      name: null,
      description: null,
    };
    const state: InterfaceState = { info, resolution: MICROSECONDS, offsetSec: 0 };
    const end = p + total - 4;
    for (let o = p + 16; o + 4 <= end; ) {
      const code = u16(b, o, le);
      const len = u16(b, o + 2, le);
      const value = o + 4;
      if (code === OPT_END || value + len > end) break;
      if (code === OPT_IF_NAME) info.name = optionString(b, value, len);
      else if (code === OPT_IF_DESCRIPTION) info.description = optionString(b, value, len);
      else if (code === OPT_IF_TSRESOL && len >= 1)
        state.resolution = resolutionFromTsresol(b[value] as number);
      else if (code === OPT_IF_TSOFFSET && len >= 8) state.offsetSec = i64(b, value, le);
      o = value + ((len + 3) & ~3);
    }
    const earlier = this.sameInterface(info);
    if (earlier !== undefined) {
      state.info = earlier;
      this.states.push(state);
      return;
    }
    this.states.push(state);
    this.interfaces.push(info);
    this.sink.onInterface(info);
  }

  /** The interface of an earlier section with this one's non-empty name and link type, if any. */
  private sameInterface(info: CaptureInterface): CaptureInterface | undefined {
    if (info.name === null || info.name === '') return undefined;
    for (let i = 0; i < this.sectionBase; i++) {
      const other = (this.states[i] as InterfaceState).info;
      if (other.name === info.name && other.linkType === info.linkType) return other;
    }
    return undefined;
  }

  /** Enhanced (6) and legacy (2) packet blocks: same layout but for the interface id field. */
  private readPacket(b: Uint8Array, p: number, total: number, offset: number, type: number): void {
    const le = this.le;
    if (total < 32) {
      this.skip(offset, `packet block of ${total} bytes is too short`);
      return;
    }
    const localId = type === BLOCK_EPB ? u32(b, p + 8, le) : u16(b, p + 8, le);
    const state = this.interfaceOf(localId, offset);
    if (state === undefined) return;
    const caplen = u32(b, p + 20, le);
    const dataStart = p + 28;
    const end = p + total - 4;
    if (caplen > end - dataStart) {
      this.skip(offset, `captured length ${caplen} runs past its ${total}-byte block`);
      return;
    }
    const frame = this.frame;
    frame.number = ++this.frames;
    frame.interfaceId = state.info.interfaceId;
    frame.linkType = state.info.linkType;
    splitTimestamp(u32(b, p + 12, le), u32(b, p + 16, le), state.resolution, state.offsetSec, frame);
    frame.capturedLength = caplen;
    frame.originalLength = u32(b, p + 24, le);
    frame.fileOffset = offset;
    frame.buffer = b;
    frame.dataOffset = dataStart;
    frame.direction = Direction.UNKNOWN;
    frame.comment = null;
    this.readPacketOptions(b, dataStart + ((caplen + 3) & ~3), end);
    this.sink.onFrame(frame);
  }

  /**
   * An interface statistics block: the writer's counters for one interface (dumpcap writes one per
   * interface when it stops), handed to the sink when it wants them. Not a frame.
   */
  private readStatistics(b: Uint8Array, p: number, total: number, offset: number): void {
    if (this.sink.onStatistics === undefined) return;
    if (total < 24) {
      this.skip(offset, `interface statistics block of ${total} bytes is too short`);
      return;
    }
    const le = this.le;
    const state = this.states[this.sectionBase + u32(b, p + 8, le)];
    if (state === undefined) {
      this.skip(
        offset,
        `interface statistics block names interface ${u32(b, p + 8, le)}, which this section does not describe`,
      );
      return;
    }
    const stats: CaptureStatistics = {
      interfaceId: state.info.interfaceId,
      received: null,
      dropped: null,
      ifDropped: null,
    };
    const end = p + total - 4;
    for (let o = p + 20; o + 4 <= end; ) {
      const code = u16(b, o, le);
      const len = u16(b, o + 2, le);
      const value = o + 4;
      if (code === OPT_END || value + len > end) break;
      if (len >= 8) {
        if (code === OPT_ISB_IFRECV) stats.received = i64(b, value, le);
        else if (code === OPT_ISB_IFDROP) stats.ifDropped = i64(b, value, le);
        else if (code === OPT_ISB_OSDROP) stats.dropped = i64(b, value, le);
      }
      o = value + ((len + 3) & ~3);
    }
    this.sink.onStatistics(stats);
  }

  /** Fills frame.direction (epb_flags / pack_flags) and frame.comment, without allocating otherwise. */
  private readPacketOptions(b: Uint8Array, start: number, end: number): void {
    const le = this.le;
    for (let o = start; o + 4 <= end; ) {
      const code = u16(b, o, le);
      const len = u16(b, o + 2, le);
      const value = o + 4;
      if (code === OPT_END || value + len > end) return;
      if (code === OPT_FLAGS && len >= 4) this.frame.direction = directionOf(u32(b, value, le));
      else if (code === OPT_COMMENT && this.frame.comment === null)
        this.frame.comment = optionString(b, value, len);
      o = value + ((len + 3) & ~3);
    }
  }

  private readSimplePacket(b: Uint8Array, p: number, total: number, offset: number): void {
    if (total < 16) {
      this.skip(offset, `simple packet block of ${total} bytes is too short`);
      return;
    }
    const state = this.interfaceOf(0, offset);
    if (state === undefined) return;
    const origlen = u32(b, p + 8, this.le);
    const room = total - 16;
    const snaplen = state.info.snaplen === 0 ? room : state.info.snaplen;
    const caplen = Math.min(origlen, room, snaplen);
    const frame = this.frame;
    frame.number = ++this.frames;
    frame.interfaceId = state.info.interfaceId;
    frame.linkType = state.info.linkType;
    frame.timeSec = 0;
    frame.timeNs = 0;
    frame.capturedLength = caplen;
    frame.originalLength = origlen;
    frame.fileOffset = offset;
    frame.buffer = b;
    frame.dataOffset = p + 12;
    frame.direction = Direction.UNKNOWN;
    frame.comment = null;
    this.sink.onFrame(frame);
  }

  /** The state of this section's interface `localId`, or undefined after reporting the block. */
  private interfaceOf(localId: number, offset: number): InterfaceState | undefined {
    const state = this.states[this.sectionBase + localId];
    if (state === undefined) {
      this.skip(offset, `packet block names interface ${localId}, which this section does not describe`);
    }
    return state;
  }

  /** Reports a block that is skipped (reading goes on). */
  private skip(offset: number, what: string): void {
    const frame = this.frames + 1;
    this.sink.onProblem({
      code: 'capture.malformed',
      frame,
      offset,
      message: `block at offset ${offset} (frame ${frame}): ${what}; block skipped`,
    });
  }

  /** Reports a problem after which the stream cannot be followed, and stops. */
  private stop(offset: number, what: string): number {
    const frame = this.frames + 1;
    this.sink.onProblem({
      code: 'capture.malformed',
      frame,
      offset,
      message: `block at offset ${offset} (frame ${frame}): ${what}; reading stops here`,
    });
    this.stopped = true;
    return STOP;
  }
}

/** Smallest length of a block of a known type (0: not a type resynchronising may stop at). */
function minimumLength(type: number): number {
  switch (type) {
    case PCAPNG_SHB:
      return 28;
    case BLOCK_IDB:
      return 20;
    case BLOCK_EPB:
      return 32;
    case BLOCK_PB:
      return 32;
    case BLOCK_SPB:
      return 16;
    case BLOCK_NRB:
    case BLOCK_ISB:
    case BLOCK_JOURNAL:
    case BLOCK_DSB:
      return 12;
    case BLOCK_CUSTOM:
    case BLOCK_CUSTOM_NOCOPY:
      return 16;
    default:
      return 0;
  }
}

function directionOf(flags: number): DirectionValue {
  const bits = flags & 3;
  return bits === 1 ? Direction.INBOUND : bits === 2 ? Direction.OUTBOUND : Direction.UNKNOWN;
}
