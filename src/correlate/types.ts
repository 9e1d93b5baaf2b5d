/** What correlation reports: the shapes shared by the correlator, the report model and the tests. */

import type { FindingRecord } from '../findings/store.js';

export interface PathHop {
  hop: string;
  frames: number;
  bytes: number;
  sizes: Array<{ size: number; frames: number }>;
  superFrames: number;
}

export interface PathReport {
  flow: string;
  hops: PathHop[];
  mss: number | null;
  splitAt: { from: string; to: string | null; segmentSize: number; mechanism: string } | null;
  mergedAt: { from: string; to: string; maxPayload: number } | null;
  fragmentedAt: { hop: string; mtu: number | null; overhead: number | null; innerSize: number } | null;
  lostAt: { from: string; to: string; bytes: number; frames: number } | null;
  gaps: Array<{ hop: string; bytes: number; frames: number }>;
  /** Hops the topology places on this path that no capture covers. */
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
  /** Seconds to subtract from each hop's timestamps to put it on the reference hop's clock. */
  clockOffsets: Record<string, number>;
  findings: FindingRecord[];
}
