/**
 * What the capture layer hands to the rest of hopscope.
 *
 * A reader is fed bytes in chunks (file, gzip stream, stdin, FIFO) and calls back once per
 * frame with the SAME `Frame` object each time: its fields and the `data` view are valid only
 * until the callback returns. That is what keeps the hot path free of per-frame allocation.
 */

/** Link-layer header types (LINKTYPE_* of the tcpdump.org registry). */
export const LinkType = {
  NULL: 0,
  ETHERNET: 1,
  RAW: 101,
  LOOP: 108,
  LINUX_SLL: 113,
  IPV4: 228,
  IPV6: 229,
  LINUX_SLL2: 276,
} as const;

/** Packet direction as far as the capture says: pcapng epb_flags or SLL packet type. */
export const Direction = { UNKNOWN: 0, INBOUND: 1, OUTBOUND: 2 } as const;
export type DirectionValue = 0 | 1 | 2;

export interface Frame {
  /**
   * 1-based number of this frame in its capture file, across all interfaces and sections
   * (Wireshark's "No."): pcapng custom and journal blocks take a number too, as Wireshark shows
   * them as frames, so numbers may skip.
   */
  number: number;
  /**
   * pcapng interface id across the whole file (sections concatenated; an interface a later section
   * declares again, same name and link type, keeps its first id); 0 for classic pcap.
   */
  interfaceId: number;
  linkType: number;
  /** Timestamp: whole seconds since the epoch, and nanoseconds within that second (exact). */
  timeSec: number;
  timeNs: number;
  capturedLength: number;
  originalLength: number;
  /** From pcapng epb_flags bits 0-1; UNKNOWN for classic pcap. */
  direction: DirectionValue;
  /** pcapng opt_comment, or null. Allocated only for frames that carry one. */
  comment: string | null;
  /** Byte offset of this record's header in the (decompressed) capture stream. */
  fileOffset: number;
  /**
   * The captured bytes are buffer[dataOffset, dataOffset + capturedLength): the reader's chunk or
   * carry buffer, valid only until the callback returns. The hot path reads them in place.
   */
  buffer: Uint8Array;
  dataOffset: number;
  /** The same bytes as a fresh view (allocates: for tests and code off the hot path). */
  readonly data: Uint8Array;
}

/** One interface of a capture: the single one of a classic pcap, or a pcapng IDB. */
export interface CaptureInterface {
  interfaceId: number;
  linkType: number;
  snaplen: number;
  /** pcapng if_name, or null. */
  name: string | null;
  /** pcapng if_description, or null. */
  description: string | null;
}

/** A problem in the capture's container (not in a packet). Reading goes on where it can. */
export interface CaptureProblem {
  code: 'capture.malformed' | 'capture.truncated-file';
  /** Frame number the problem concerns (the frame that would have come next), or 0. */
  frame: number;
  /** Byte offset in the (decompressed) stream. */
  offset: number;
  message: string;
}

/**
 * A capture's own counters for one interface (a pcapng interface statistics block, or a live
 * backend's pcap_stats): cumulative since the capture started; null where the writer said nothing.
 */
export interface CaptureStatistics {
  interfaceId: number;
  /** Packets the interface received (isb_ifrecv, ps_recv). */
  received: number | null;
  /** Packets the operating system or capture library dropped (isb_osdrop, ps_drop). */
  dropped: number | null;
  /** Packets the interface itself dropped (isb_ifdrop, ps_ifdrop). */
  ifDropped: number | null;
}

export interface CaptureSink {
  /** Called once per interface, before that interface's first frame. */
  onInterface(iface: CaptureInterface): void;
  /** Called once per frame with a reused object (see above). */
  onFrame(frame: Frame): void;
  /** Called for each container problem; the reader recovers or stops, it never throws for these. */
  onProblem(problem: CaptureProblem): void;
  /** Called for each interface statistics block (or live counter reading), when the sink wants them. */
  onStatistics?(stats: CaptureStatistics): void;
}

export type CaptureFormat = 'pcap' | 'pcap-ns' | 'pcapng';
