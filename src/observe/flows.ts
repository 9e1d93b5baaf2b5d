/**
 * Per-hop flow table: the transport conversations a hop carries, keyed by both endpoints, the
 * protocol and the tunnel VNI (the same inner addresses in two VNIs are two flows).
 *
 * Both directions share one entry (endpoints stored in a fixed order), so a data segment can find
 * the MSS its receiver announced in its SYN. Lookups hash the bytes in place and compare them, so
 * a frame of an existing flow allocates nothing; a new flow allocates one entry. Memory is
 * bounded by flows and time, not by capture length: flows idle for `idleSec` of capture time are
 * retired (swept now and then, see retireIdleFlows), and beyond `maxFlows` the oldest-created
 * flows are dropped (a weeks-long live capture sees millions of short flows). What they counted
 * stays in the hop's counters and findings.
 */

import { viewOf } from '../arrays.js';
import type { Level } from '../decode/packet.js';
import { DOUBLE_FIELD } from '../doubles.js';
import { endpointText, type FlowKey, protocolName } from './flow-key.js';
import { createFlowTrace, type FlowTrace, traceSamples } from './trace.js';

export interface FlowEntry {
  /** Small integer id, unique within the hop for the run (never reused). */
  id: number;
  hash: number;
  ipVersion: number;
  protocol: number;
  vni: number;
  /** Endpoint A is the one whose address bytes sort first (then port). */
  /** Both addresses in one array (A then B, 4 or 16 bytes each): one allocation per flow. */
  addr: Uint8Array;
  portA: number;
  portB: number;
  /** IPv4 only: the two addresses as 32-bit numbers, compared at once (-1 for IPv6). */
  a4: number;
  b4: number;
  /** Capture time of the flow's last frame (s), for retiring idle flows. */
  lastSeenSec: number;
  /** False once retired or evicted (the creation-order list drops it lazily). */
  alive: boolean;
  /** What this hop saw of the flow, for correlation across hops (TCP only; created on first use). */
  trace: FlowTrace | null;
}

export interface FlowTable {
  byHash: Map<number, FlowEntry[]>;
  size: number;
  nextId: number;
  maxFlows: number;
  /** Creation order, for eviction; entries that were evicted are skipped lazily. */
  order: FlowEntry[];
  orderHead: number;
  /** The flow found last (a one-entry cache). */
  last: FlowEntry | null;
  /** Whether the level looked up last was sent by its flow's endpoint A. */
  fromA: boolean;
  /** Trace samples that left with removed flows, not yet taken off the hop's budget. */
  freedSamples: number;
}

/** Flows kept per hop at most; ordinary hypervisor hops carry far fewer at once. */
export const MAX_FLOWS = 10_000;
/** A flow seen this recently (capture time, s) is not evicted for room while older ones can go. */
const RECENT_SEC = 30;

/**
 * An empty list made for objects. `[]` is made for small integers and turns into a list of objects
 * at its first push: V8's code compiled for the first hop's (object) list would be thrown away at
 * every later hop's first flow.
 */
function emptyEntryList(): FlowEntry[] {
  const list: Array<FlowEntry | null> = [null];
  list.length = 0;
  return list as FlowEntry[];
}

export function createFlowTable(maxFlows = MAX_FLOWS): FlowTable {
  return {
    byHash: new Map(),
    size: 0,
    nextId: 1,
    maxFlows,
    order: emptyEntryList(),
    orderHead: 0,
    last: null,
    fromA: true,
    freedSamples: 0,
  };
}

/** -1 when the source endpoint sorts before the destination, 1 after, 0 when equal. */
function compareEndpoints(data: Uint8Array, level: Level, length: number): number {
  for (let i = 0; i < length; i++) {
    const s = data[level.srcOffset + i] as number;
    const d = data[level.dstOffset + i] as number;
    if (s !== d) return s < d ? -1 : 1;
  }
  return level.srcPort === level.dstPort ? 0 : level.srcPort < level.dstPort ? -1 : 1;
}

function hashFlow(data: Uint8Array, level: Level, length: number): number {
  // Order-independent over the two endpoints: FNV-1a of each endpoint, then combined with XOR.
  let hs = 0x811c9dc5;
  let hd = 0x811c9dc5;
  for (let i = 0; i < length; i++) {
    hs = Math.imul(hs ^ (data[level.srcOffset + i] as number), 0x01000193);
    hd = Math.imul(hd ^ (data[level.dstOffset + i] as number), 0x01000193);
  }
  hs = Math.imul(hs ^ level.srcPort, 0x01000193);
  hd = Math.imul(hd ^ level.dstPort, 0x01000193);
  return ((hs ^ hd ^ Math.imul(level.protocol + 1, 0x9e3779b1) ^ level.vni) >>> 0) & 0x3fffffff;
}

function sameBytes(a: Uint8Array, at: number, data: Uint8Array, offset: number, length: number): boolean {
  for (let i = 0; i < length; i++) if (a[at + i] !== data[offset + i]) return false;
  return true;
}

