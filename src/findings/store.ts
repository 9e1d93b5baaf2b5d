/**
 * Where observers put findings while frames stream by. One store per hop; a finding is keyed by
 * its code and the flow it concerns (flow id 0: the hop as a whole), counted on every occurrence
 * before the evidence is capped (Zeek counts weirds before rate limiting). A record is created
 * on a finding's first occurrence; later ones only count, move `lastTime` and, up to the cap,
 * add a frame number.
 *
 * Memory is bounded by flows, not by time: each code keeps at most MAX_FLOW_RECORDS flows'
 * records; occurrences for further flows are counted in one record for "other flows" (flow null).
 */

import { DOUBLE_FIELD } from '../doubles.js';
import type { FlowKey } from '../observe/flow-key.js';
import { CATALOG, CODE_INDEX, type Facts, type FindingCode, type FindingScope } from './catalog.js';

export const MAX_EVIDENCE = 10;
/** Per code and hop, flows that get a record of their own. */
export const MAX_FLOW_RECORDS = 1000;
/** The key of the record that counts the flows beyond MAX_FLOW_RECORDS. */
const OTHER_FLOWS = -1;

export interface FindingRecord {
  code: FindingCode;
  hop: string;
  /** The flow (in its direction), or null for hop- and capture-wide findings. */
  flow: FlowKey | null;
  /** True for the record that counts the flows beyond MAX_FLOW_RECORDS (its flow stays null). */
  otherFlows?: boolean;
  /** When the catalogue's scope does not fit this record (a hop finding drawn for one path). */
  scope?: FindingScope;
  count: number;
  /** 1-based frame numbers at this hop (Wireshark's numbering), at most MAX_EVIDENCE. */
  evidence: number[];
  /** Numbers, hop names and enums the catalogue's templates refer to. */
  facts: Facts;
  /** Names of facts hopscope computed rather than read off the wire (Wireshark's generated fields). */
  derived: string[];
  /** Evidence at several hops (findings drawn across hops); replaces `evidence` in reports. */
  evidenceHops?: Array<{ hop: string; frame: number }>;
  /** Capture time (s since the epoch, the hop's clock) of the first and last occurrence; -1 unknown. */
  firstTime: number;
  lastTime: number;
}

/**
 * The capture time (s) of the frame being observed, set once per frame by the hop's observer and
 * shared by what notes things about that frame: read there rather than passed along, since a double
 * passed to a call that is not inlined is boxed, an allocation per frame.
 */
export interface Clock {
  now: number;
}

export interface FindingStore {
  hop: string;
  clock: Clock;
  /** Indexed by CODE_INDEX; keyed by flow id. */
  byCode: Map<number, FindingRecord>[];
}

export function createFindingStore(hop: string, clock: Clock = newClock()): FindingStore {
  return { hop, clock, byCode: CATALOG.map(() => new Map<number, FindingRecord>()) };
}

/** A clock before the first frame (-1); its time a double from the start (see doubles.ts). */
export function newClock(): Clock {
  const clock: Clock = { now: DOUBLE_FIELD };
  clock.now = -1;
  return clock;
}

export function newRecord(code: FindingCode, hop: string, time: number): FindingRecord {
  const record: FindingRecord = {
    code,
    hop,
    flow: null,
    count: 0,
    evidence: [],
    facts: {},
    derived: [],
    firstTime: DOUBLE_FIELD,
    lastTime: DOUBLE_FIELD,
  };
  // Times: doubles from the start (see doubles.ts), whether or not the first one is whole.
  record.firstTime = time;
  record.lastTime = time;
  return record;
}

/**
 * Counts one occurrence (at the store's clock) and returns the record; `record.count === 1`
 * tells the caller this is the first one, the moment to fill `flow` (unless `otherFlows`) and
 * `facts`, so nothing is formatted on later frames.
 */
export function noteFinding(
  store: FindingStore,
  code: FindingCode,
  flowId: number,
  frame: number,
): FindingRecord {
  const time = store.clock.now;
  const byFlow = store.byCode[CODE_INDEX[code]] as Map<number, FindingRecord>;
  let record = byFlow.get(flowId);
  if (record === undefined) {
    const key = flowId !== 0 && byFlow.size >= MAX_FLOW_RECORDS ? OTHER_FLOWS : flowId;
    record = byFlow.get(key);
    if (record === undefined) {
      record = newRecord(code, store.hop, time);
      if (key === OTHER_FLOWS) record.otherFlows = true;
      byFlow.set(key, record);
    }
  }
  record.count++;
  if (time > record.lastTime) record.lastTime = time;
  const evidence = record.evidence;
  if (evidence.length < MAX_EVIDENCE && evidence[evidence.length - 1] !== frame) evidence.push(frame);
  return record;
}

/** Every record of a store (off the hot path: reports and tests). */
export function storeRecords(store: FindingStore): FindingRecord[] {
  const out: FindingRecord[] = [];
  for (const byFlow of store.byCode) for (const record of byFlow.values()) out.push(record);
  return out;
}
