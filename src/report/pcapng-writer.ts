/**
 * Writes pcapng (draft-ietf-opsawg-pcapng): one section, any number of interfaces, Enhanced Packet
 * Blocks with comments. Used where hopscope hands frames back to Wireshark: annotated captures
 * (a finding as the comment on its evidence frames) and the live service's evidence files.
 *
 * The writer only produces bytes, in the order they go to the file, through `write`: the caller
 * chooses where they go (a stream for a capture of any length, a buffer for a small file written
 * atomically). Little-endian, nanosecond timestamps (if_tsresol 9), so the readers' exact
 * timestamps survive unchanged. 64 bits of nanoseconds span 584 years: an interface whose times lie
 * before 1970 or after 2554 (a hostile capture's if_tsoffset) counts them from an if_tsoffset of
 * its own (timeOffsetFor), and a time beyond even that span is written at its nearest end, the
 * writer saying so (never wrapped around into a time that looks plausible).
 */

const BLOCK_SHB = 0x0a0d0d0a;
const BLOCK_IDB = 1;
const BLOCK_EPB = 6;
const BLOCK_ISB = 5;
const BYTE_ORDER_MAGIC = 0x1a2b3c4d;

const OPT_END = 0;
const OPT_COMMENT = 1;
const SHB_USERAPPL = 4;
const IF_NAME = 2;
const IF_DESCRIPTION = 3;
const IF_TSRESOL = 9;
const IF_TSOFFSET = 14;
const EPB_FLAGS = 2;
const ISB_STARTTIME = 2;
const ISB_ENDTIME = 3;
const ISB_IFRECV = 4;
const ISB_IFDROP = 5;
const ISB_OSDROP = 7;

/** The largest block this writer makes; pcapng readers (Wireshark's among them) refuse bigger. */
export const PCAPNG_MAX_PACKET = 256 * 1024 * 1024;

/** Seconds a timestamp spans from its interface's offset: 2^64 ns, 584 years. */
const SPAN_SEC = 2 ** 64 / 1e9;
const LAST_TICK = (1n << 64n) - 1n;

/**
 * The if_tsoffset for an interface whose first time is `sec` (seconds since 1970): 0 when a count
 * of nanoseconds since 1970 holds that time, else one that puts it in the middle of the span, so
 * that times up to 292 years either side of it are held too.
 */
export function timeOffsetFor(sec: number): number {
  if (sec >= 0 && sec < SPAN_SEC) return 0;
  // if_tsoffset is a signed 64-bit number: the largest doubles within it.
  return Math.min(Math.max(Math.floor(sec) - Math.floor(SPAN_SEC / 2), -(2 ** 63)), 2 ** 63 - 1024);
}

export interface PcapngInterface {
  name: string;
  linkType: number;
  /** 0: no limit. */
  snaplen: number;
  description?: string;
  /** Whole seconds the interface's timestamps count from (if_tsoffset; see timeOffsetFor). Default 0. */
  tsOffsetSec?: number;
}

export interface PcapngPacket {
  interfaceId: number;
  /** Seconds since the epoch and nanoseconds within the second, as the readers give them. */
  timeSec: number;
  timeNs: number;
  data: Uint8Array;
  /** The length on the wire; at least data.length. */
  originalLength: number;
  /** Each becomes one opt_comment (Wireshark's frame.comment). */
  comments?: readonly string[];
  /** Inbound 1, outbound 2 (epb_flags bits 0-1); 0 or absent: unknown, not written. */
  direction?: number;
}

export interface PcapngStatistics {
  interfaceId: number;
  timeSec: number;
  timeNs: number;
  startSec?: number;
  startNs?: number;
  received?: number;
  /** Dropped by the interface (isb_ifdrop) and by the OS or capture buffer (isb_osdrop). */
  ifDropped?: number;
  osDropped?: number;
}

