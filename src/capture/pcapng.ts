/**
 * pcapng reader (draft-ietf-opsawg-pcapng): every block is
 *
 *   block type (4) | block total length (4) | body ... | block total length (4)
 *
 * Section Header Blocks (0x0a0d0d0a) set the byte order (magic 0x1a2b3c4d) and start a new set of
 * interfaces; Interface Description Blocks (1) give link type, snap length and the options
 * if_name (2), if_tsresol (9) and if_tsoffset (14); Enhanced (6), Simple (3) and legacy (2)
 * Packet Blocks carry frames. Every other block (NRB, ISB, DSB, custom, unknown) is skipped by
 * its length. A block whose length lies stops the walk with `error`, keeping the frames before it.
 */

export interface PcapngInterface {
  /** Index over the whole file (sections concatenated), used to name hops. */
  index: number;
  linkType: number;
  snaplen: number;
  name: string | null;
  /** Timestamp units per second. */
  unitsPerSecond: bigint;
  offsetSeconds: bigint;
}

export interface PcapngRecord {
  frame: number;
  interfaceIndex: number;
  timeNs: bigint;
  capturedLength: number;
  originalLength: number;
  /** EPB flags direction: 1 inbound, 2 outbound, 0 unknown. */
  direction: 0 | 1 | 2;
  comment: string | null;
  data: Uint8Array;
}

export interface PcapngFile {
  interfaces: PcapngInterface[];
  records: PcapngRecord[];
  sections: number;
  /** First problem that stopped the walk: byte offset and what was wrong. */
  error: { offset: number; message: string } | null;
}

const SHB = 0x0a0d0d0a;
const BYTE_ORDER_MAGIC = 0x1a2b3c4d;

export function isPcapng(buf: Uint8Array): boolean {
  return buf.byteLength >= 4 && buf[0] === 0x0a && buf[1] === 0x0d && buf[2] === 0x0d && buf[3] === 0x0a;
}

const utf8 = new TextDecoder('utf-8', { fatal: false });

export function parsePcapng(buf: Uint8Array): PcapngFile {
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const out: PcapngFile = { interfaces: [], records: [], sections: 0, error: null };
  let le = true;
  let sectionBase = 0; // index in out.interfaces of this section's interface 0
  let pos = 0;
  const fail = (offset: number, message: string) => {
    out.error = { offset, message };
  };
  while (pos < buf.byteLength) {
    if (pos + 12 > buf.byteLength) {
      fail(pos, `block header cut off (${buf.byteLength - pos} bytes left)`);
      break;
    }
    let type = view.getUint32(pos, le);
    if (view.getUint32(pos, true) === SHB) {
      type = SHB;
      const magic = view.getUint32(pos + 8, true);
      if (magic === BYTE_ORDER_MAGIC) le = true;
      else if (view.getUint32(pos + 8, false) === BYTE_ORDER_MAGIC) le = false;
      else {
        fail(pos, `section header with unknown byte-order magic 0x${magic.toString(16)}`);
        break;
      }
      out.sections++;
      sectionBase = out.interfaces.length;
    }
    const length = view.getUint32(pos + 4, le);
    if (length < 12 || length % 4 !== 0 || pos + length > buf.byteLength) {
      fail(pos, `block length ${length} is not possible here (${buf.byteLength - pos} bytes left)`);
      break;
    }
    if (view.getUint32(pos + length - 4, le) !== length) {
      fail(pos, `block length ${length} at the start does not match the one at the end`);
      break;
    }
    const body = pos + 8;
    const end = pos + length - 4;
    if (out.sections === 0) {
      fail(pos, 'no section header block before the first block');
      break;
    }
    if (type === 1 && end - body >= 8) {
      const iface: PcapngInterface = {
        index: out.interfaces.length,
        linkType: view.getUint16(body, le),
        snaplen: view.getUint32(body + 4, le),
        name: null,
        unitsPerSecond: 1_000_000n,
        offsetSeconds: 0n,
      };
      forEachOption(view, body + 8, end, le, (code, o, len) => {
        if (code === 2) iface.name = utf8.decode(buf.subarray(o, o + len)).replace(/\0+$/, '');
        else if (code === 9 && len >= 1) {
          const r = buf[o] as number;
          iface.unitsPerSecond = r & 0x80 ? 2n ** BigInt(r & 0x7f) : 10n ** BigInt(r & 0x7f);
        } else if (code === 14 && len >= 8) iface.offsetSeconds = view.getBigInt64(o, le);
      });
      out.interfaces.push(iface);
    } else if ((type === 6 || type === 2) && end - body >= 20) {
      const ifId = type === 6 ? view.getUint32(body, le) : view.getUint16(body, le);
      const iface = out.interfaces[sectionBase + ifId];
      const incl = view.getUint32(body + 12, le);
      const orig = view.getUint32(body + 16, le);
      const dataStart = body + 20;
      if (!iface || sectionBase + ifId >= out.interfaces.length) {
        fail(pos, `packet block names interface ${ifId}, which this section does not describe`);
        break;
      }
      if (dataStart + incl > end) {
        fail(pos, `captured length ${incl} runs past its block`);
        break;
      }
      const ts = (BigInt(view.getUint32(body + 4, le)) << 32n) | BigInt(view.getUint32(body + 8, le));
      let direction: 0 | 1 | 2 = 0;
      let comment: string | null = null;
      forEachOption(view, dataStart + ((incl + 3) & ~3), end, le, (code, o, len) => {
        if (code === 2 && type === 6 && len >= 4) {
          const d = view.getUint32(o, le) & 3; // 3 is not a valid direction
          direction = d === 3 ? 0 : (d as 0 | 1 | 2);
        } else if (code === 1) comment = utf8.decode(buf.subarray(o, o + len));
      });
      out.records.push({
        frame: out.records.length + 1,
        interfaceIndex: iface.index,
        timeNs: (ts * 1_000_000_000n) / iface.unitsPerSecond + iface.offsetSeconds * 1_000_000_000n,
        capturedLength: incl,
        originalLength: orig,
        direction,
        comment,
        data: buf.subarray(dataStart, dataStart + incl),
      });
    } else if (type === 3 && end - body >= 4) {
      const iface = out.interfaces[sectionBase];
      if (!iface) {
        fail(pos, 'simple packet block before any interface description');
        break;
      }
      const orig = view.getUint32(body, le);
      const incl = Math.min(orig, end - body - 4, iface.snaplen || Number.MAX_SAFE_INTEGER);
      out.records.push({
        frame: out.records.length + 1,
        interfaceIndex: iface.index,
        timeNs: 0n,
        capturedLength: incl,
        originalLength: orig,
        direction: 0,
        comment: null,
        data: buf.subarray(body + 4, body + 4 + incl),
      });
    }
    pos += length;
  }
  return out;
}

/** Calls fn(code, valueOffset, valueLength) for each option in [start, end), until opt_endofopt. */
function forEachOption(
  view: DataView,
  start: number,
  end: number,
  le: boolean,
  fn: (code: number, offset: number, length: number) => void,
): void {
  for (let p = start; p + 4 <= end; ) {
    const code = view.getUint16(p, le);
    const len = view.getUint16(p + 2, le);
    if (code === 0 || p + 4 + len > end) return;
    fn(code, p + 4, len);
    p += 4 + ((len + 3) & ~3);
  }
}
