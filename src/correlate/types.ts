/** What correlation reports: the shapes shared by the correlator, the report model and the tests. */

import type { FindingRecord } from '../findings/store.js';
import type { FlowKey } from '../observe/flow-key.js';

export interface PathHop {
  hop: string;
  frames: number;
  bytes: number;
  sizes: Array<{ size: number; frames: number }>;
  superFrames: number;
}

/** How super-frames became wire-sized segments (the catalogue's segment.split words say it). */
export type SplitMechanism =
  | 'software-gso-tunnel'
  | 'software-gso'
  | 'nic-tso'
  | 'nic-tso-wire'
  | 'not-split';

export interface PathReport {
  /** "TCP 10.0.0.1:1234 -> 10.0.0.2:80", in the direction of the data. */
  flow: string;
  flowKey: FlowKey;
  hops: PathHop[];
  /** The MSS the receiver announced in its SYN (null: no SYN captured). */
  mss: number | null;
  /** Without the SYN: the MSS estimated from the traffic, and from what (derived). */
  mssEstimated: { mss: number; from: 'segments' | 'mtu' } | null;
  splitAt: { from: string; to: string | null; segmentSize: number; mechanism: SplitMechanism } | null;
  mergedAt: { from: string; to: string; maxPayload: number } | null;
  fragmentedAt: { hop: string; mtu: number | null; overhead: number | null; innerSize: number } | null;
  lostAt: { from: string; to: string; bytes: number; frames: number } | null;
  gaps: Array<{ hop: string; bytes: number; frames: number }>;
  /** Hops the topology lists on this path that no capture covers. */
  missing: string[];
  /** How the order was decided. */
  orderedBy: 'path' | 'topology' | 'evidence';
}

export interface CorrelationOptions {
  /** Hop names in path order (--path). */
  path?: string[];
  /** Capture file order from a topology file, as hop names. */
  topologyOrder?: string[];
  /** Every hop the topology lists, captured or not: to say which ones are missing. */
  expected?: string[];
}

export interface Correlation {
  paths: PathReport[];
  /**
   * Seconds to subtract from each hop's timestamps to put it on the reference hop's clock; null
   * when the hop shares no data with the others (unknown, never assumed 0).
   */
  clockOffsets: Record<string, number | null>;
  findings: FindingRecord[];
}