export interface PcapngWriter {
  /** Declares an interface; returns its id for writePacket. */
  addInterface(iface: PcapngInterface): number;
  /**
   * False when the packet's time lies outside the 584 years its interface's timestamps span from
   * its offset (timeSpan): it is written at the nearest time they hold.
   */
  writePacket(packet: PcapngPacket): boolean;
  /** An Interface Statistics Block: what the capture of that interface counted and dropped. */
  writeStatistics(stats: PcapngStatistics): void;
  /** The first and the last second an interface's timestamps hold (its offset, 2^64 ns on). */
  timeSpan(interfaceId: number): [number, number];
  /** Bytes handed to `write` so far. */
  readonly bytesWritten: number;
}

const encoder = new TextEncoder();
const pad4 = (n: number): number => (n + 3) & ~3;

interface Option {
  code: number;
  value: Uint8Array;
}

function textOption(code: number, text: string): Option {
  return { code, value: encoder.encode(text) };
}

function u64Option(code: number, value: bigint): Option {
  const bytes = new Uint8Array(8);
  // pcapng writes a 64-bit counter as one little-endian number in a little-endian section.
  new DataView(bytes.buffer).setBigUint64(0, value, true);
  return { code, value: bytes };
}

/**
 * Timestamps split as pcapng stores them: the high and low 32 bits of a count of nanoseconds since
 * `offsetSec`, held to what 64 bits count (`exact` false when it had to be).
 */
function timestampOption(
  code: number,
  sec: number,
  ns: number,
  offsetSec: number,
): Option & { exact: boolean } {
  const counted = BigInt(Math.floor(sec) - offsetSec) * 1_000_000_000n + BigInt(Math.floor(ns));
  const ticks = counted < 0n ? 0n : counted > LAST_TICK ? LAST_TICK : counted;
  const bytes = new Uint8Array(8);
  const view = new DataView(bytes.buffer);
  view.setUint32(0, Number(ticks >> 32n), true);
  view.setUint32(4, Number(ticks & 0xffffffffn), true);
  return { code, value: bytes, exact: ticks === counted };
}

function optionsLength(options: readonly Option[]): number {
  if (options.length === 0) return 0;
  let length = 4; // opt_endofopt
  for (const option of options) length += 4 + pad4(option.value.length);
  return length;
}

function putOptions(view: DataView, bytes: Uint8Array, at: number, options: readonly Option[]): number {
  if (options.length === 0) return at;
  let p = at;
  for (const option of options) {
    view.setUint16(p, option.code, true);
    view.setUint16(p + 2, option.value.length, true);
    bytes.set(option.value, p + 4);
    p += 4 + pad4(option.value.length);
  }
  view.setUint16(p, OPT_END, true);
  view.setUint16(p + 2, 0, true);
  return p + 4;
}

/** A block: type, total length, `body` bytes of fixed fields, the options, the length again. */
function block(
  type: number,
  bodyLength: number,
  options: readonly Option[],
): { bytes: Uint8Array; view: DataView } {
  const total = 12 + pad4(bodyLength) + optionsLength(options);
  const bytes = new Uint8Array(total);
  const view = new DataView(bytes.buffer);
  view.setUint32(0, type, true);
  view.setUint32(4, total, true);
  view.setUint32(total - 4, total, true);
  return { bytes, view };
}

function optionText(text: string): string {
  // An option's length is 16 bits; a longer comment is cut at a character boundary, not mid-UTF-8.
  let cut = text;
  while (encoder.encode(cut).length > 0xfff0) cut = cut.slice(0, Math.floor(cut.length * 0.9));
  return cut;
}

