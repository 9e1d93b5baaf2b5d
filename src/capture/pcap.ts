/**
 * Classic pcap (libpcap) file reader: both byte orders, micro- and nanosecond timestamps.
 *
 *   global header (24 bytes): magic, version 2.4, thiszone, sigfigs, snaplen, linktype
 *   record header (16 bytes): ts_sec, ts_frac, incl_len, orig_len, then incl_len bytes
 *
 * Records are yielded as views into the file's buffer (no copies). A record that runs past the
 * end of the file stops the walk and is reported through `truncatedAt`, never thrown.
 */

export interface PcapRecord {
  /** 1-based frame number, as Wireshark numbers frames. */
  frame: number;
  /** Timestamp in nanoseconds since the epoch. */
  timeNs: bigint;
  capturedLength: number;
  originalLength: number;
  data: Uint8Array;
}

export interface PcapFile {
  linkType: number;
  snaplen: number;
  nanosecond: boolean;
  littleEndian: boolean;
  records: PcapRecord[];
  /** Byte offset of a record that was cut off by the end of the file, if any. */
  truncatedAt: number | null;
}

export class NotPcapError extends Error {
  readonly code = 'HOPSCOPE_NOT_PCAP';
}

const MAGIC_US = 0xa1b2c3d4;
const MAGIC_NS = 0xa1b23c4d;

export function parsePcap(buf: Uint8Array, name = 'capture'): PcapFile {
  if (buf.byteLength < 24)
    throw new NotPcapError(`${name}: ${buf.byteLength} bytes, too short for a pcap header`);
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const magicLE = view.getUint32(0, true);
  const magicBE = view.getUint32(0, false);
  let littleEndian: boolean;
  let nanosecond: boolean;
  if (magicLE === MAGIC_US || magicLE === MAGIC_NS) {
    littleEndian = true;
    nanosecond = magicLE === MAGIC_NS;
  } else if (magicBE === MAGIC_US || magicBE === MAGIC_NS) {
    littleEndian = false;
    nanosecond = magicBE === MAGIC_NS;
  } else {
    throw new NotPcapError(
      `${name}: not a classic pcap file (magic 0x${magicBE.toString(16).padStart(8, '0')})`,
    );
  }
  const snaplen = view.getUint32(16, littleEndian);
  const linkType = view.getUint32(20, littleEndian) & 0x0fffffff;
  const records: PcapRecord[] = [];
  let pos = 24;
  let truncatedAt: number | null = null;
  while (pos < buf.byteLength) {
    if (pos + 16 > buf.byteLength) {
      truncatedAt = pos;
      break;
    }
    const sec = view.getUint32(pos, littleEndian);
    const frac = view.getUint32(pos + 4, littleEndian);
    const incl = view.getUint32(pos + 8, littleEndian);
    const orig = view.getUint32(pos + 12, littleEndian);
    if (pos + 16 + incl > buf.byteLength) {
      truncatedAt = pos;
      break;
    }
    records.push({
      frame: records.length + 1,
      timeNs: BigInt(sec) * 1_000_000_000n + BigInt(nanosecond ? frac : frac * 1000),
      capturedLength: incl,
      originalLength: orig,
      data: buf.subarray(pos + 16, pos + 16 + incl),
    });
    pos += 16 + incl;
  }
  return { linkType, snaplen, nanosecond, littleEndian, records, truncatedAt };
}