function bothAddresses(data: Uint8Array, a: number, b: number, length: number): Uint8Array {
  const addr = new Uint8Array(2 * length);
  addr.set(data.subarray(a, a + length), 0);
  addr.set(data.subarray(b, b + length), length);
  return addr;
}

/** True when the level's source is the entry's endpoint A. */
export function isFromA(entry: FlowEntry, data: Uint8Array, level: Level): boolean {
  if (entry.ipVersion === 4)
    return entry.portA === level.srcPort && entry.a4 === viewOf(data).getUint32(level.srcOffset);
  return entry.portA === level.srcPort && sameBytes(entry.addr, 0, data, level.srcOffset, 16);
}

/** NO_MATCH, or which endpoint sent the level: SRC_IS_A or SRC_IS_B. */
const NO_MATCH = 0;
const SRC_IS_A = 1;
const SRC_IS_B = 2;

function matches(entry: FlowEntry, data: Uint8Array, level: Level, length: number): number {
  if (entry.protocol !== level.protocol || entry.vni !== level.vni || entry.ipVersion !== level.ipVersion) {
    return NO_MATCH;
  }
  if (length === 4) {
    // Four bytes read once per address, compared as numbers: this runs for every level of every frame.
    // Through the DataView, not u32(): an address of 128.0.0.0 or above (192.168/16, 172.16/12) is
    // no small integer for V8, and a u32 call V8 did not inline would return each as a new heap
    // number, one per frame (as the decoder's did: see decode/fast.ts).
    const view = viewOf(data);
    const src = view.getUint32(level.srcOffset);
    const dst = view.getUint32(level.dstOffset);
    if (
      entry.portA === level.srcPort &&
      entry.portB === level.dstPort &&
      entry.a4 === src &&
      entry.b4 === dst
    )
      return SRC_IS_A;
    return entry.portB === level.srcPort &&
      entry.portA === level.dstPort &&
      entry.b4 === src &&
      entry.a4 === dst
      ? SRC_IS_B
      : NO_MATCH;
  }
  if (
    entry.portA === level.srcPort &&
    entry.portB === level.dstPort &&
    sameBytes(entry.addr, 0, data, level.srcOffset, length) &&
    sameBytes(entry.addr, length, data, level.dstOffset, length)
  )
    return SRC_IS_A;
  return entry.portB === level.srcPort &&
    entry.portA === level.dstPort &&
    sameBytes(entry.addr, length, data, level.srcOffset, length) &&
    sameBytes(entry.addr, 0, data, level.dstOffset, length)
    ? SRC_IS_B
    : NO_MATCH;
}

/** Finds or creates the flow of a level that has addresses and ports. */
export function lookupFlow(table: FlowTable, data: Uint8Array, level: Level, nowSec: number): FlowEntry {
  const length = level.ipVersion === 4 ? 4 : 16;
  // Bulk transfers send long runs of one flow: try the last flow before hashing.
  const last = table.last;
  if (last !== null) {
    const match = matches(last, data, level, length);
    if (match !== NO_MATCH) {
      last.lastSeenSec = nowSec;
      table.fromA = match === SRC_IS_A;
      return last;
    }
  }
  const hash = hashFlow(data, level, length);
  let bucket = table.byHash.get(hash);
  if (bucket !== undefined) {
    for (let i = 0; i < bucket.length; i++) {
      const entry = bucket[i] as FlowEntry;
      const match = matches(entry, data, level, length);
      if (match !== NO_MATCH) {
        entry.lastSeenSec = nowSec;
        table.last = entry;
        table.fromA = match === SRC_IS_A;
        return entry;
      }
    }
  }
  if (table.size >= table.maxFlows) evictOldest(table, nowSec);
  const srcFirst = compareEndpoints(data, level, length) <= 0;
  const a = srcFirst ? level.srcOffset : level.dstOffset;
  const b = srcFirst ? level.dstOffset : level.srcOffset;
  const entry: FlowEntry = {
    id: table.nextId++,
    hash,
    ipVersion: level.ipVersion,
    protocol: level.protocol,
    vni: level.vni,
    addr: bothAddresses(data, a, b, length),
    portA: srcFirst ? level.srcPort : level.dstPort,
    portB: srcFirst ? level.dstPort : level.srcPort,
    // 32-bit addresses: doubles from the start (see doubles.ts).
    a4: DOUBLE_FIELD,
    b4: DOUBLE_FIELD,
    lastSeenSec: nowSec,
    alive: true,
    trace: null,
  };
  const view = viewOf(data);
  entry.a4 = length === 4 ? view.getUint32(a) : -1;
  entry.b4 = length === 4 ? view.getUint32(b) : -1;
  if (bucket === undefined) {
    bucket = [];
    table.byHash.set(hash, bucket);
  }
  bucket.push(entry);
  table.order.push(entry);
  table.size++;
  table.last = entry;
  table.fromA = srcFirst;
  return entry;
}

