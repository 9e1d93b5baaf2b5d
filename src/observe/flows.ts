/**
 * Per-hop flow table: the transport conversations a hop carries, keyed by both endpoints, the
 * protocol and the tunnel VNI (the same inner addresses in two VNIs are two flows).
 *
 * Both directions share one entry (endpoints stored in a fixed order), so a data segment can find
 * the MSS its receiver announced in its SYN. Lookups hash the bytes in place and compare them, so
 * a frame of an existing flow allocates nothing; a new flow allocates one entry. Memory is
 * bounded: beyond `maxFlows` the oldest-created flows are dropped (a weeks-long live capture sees
 * millions of short flows).
 */

import { createFlowTrace, type FlowTrace } from '../correlate/trace.js';
import type { Level } from '../decode/packet.js';

export interface FlowEntry {
  /** Small integer id, unique within the hop for the run (never reused). */
  id: number;
  hash: number;
  ipVersion: number;
  protocol: number;
  vni: number;
  /** Endpoint A is the one whose address bytes sort first (then port). */
  addrA: Uint8Array;
  addrB: Uint8Array;
  portA: number;
  portB: number;
  lastSeenSec: number;
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
  evicted: number;
  /** The flow found last (a one-entry cache). */
  last: FlowEntry | null;
}

export function createFlowTable(maxFlows = 100_000): FlowTable {
  return { byHash: new Map(), size: 0, nextId: 1, maxFlows, order: [], orderHead: 0, evicted: 0, last: null };
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

function sameBytes(a: Uint8Array, data: Uint8Array, offset: number, length: number): boolean {
  for (let i = 0; i < length; i++) if (a[i] !== data[offset + i]) return false;
  return true;
}

/** True when the level's source is the entry's endpoint A. */
export function isFromA(entry: FlowEntry, data: Uint8Array, level: Level): boolean {
  const length = entry.ipVersion === 4 ? 4 : 16;
  return entry.portA === level.srcPort && sameBytes(entry.addrA, data, level.srcOffset, length);
}

function matches(entry: FlowEntry, data: Uint8Array, level: Level, length: number): boolean {
  if (entry.protocol !== level.protocol || entry.vni !== level.vni || entry.ipVersion !== level.ipVersion) {
    return false;
  }
  const srcIsA =
    entry.portA === level.srcPort &&
    entry.portB === level.dstPort &&
    sameBytes(entry.addrA, data, level.srcOffset, length) &&
    sameBytes(entry.addrB, data, level.dstOffset, length);
  if (srcIsA) return true;
  return (
    entry.portB === level.srcPort &&
    entry.portA === level.dstPort &&
    sameBytes(entry.addrB, data, level.srcOffset, length) &&
    sameBytes(entry.addrA, data, level.dstOffset, length)
  );
}

/** Finds or creates the flow of a level that has addresses and ports. */
export function lookupFlow(table: FlowTable, data: Uint8Array, level: Level, nowSec: number): FlowEntry {
  const length = level.ipVersion === 4 ? 4 : 16;
  // Bulk transfers send long runs of one flow: try the last flow before hashing.
  const last = table.last;
  if (last !== null && matches(last, data, level, length)) {
    last.lastSeenSec = nowSec;
    return last;
  }
  const hash = hashFlow(data, level, length);
  let bucket = table.byHash.get(hash);
  if (bucket !== undefined) {
    for (let i = 0; i < bucket.length; i++) {
      const entry = bucket[i] as FlowEntry;
      if (matches(entry, data, level, length)) {
        entry.lastSeenSec = nowSec;
        table.last = entry;
        return entry;
      }
    }
  }
  if (table.size >= table.maxFlows) evictOldest(table);
  const srcFirst = compareEndpoints(data, level, length) <= 0;
  const a = srcFirst ? level.srcOffset : level.dstOffset;
  const b = srcFirst ? level.dstOffset : level.srcOffset;
  const entry: FlowEntry = {
    id: table.nextId++,
    hash,
    ipVersion: level.ipVersion,
    protocol: level.protocol,
    vni: level.vni,
    addrA: data.slice(a, a + length),
    addrB: data.slice(b, b + length),
    portA: srcFirst ? level.srcPort : level.dstPort,
    portB: srcFirst ? level.dstPort : level.srcPort,
    lastSeenSec: nowSec,
    trace: null,
  };
  if (bucket === undefined) {
    bucket = [];
    table.byHash.set(hash, bucket);
  }
  bucket.push(entry);
  table.order.push(entry);
  table.size++;
  table.last = entry;
  return entry;
}

function evictOldest(table: FlowTable): void {
  const victim = table.order[table.orderHead++];
  if (victim === undefined) return;
  if (table.last === victim) table.last = null;
  const bucket = table.byHash.get(victim.hash);
  if (bucket !== undefined) {
    const at = bucket.indexOf(victim);
    if (at >= 0) bucket.splice(at, 1);
    if (bucket.length === 0) table.byHash.delete(victim.hash);
  }
  table.size--;
  table.evicted++;
  // Compact the creation-order list now and then so it does not grow without bound.
  if (table.orderHead > 4096 && table.orderHead * 2 > table.order.length) {
    table.order = table.order.slice(table.orderHead);
    table.orderHead = 0;
  }
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

function endpoint(address: string, version: number, port: number): string {
  if (port < 0) return address;
  return version === 6 ? `[${address}]:${port}` : `${address}:${port}`;
}

const PROTOCOL_NAMES: Readonly<Record<number, string>> = { 1: 'ICMP', 6: 'TCP', 17: 'UDP', 58: 'ICMPv6' };

/** The flow's trace, created once: keyed by endpoints and protocol only, the same at every hop. */
export function flowTrace(entry: FlowEntry): FlowTrace {
  if (entry.trace !== null) return entry.trace;
  const a = endpoint(formatAddress(entry.addrA, 0, entry.ipVersion), entry.ipVersion, entry.portA);
  const b = endpoint(formatAddress(entry.addrB, 0, entry.ipVersion), entry.ipVersion, entry.portB);
  const name = PROTOCOL_NAMES[entry.protocol] ?? `IP proto ${entry.protocol}`;
  entry.trace = createFlowTrace(`${name} ${a} <-> ${b}`, a, b, name);
  return entry.trace;
}

/** "TCP 10.97.0.150:41234 -> 10.97.0.103:5201 (VNI 97)", in the direction given. */
export function describeFlow(entry: FlowEntry, fromA: boolean): string {
  const a = endpoint(formatAddress(entry.addrA, 0, entry.ipVersion), entry.ipVersion, entry.portA);
  const b = endpoint(formatAddress(entry.addrB, 0, entry.ipVersion), entry.ipVersion, entry.portB);
  const name = PROTOCOL_NAMES[entry.protocol] ?? `IP proto ${entry.protocol}`;
  const vni = entry.vni >= 0 ? ` (VNI ${entry.vni})` : '';
  return fromA ? `${name} ${a} -> ${b}${vni}` : `${name} ${b} -> ${a}${vni}`;
}
