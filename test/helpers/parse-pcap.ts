// Reads a whole classic pcap held in memory into records, on the project's own streaming parser:
// for test helpers that want every record at once (the analysis itself never holds a capture).
import { createPcapParser } from '../../src/capture/pcap.js';

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
 * Reads a whole classic pcap held in memory (built on createPcapParser). For tests; the analysis uses
 * readCapture or createPcapParser. Throws a plain Error naming
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