export function createPcapngWriter(
  write: (chunk: Uint8Array) => void,
  application = 'hopscope',
): PcapngWriter {
  let bytesWritten = 0;
  let interfaces = 0;
  /** Each interface's if_tsoffset, by id. */
  const offsets: number[] = [];
  const emit = (bytes: Uint8Array): void => {
    bytesWritten += bytes.length;
    write(bytes);
  };

  const shbOptions = [textOption(SHB_USERAPPL, optionText(application))];
  const shb = block(BLOCK_SHB, 16, shbOptions);
  shb.view.setUint32(8, BYTE_ORDER_MAGIC, true);
  shb.view.setUint16(12, 1, true); // major version
  shb.view.setUint16(14, 0, true); // minor version
  shb.view.setBigInt64(16, -1n, true); // section length: not known in advance
  putOptions(shb.view, shb.bytes, 24, shbOptions);
  emit(shb.bytes);

  return {
    get bytesWritten() {
      return bytesWritten;
    },

    timeSpan(interfaceId) {
      const offset = offsets[interfaceId] ?? 0;
      return [offset, offset + Math.floor(SPAN_SEC)];
    },

    addInterface(iface) {
      const options = [textOption(IF_NAME, optionText(iface.name))];
      if (iface.description) options.push(textOption(IF_DESCRIPTION, optionText(iface.description)));
      options.push({ code: IF_TSRESOL, value: Uint8Array.of(9) });
      const offset = iface.tsOffsetSec ?? 0;
      // A signed 64-bit number: its two's complement bits.
      if (offset !== 0) options.push(u64Option(IF_TSOFFSET, BigInt.asUintN(64, BigInt(offset))));
      offsets.push(offset);
      const idb = block(BLOCK_IDB, 8, options);
      idb.view.setUint16(8, iface.linkType, true);
      idb.view.setUint32(12, iface.snaplen >>> 0, true);
      putOptions(idb.view, idb.bytes, 16, options);
      emit(idb.bytes);
      return interfaces++;
    },

    writePacket(packet) {
      if (!(packet.interfaceId >= 0 && packet.interfaceId < interfaces))
        throw new RangeError(`pcapng writer: interface ${packet.interfaceId} was not declared`);
      const data =
        packet.data.length > PCAPNG_MAX_PACKET ? packet.data.subarray(0, PCAPNG_MAX_PACKET) : packet.data;
      const options: Option[] = (packet.comments ?? []).map((c) => textOption(OPT_COMMENT, optionText(c)));
      if (packet.direction === 1 || packet.direction === 2) {
        const flags = new Uint8Array(4);
        new DataView(flags.buffer).setUint32(0, packet.direction, true);
        options.push({ code: EPB_FLAGS, value: flags });
      }
      const epb = block(BLOCK_EPB, 20 + data.length, options);
      const ts = timestampOption(0, packet.timeSec, packet.timeNs, offsets[packet.interfaceId] ?? 0);
      epb.view.setUint32(8, packet.interfaceId, true);
      epb.bytes.set(ts.value, 12);
      epb.view.setUint32(20, data.length, true);
      epb.view.setUint32(24, Math.max(packet.originalLength, data.length) >>> 0, true);
      epb.bytes.set(data, 28);
      putOptions(epb.view, epb.bytes, 28 + pad4(data.length), options);
      emit(epb.bytes);
      return ts.exact;
    },

    writeStatistics(stats) {
      if (!(stats.interfaceId >= 0 && stats.interfaceId < interfaces))
        throw new RangeError(`pcapng writer: interface ${stats.interfaceId} was not declared`);
      const offset = offsets[stats.interfaceId] ?? 0;
      const options: Option[] = [];
      if (stats.startSec !== undefined)
        options.push(timestampOption(ISB_STARTTIME, stats.startSec, stats.startNs ?? 0, offset));
      options.push(timestampOption(ISB_ENDTIME, stats.timeSec, stats.timeNs, offset));
      if (stats.received !== undefined) options.push(u64Option(ISB_IFRECV, BigInt(stats.received)));
      if (stats.ifDropped !== undefined) options.push(u64Option(ISB_IFDROP, BigInt(stats.ifDropped)));
      if (stats.osDropped !== undefined) options.push(u64Option(ISB_OSDROP, BigInt(stats.osDropped)));
      const isb = block(BLOCK_ISB, 12, options);
      isb.view.setUint32(8, stats.interfaceId, true);
      isb.bytes.set(timestampOption(0, stats.timeSec, stats.timeNs, offset).value, 12);
      putOptions(isb.view, isb.bytes, 20, options);
      emit(isb.bytes);
    },
  };
}
