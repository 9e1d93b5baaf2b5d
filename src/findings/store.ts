/**
 * Where observers put findings while frames stream by. One store per hop; a finding is keyed by
 * its code and the flow it concerns (flow id 0: the hop as a whole), counted on every occurrence
 * before the evidence is capped (Zeek counts weirds before rate limiting). A record is created
 * on a finding's first occurrence; later ones only count and, up to the cap, add a frame number.
 */

import { CATALOG, CODE_INDEX, type FindingCode } from './catalog.js';

export const MAX_EVIDENCE = 10;

export interface FindingRecord {
  code: FindingCode;
  hop: string;
  /** The flow in words, or null for hop- and capture-wide findings. */
  flow: string | null;
  count: number;
  /** 1-based frame numbers at this hop (Wireshark's numbering), at most MAX_EVIDENCE. */
  evidence: number[];
  /** Numbers and words the catalogue's templates refer to. */
  facts: Record<string, string | number>;
  /** Evidence at several hops (findings drawn across hops); replaces `evidence` in reports. */
  evidenceHops?: Array<{ hop: string; frame: number }>;
}

export interface FindingStore {
  hop: string;
  /** Indexed by CODE_INDEX; keyed by flow id. */
  byCode: Map<number, FindingRecord>[];
}

export function createFindingStore(hop: string): FindingStore {
  return { hop, byCode: CATALOG.map(() => new Map<number, FindingRecord>()) };
}

/**
 * Counts one occurrence and returns the record; `record.count === 1` tells the caller this is the
 * first one, the moment to fill `flow` and `facts` (so nothing is formatted on later frames).
 */
export function noteFinding(
  store: FindingStore,
  code: FindingCode,
  flowId: number,
  frame: number,
): FindingRecord {
  const byFlow = store.byCode[CODE_INDEX[code]] as Map<number, FindingRecord>;
  let record = byFlow.get(flowId);
  if (record === undefined) {
    record = { code, hop: store.hop, flow: null, count: 0, evidence: [], facts: {} };
    byFlow.set(flowId, record);
  }
  record.count++;
  const evidence = record.evidence;
  if (evidence.length < MAX_EVIDENCE && evidence[evidence.length - 1] !== frame) evidence.push(frame);
  return record;
}

export function allFindings(store: FindingStore): FindingRecord[] {
  const out: FindingRecord[] = [];
  for (const byFlow of store.byCode) for (const record of byFlow.values()) out.push(record);
  return out;
}
