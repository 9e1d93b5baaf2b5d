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
 *   Anything else (Name Resolution 4, Interface Statistics 5, Decryption Secrets 10, custom
 *                  0xbad/0x40000bad, unknown): skipped by its length.
 *
 * Frame.interfaceId numbers interfaces over the whole file, sections concatenated. Container
 * problems never throw: a block length that lies (below 12, not a multiple of 4, above the cap, or
 * not repeated at the end) is 'capture.malformed' and stops the reading; a packet naming an
 * undeclared interface, or whose captured length runs past its block, is 'capture.malformed' and
 * that block alone is skipped; a block cut off by the end of the stream is
 * 'capture.truncated-file'. Per frame the parser allocates only the `data` view (as pcap.ts), and
 * the comment string for frames that carry one.
 */

import { type CaptureInterface, type CaptureSink, Direction, type DirectionValue } from './frame.js';
import { newFrame } from './pcap.js';
import { hexBytes, i64, RecordStream, STOP, u16, u32 } from './records.js';
import { MICROSECONDS, resolutionFromTsresol, splitTimestamp, type TimeResolution } from './timestamp.js';

export const PCAPNG_SHB = 0x0a0d0d0a;
export const PCAPNG_BYTE_ORDER_MAGIC = 0x1a2b3c4d;
const BLOCK_IDB = 1;
const BLOCK_PB = 2;
const BLOCK_SPB = 3;
const BLOCK_EPB = 6;
const OPT_END = 0;
const OPT_COMMENT = 1;
const OPT_FLAGS = 2;
const OPT_IF_NAME = 2;
const OPT_IF_DESCRIPTION = 3;
const OPT_IF_TSRESOL = 9;
const OPT_IF_TSOFFSET = 14;
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

  constructor(
    private readonly sink: CaptureSink,
    private readonly maxBlock: number,
  ) {
    super(MIN_BLOCK, maxBlock);
  }

  protected measure(b: Uint8Array, p: number, offset: number): number {
    if (u32(b, p, true) === PCAPNG_SHB) {
      if (u32(b, p + 8, true) === PCAPNG_BYTE_ORDER_MAGIC) this.le = true;
      else if (u32(b, p + 8, false) === PCAPNG_BYTE_ORDER_MAGIC) this.le = false;
      else
        return this.stop(
          offset,
          `section header with unknown byte-order magic ${hexBytes(b.subarray(p + 8))}`,
        );
    } else if (this.sections === 0) {
      return this.stop(offset, `no section header block first (first bytes ${hexBytes(b.subarray(p))})`);
    }
    const length = u32(b, p + 4, this.le);
    if (length < MIN_BLOCK || length % 4 !== 0 || length > this.maxBlock) {
      const type = u32(b, p, this.le);
      return this.stop(offset, `block of type 0x${type.toString(16)} claims an impossible length ${length}`);
    }
    return length;
  }

  protected consume(b: Uint8Array, p: number, total: number, offset: number): void {
    const le = this.le;
    const trailer = u32(b, p + total - 4, le);
    if (trailer !== total) {
      this.stop(offset, `block length ${total} at the start does not match the ${trailer} at the end`);
      return;
    }
    const type = u32(b, p, le);
    if (type === PCAPNG_SHB) this.readSectionHeader();
    else if (type === BLOCK_IDB) this.readInterface(b, p, total, offset);
    else if (type === BLOCK_EPB || type === BLOCK_PB) this.readPacket(b, p, total, offset, type);
    else if (type === BLOCK_SPB) this.readSimplePacket(b, p, total, offset);
  }

  protected truncated(offset: number, have: number, need: number): void {
    const frame = this.frames + 1;
    const size = need === 0 ? 'its header' : `${need} bytes`;
    this.sink.onProblem({
      code: 'capture.truncated-file',
      frame,
      offset,
      message: `block at offset ${offset} (before frame ${frame}) is cut off by the end of the file: ${have} bytes of ${size}`,
    });
  }

  private readSectionHeader(): void {
    this.sections++;
    this.sectionBase = this.states.length;
  }

  private readInterface(b: Uint8Array, p: number, total: number, offset: number): void {
    const le = this.le;
    if (total < 20) {
      this.skip(offset, `interface description block of ${total} bytes is too short`);
      return;
    }
    const info: CaptureInterface = {
      interfaceId: this.states.length,
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
    this.states.push(state);
    this.interfaces.push(info);
    this.sink.onInterface(info);
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

function directionOf(flags: number): DirectionValue {
  const bits = flags & 3;
  return bits === 1 ? Direction.INBOUND : bits === 2 ? Direction.OUTBOUND : Direction.UNKNOWN;
}