function removeFlow(table: FlowTable, victim: FlowEntry): void {
  victim.alive = false;
  if (table.last === victim) table.last = null;
  const bucket = table.byHash.get(victim.hash);
  if (bucket !== undefined) {
    const at = bucket.indexOf(victim);
    if (at >= 0) bucket.splice(at, 1);
    if (bucket.length === 0) table.byHash.delete(victim.hash);
  }
  table.size--;
  if (victim.trace !== null) table.freedSamples += traceSamples(victim.trace);
  // The creation-order list may still hold the entry for a while: let the trace go now.
  victim.trace = null;
}

/**
 * Makes room: the oldest-created flow goes, unless it was seen in the last RECENT_SEC (a
 * long-lived transfer), which moves to the back of the line instead (a bounded number of times).
 */
function evictOldest(table: FlowTable, nowSec: number): void {
  for (let tries = 0; tries < 64; tries++) {
    const victim = table.order[table.orderHead++];
    if (victim === undefined) return;
    if (!victim.alive) continue;
    if (tries < 63 && victim.lastSeenSec > nowSec - RECENT_SEC) {
      table.order.push(victim);
      continue;
    }
    removeFlow(table, victim);
    break;
  }
  compactOrder(table);
}

/** Drops retired entries from the creation-order list now and then, so it stays bounded. */
function compactOrder(table: FlowTable): void {
  if (table.order.length > 2 * table.size + 4096) {
    // A flow moved to the back appears twice: keep its last place.
    const kept = table.order.filter((entry, i) => i >= table.orderHead && entry.alive);
    const last = new Map(kept.map((entry, i) => [entry, i]));
    table.order = kept.filter((entry, i) => last.get(entry) === i);
    table.orderHead = 0;
  }
}

/**
 * Retires the flows not seen for `idleSec` of capture time before `nowSec` (their traces go with
 * them). Called now and then, not per frame: O(flows).
 */
export function retireIdleFlows(table: FlowTable, nowSec: number, idleSec: number): number {
  const before = nowSec - idleSec;
  let retired = 0;
  for (const bucket of [...table.byHash.values()]) {
    for (const entry of [...bucket]) {
      if (entry.lastSeenSec >= before) continue;
      removeFlow(table, entry);
      retired++;
    }
  }
  if (retired > 0) compactOrder(table);
  return retired;
}

export function formatAddress(bytes: Uint8Array, offset: number, version: number): string {
  if (version === 4) {
    return `${bytes[offset]}.${bytes[offset + 1]}.${bytes[offset + 2]}.${bytes[offset + 3]}`;
  }
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2) {
    groups.push((((bytes[offset + i] as number) << 8) | (bytes[offset + i + 1] as number)).toString(16));
  }
  // Compress the longest run of zero groups (RFC 5952).
  let bestStart = -1;
  let bestLength = 0;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== '0') {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === '0') j++;
    if (j - i > bestLength && j - i > 1) {
      bestStart = i;
      bestLength = j - i;
    }
    i = j;
  }
  if (bestStart < 0) return groups.join(':');
  const head = groups.slice(0, bestStart).join(':');
  const tail = groups.slice(bestStart + bestLength).join(':');
  return `${head}::${tail}`;
}

/** The flow's key in the direction given (endpoint A as source when `fromA`). */
export function flowKeyOf(entry: FlowEntry, fromA: boolean, withVni = true): FlowKey {
  const a = formatAddress(entry.addr, 0, entry.ipVersion);
  const b = formatAddress(entry.addr, entry.ipVersion === 4 ? 4 : 16, entry.ipVersion);
  return {
    protocol: entry.protocol,
    ipVersion: entry.ipVersion === 6 ? 6 : 4,
    src: fromA ? a : b,
    dst: fromA ? b : a,
    srcPort: fromA ? entry.portA : entry.portB,
    dstPort: fromA ? entry.portB : entry.portA,
    vni: withVni && entry.vni >= 0 ? entry.vni : null,
  };
}

/** The flow's trace, created once (unnamed: see namedTrace). */
export function flowTrace(entry: FlowEntry): FlowTrace {
  if (entry.trace === null) entry.trace = createFlowTrace();
  return entry.trace;
}

/** The flow's trace with its key, the same at every hop: endpoints and protocol only. */
export function namedTrace(entry: FlowEntry): FlowTrace | null {
  const trace = entry.trace;
  if (trace === null || trace.flow !== null) return trace;
  const key = flowKeyOf(entry, true, false);
  const a = endpointText(key.src, key.ipVersion, key.srcPort);
  const b = endpointText(key.dst, key.ipVersion, key.dstPort);
  trace.key = `${protocolName(key.protocol)} ${a} <-> ${b}`;
  trace.flow = key;
  trace.vni = entry.vni;
  return trace;
}
