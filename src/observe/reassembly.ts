/**
 * IP fragment reassembly for one capture point ("hop"), IPv4 (RFC 791) and IPv6 (RFC 8200 §4.5),
 * with memory that stays bounded however long the analyser runs.
 *
 * Why: a hop that fragments (an underlay with a smaller MTU than the overlay needs) splits a
 * tunnel packet in two; only the rebuilt datagram shows which inner packet it carried. The
 * analyser sees every fragment once, in capture order, so it feeds them here and gets the
 * datagram back when the last piece arrives.
 *
 * Rules followed:
 * - Key: IPv4 (source, destination, protocol, identification); IPv6 (source, destination,
 *   fragment identification); both with the tunnel id (VNI) of the level the fragments were
 *   carried in, so tenants with overlapping address space never share a queue. Keys are hashed straight from the frame's bytes into an
 *   open-addressing table (linear probing, backward-shift deletion) and compared byte by byte:
 *   no string per fragment.
 * - Overlaps (RFC 5722, and Linux for IPv4 too): a fragment whose bytes differ from bytes already
 *   received for the same offsets discards the whole datagram. An overlap whose commonly
 *   captured bytes are identical (a duplicated frame, a retransmission) is reported with
 *   `identical: true` and merged, since for a passive observer it is harmless.
 * - Sizes: a fragment that would make the IPv4 total length, or the IPv6 payload length, exceed
 *   65,535 discards the datagram (`too-big`). IPv6 jumbograms cannot be fragmented (RFC 2675 §3:
 *   the Jumbo Payload option must not be used with a Fragment header), so 65,535 is also IPv6's
 *   limit.
 * - Timeout (like Linux's ipfrag_time, 30 s): counted from the first fragment, not refreshed;
 *   checked whenever a fragment arrives with a later time, or by `expire(now)`.
 * - IPv4 ID reuse (like Linux's ipfrag_max_dist, default 64): the 16-bit IPv4 identification
 *   wraps in well under the timeout at tunnel rates, so a datagram that lost a fragment would
 *   meet a later datagram with the same ID and read as an overlap. Every IPv4 source (address and
 *   tunnel id) counts the datagrams it starts; a fragment that finds its queue more than
 *   `maxDistance` datagrams of that source behind first retires the old queue (reported as
 *   `too-far`: incomplete, not an overlap) and starts a new one.
 * - Non-last fragments must carry a multiple of 8 bytes (else the fragment alone is `invalid`);
 *   conflicting ends (two different last fragments, data past the last one) discard the datagram.
 * - An IPv6 "atomic fragment" (offset 0, M = 0; RFC 6946) completes at once, touching no state.
 *
 * Snap length: a fragment may be cut by the capture. Declared ranges (what the IP headers say was
 * sent) decide completion; captured ranges (what the capture holds) decide `capturedPrefix`, the
 * number of bytes from the start of the rebuilt datagram that are real. Bytes after the first
 * hole are zero-filled in the output.
 *
 * Rebuilt datagram: the header of the fragment at offset 0 (IPv4: with its options; IPv6: the
 * unfragmentable part, i.e. everything before the Fragment header), then the reassembled data.
 * IPv4: total length set, MF and offset cleared (DF and the reserved bit kept), header checksum
 * recomputed. IPv6: payload length set, the Fragment header removed and the Next Header field of
 * the last unfragmentable header patched to the Fragment header's Next Header.
 *
 * State (all of it lives in the object `createReassembler` returns, allocated there up front):
 * - `maxDatagrams` slots held as parallel typed arrays (key bytes, times, lengths, the header of
 *   the first fragment, declared and captured range lists, frame numbers, block table), a free
 *   slot stack, a doubly linked list of slots in order of creation (oldest first, for timeouts
 *   and eviction), and the hash table (slot index + 1, 0 = empty).
 * - A pool of fixed-size payload blocks (`BLOCK_SIZE` bytes), created lazily in chunks and never
 *   released, so its size is the high-water mark and at most `maxBytes`. A slot's block table maps
 *   payload offset / BLOCK_SIZE to a block; only captured bytes take blocks.
 * - One output buffer for completed datagrams and one reused result and problem object.
 * In steady state (pool grown to its peak) adding a fragment allocates nothing. Fixed memory per
 * slot is about 360 + maxHeaderBytes + 16 * maxRanges + 8 * maxFrames bytes (about 870 bytes with
 * the defaults, so under 1 MiB for 1024 slots), on top of the block pool.
 *
 * Known limits: the age list is in arrival order, so with timestamps going backwards a datagram
 * may expire a little late; a duplicate of a fragment arriving after its datagram completed starts
 * a new datagram that later times out (Linux does the same); an Authentication Header in the
 * unfragmentable part (unusual) would be walked with the wrong length unit.
 */

import { dataViewOf, truncate, viewOf } from '../arrays.js';
import { HopscopeError } from '../errors.js';

const REASON_TOO_FAR =
  'its IPv4 ID came round again after many later datagrams from the same source: retired as ' +
  'Linux does (ipfrag_max_dist), not taken for an overlap';

/** Payload block size of the pool. */
export const BLOCK_SIZE = 1024;
/** Largest IPv4 total length / IPv6 payload length. */
export const MAX_IP_LENGTH = 65535;
/** Blocks a datagram's data can span (data never exceeds 65,535 bytes). */
const BLOCKS_PER_DATAGRAM = Math.ceil(MAX_IP_LENGTH / BLOCK_SIZE);
const CHUNK_BLOCKS = 32;

export interface ReassemblerOptions {
  /** Incomplete datagrams held at once; when full, the oldest is evicted. Default 1024. */
  maxDatagrams?: number;
  /** Bytes of payload blocks held at once; when reached, the oldest datagram is evicted. Default 8 MiB. */
  maxBytes?: number;
  /** An incomplete datagram older than this (seconds since its first fragment) is dropped. Default 30. */
  timeoutSeconds?: number;
  /** Largest IP header kept (IPv4 60; IPv6 40 + unfragmentable extension headers). Default 128. */
  maxHeaderBytes?: number;
  /** Disjoint received ranges per datagram (after merging adjacent ones). Default 16. */
  maxRanges?: number;
  /** Frame numbers remembered per datagram (the count goes on). Default 16. */
  maxFrames?: number;
  /**
   * IPv4 only: a queue that more than this many later datagrams of the same source went by is
   * retired when its ID comes back (Linux ipfrag_max_dist). Default 64; 0 turns it off.
   */
  maxDistance?: number;
  /** Called for every problem; the object is reused, valid only during the call. */
  onProblem?: (problem: FragmentProblem) => void;
}

/**
 * One fragment, as plain numbers and the frame's bytes. The caller may reuse one object for every
 * fragment (see `createFragmentInput`); the reassembler copies what it keeps.
 */
export interface FragmentInput {
  /** The frame's captured bytes; every offset below indexes it. */
  data: Uint8Array;
  /** 4 or 6. */
  ipVersion: number;
  ipOffset: number;
  /**
   * IPv4: IHL * 4. IPv6: the unfragmentable part, 40 + extension headers before the Fragment
   * header (so the Fragment header sits at ipOffset + headerLength).
   */
  headerLength: number;
  /** Offsets of the source and destination addresses (4 or 16 bytes). */
  srcOffset: number;
  dstOffset: number;
  /** IPv4 protocol (part of the key). Ignored for IPv6 (the Fragment header's Next Header is read). */
  protocol: number;
  /** IPv4 identification or IPv6 fragment identification (32 bits). */
  id: number;
  /** Tunnel id (VNI, VSID, GRE key) of the level the fragment was carried in; -1 for none. */
  tunnelId: number;
  /** Fragment offset in bytes. */
  fragmentOffset: number;
  moreFragments: boolean;
  /** First byte of the fragment's data (IPv4: ipOffset + IHL * 4; IPv6: Fragment header + 8). */
  payloadOffset: number;
  /** Data bytes the IP header declares for this fragment. */
  payloadLength: number;
  /** Data bytes actually captured (the snap length may cut the fragment); clamped to data. */
  capturedLength: number;
  frame: number;
  /** Capture time in seconds. */
  time: number;
}

export type ReassemblyStatus = 'pending' | 'complete' | 'dropped';

/** The reused answer of `add`. Everything in it is valid until the next call. */
export interface ReassemblyResult {
  /**
   * `pending`: kept, datagram incomplete. `complete`: the datagram is in `bytes`. `dropped`: the
   * fragment was not used, or its datagram was discarded (a problem was reported).
   */
  status: ReassemblyStatus;
  /** Owned by the reassembler; the rebuilt datagram is bytes[0, length). */
  bytes: Uint8Array;
  ipVersion: number;
  /** Declared length of the rebuilt datagram (header + data). */
  length: number;
  /** Bytes from the start of `bytes` really captured; the rest is zero-filled. */
  capturedPrefix: number;
  /** Header length of the rebuilt datagram (the first fragment's header, without the Fragment header). */
  headerLength: number;
  /** IPv4 protocol or the upper-layer Next Header taken from the IPv6 Fragment header. */
  protocol: number;
  id: number;
  /** Frame numbers of the fragments in arrival order, at most `maxFrames`. */
  frames: number[];
  /** Number of fragments used (duplicates included); may exceed frames.length. */
  fragmentCount: number;
  /** Time of the first fragment. */
  firstTime: number;
}

export type FragmentProblemKind = 'overlap' | 'too-big' | 'timeout' | 'evicted' | 'too-far' | 'invalid';

/** The reused problem report. `src`/`dst` are views into a scratch buffer. */
export interface FragmentProblem {
  kind: FragmentProblemKind;
  /** A constant description (never formatted). */
  reason: string;
  ipVersion: number;
  src: Uint8Array;
  dst: Uint8Array;
  /** IPv4 protocol, -1 for IPv6. */
  protocol: number;
  id: number;
  /** Frame being processed when the problem was found, -1 from `expire`. */
  frame: number;
  /** overlap: every byte captured in both copies was equal (the datagram is kept). */
  identical: boolean;
  /** overlap: number of bytes compared. */
  comparedBytes: number;
  /** Declared data bytes received so far. */
  receivedBytes: number;
  /** Declared data bytes still missing, -1 while the last fragment has not been seen. */
  missingBytes: number;
  /** Frames of the datagram's fragments (at most maxFrames) and their count. */
  frames: number[];
  fragmentCount: number;
  firstTime: number;
}

export interface ReassemblyStats {
  fragments: number;
  started: number;
  completed: number;
  /** Atomic IPv6 fragments (offset 0, M = 0) completed without state. */
  atomic: number;
  timedOut: number;
  evicted: number;
  /** Incomplete IPv4 queues retired when their ID came back after maxDistance datagrams (too-far). */
  retired: number;
  /** Overlaps with different bytes (datagram discarded). */
  overlaps: number;
  /** Overlaps with identical bytes (kept). */
  duplicates: number;
  tooBig: number;
  invalid: number;
  /** Incomplete datagrams held now. */
  pending: number;
  /** Payload block bytes in use now, and the peak (= the pool's size). */
  bytesInUse: number;
  peakBytes: number;
}

export interface Reassembler {
  /** Adds one fragment; first expires datagrams older than the timeout at input.time. */
  add(input: FragmentInput): ReassemblyResult;
  /** Drops (and reports) incomplete datagrams older than the timeout at `now`; returns how many. */
  expire(now: number): number;
  /** Drops every incomplete datagram without reporting (e.g. at the end of a capture). */
  clear(): void;
  readonly stats: Readonly<ReassemblyStats>;
  readonly options: Readonly<Required<Omit<ReassemblerOptions, 'onProblem'>>>;
}

/** A blank input object to fill and reuse. */
export function createFragmentInput(): FragmentInput {
  return {
    data: new Uint8Array(0),
    ipVersion: 0,
    ipOffset: 0,
    headerLength: 0,
    srcOffset: 0,
    dstOffset: 0,
    protocol: 0,
    id: 0,
    tunnelId: -1,
    fragmentOffset: 0,
    moreFragments: false,
    payloadOffset: 0,
    payloadLength: 0,
    capturedLength: 0,
    frame: 0,
    time: 0,
  };
}

/** The decoded fields `fillFragmentInput` reads (a structural subset of the decoder's Level). */
export interface FragmentLevelFields {
  ipVersion: number;
  ipOffset: number;
  ipHeaderLength: number;
  ipTotalLength: number;
  srcOffset: number;
  dstOffset: number;
  ipId: number;
  /** Tunnel id of the level (-1 or absent: none): part of the key. */
  vni?: number;
  moreFragments: boolean;
  fragmentOffset: number;
  isFragment: boolean;
  ipv6FragmentHeaderOffset: number;
  protocol: number;
}

/**
 * Fills `input` from decoded fields. `capturedEnd` is the end of the captured bytes in `data`
 * (usually data.length). Returns false when the level is not a fragment. The capture time is the
 * caller's to set (`input.time`): a double passed to a call that V8 does not inline is boxed, and
 * on a fragmenting underlay this runs for nearly every frame.
 */
export function fillFragmentInput(
  input: FragmentInput,
  data: Uint8Array,
  capturedEnd: number,
  level: FragmentLevelFields,
  frame: number,
): boolean {
  if (!level.isFragment || (level.ipVersion !== 4 && level.ipVersion !== 6)) return false;
  input.data = data;
  input.ipVersion = level.ipVersion;
  input.ipOffset = level.ipOffset;
  input.srcOffset = level.srcOffset;
  input.dstOffset = level.dstOffset;
  input.protocol = level.protocol;
  input.id = level.ipId;
  input.tunnelId = level.vni ?? -1;
  input.fragmentOffset = level.fragmentOffset;
  input.moreFragments = level.moreFragments;
  if (level.ipVersion === 4) {
    input.headerLength = level.ipHeaderLength;
    input.payloadOffset = level.ipOffset + level.ipHeaderLength;
  } else {
    if (level.ipv6FragmentHeaderOffset < 0) return false;
    input.headerLength = level.ipv6FragmentHeaderOffset - level.ipOffset;
    input.payloadOffset = level.ipv6FragmentHeaderOffset + 8;
  }
  const end = level.ipOffset + level.ipTotalLength;
  input.payloadLength = Math.max(0, end - input.payloadOffset);
  input.capturedLength = Math.max(0, Math.min(end, capturedEnd) - input.payloadOffset);
  input.frame = frame;
  return true;
}

/** Copies n bytes without creating a subarray view (no allocation per fragment). */
function copyBytes(dst: Uint8Array, dstAt: number, src: Uint8Array, srcAt: number, n: number): void {
  for (let i = 0; i < n; i++) dst[dstAt + i] = src[srcAt + i] as number;
}

/**
 * Copies n bytes four at a time through DataViews (unaligned reads and writes of the same byte
 * order: the bytes come out as they went in). A fragment's payload is copied twice (into the
 * block pool, then into the rebuilt datagram): byte by byte that was a third of the time of a
 * capture of a fragmenting underlay; this takes a third of that. A native copy
 * (`dst.set(src.subarray(...))`) would make a view per fragment. The source's view is viewOf's
 * (made once per reader chunk).
 */
function copyWords(dst: DataView, dstAt: number, src: DataView, srcAt: number, n: number): void {
  let i = 0;
  // Sixteen bytes a turn (a third faster than four for a full-size fragment), then the rest.
  for (; i + 16 <= n; i += 16) {
    dst.setUint32(dstAt + i, src.getUint32(srcAt + i, true), true);
    dst.setUint32(dstAt + i + 4, src.getUint32(srcAt + i + 4, true), true);
    dst.setUint32(dstAt + i + 8, src.getUint32(srcAt + i + 8, true), true);
    dst.setUint32(dstAt + i + 12, src.getUint32(srcAt + i + 12, true), true);
  }
  for (; i + 4 <= n; i += 4) dst.setUint32(dstAt + i, src.getUint32(srcAt + i, true), true);
  for (; i < n; i++) dst.setUint8(dstAt + i, src.getUint8(srcAt + i));
}

function positiveInt(name: string, value: number | undefined, fallback: number): number {
  const v = value ?? fallback;
  if (!Number.isInteger(v) || v < 1)
    throw new HopscopeError(`reassembler option ${name} must be a positive integer`);
  return v;
}

/**
 * Creates a reassembler for one hop. See the module comment for the rules and the state it holds.
 */
export function createReassembler(opts: ReassemblerOptions = {}): Reassembler {
  const maxDatagrams = positiveInt('maxDatagrams', opts.maxDatagrams, 1024);
  const maxBytes = positiveInt('maxBytes', opts.maxBytes, 8 * 1024 * 1024);
  const maxHeaderBytes = Math.max(60, positiveInt('maxHeaderBytes', opts.maxHeaderBytes, 128));
  const maxRanges = positiveInt('maxRanges', opts.maxRanges, 16);
  const maxFrames = positiveInt('maxFrames', opts.maxFrames, 16);
  const timeoutSeconds = opts.timeoutSeconds ?? 30;
  if (!(timeoutSeconds > 0)) throw new HopscopeError('reassembler option timeoutSeconds must be positive');
  const maxDistance = opts.maxDistance ?? 64;
  if (!(Number.isInteger(maxDistance) && maxDistance >= 0))
    throw new HopscopeError('reassembler option maxDistance must be a whole number');
  const onProblem = opts.onProblem;
  /** maxBytes rounded down to whole blocks (at least one). */
  const maxBlocks = Math.max(1, Math.floor(maxBytes / BLOCK_SIZE));

  // --- slots (struct of arrays) ---
  const sVersion = new Uint8Array(maxDatagrams); // 0 = free
  const sProto = new Int16Array(maxDatagrams);
  const sId = new Uint32Array(maxDatagrams);
  const sTunnel = new Int32Array(maxDatagrams);
  /** IPv4: the source's datagram count when this queue last got a fragment. */
  const sLast = new Uint32Array(maxDatagrams);
  const sHash = new Int32Array(maxDatagrams);
  const sAddr = new Uint8Array(maxDatagrams * 32); // src at 0, dst at 16
  const sFirstTime = new Float64Array(maxDatagrams);
  /** Data length from the last fragment, -1 until it arrives. */
  const sTotal = new Int32Array(maxDatagrams);
  /** Header length of the offset-0 fragment, 0 until it arrives. */
  const sHeaderLength = new Int32Array(maxDatagrams);
  /** IPv4 protocol / IPv6 Fragment header Next Header of the offset-0 fragment. */
  const sNextHeader = new Int16Array(maxDatagrams);
  const sHeader = new Uint8Array(maxDatagrams * maxHeaderBytes);
  const sDecl = new Uint32Array(maxDatagrams * maxRanges * 2);
  const sDeclCount = new Int32Array(maxDatagrams);
  const sCap = new Uint32Array(maxDatagrams * maxRanges * 2);
  const sCapCount = new Int32Array(maxDatagrams);
  const sFrames = new Float64Array(maxDatagrams * maxFrames);
  const sFragCount = new Int32Array(maxDatagrams);
  const sBlocks = new Int32Array(maxDatagrams * BLOCKS_PER_DATAGRAM).fill(-1);
  const sBlockCount = new Int32Array(maxDatagrams);
  const sPrev = new Int32Array(maxDatagrams).fill(-1);
  const sNext = new Int32Array(maxDatagrams).fill(-1);
  let oldest = -1;
  let newest = -1;
  const freeSlots = new Int32Array(maxDatagrams);
  let freeSlotCount = maxDatagrams;
  for (let i = 0; i < maxDatagrams; i++) freeSlots[i] = maxDatagrams - 1 - i;

  // --- hash table ---
  let tableSize = 1;
  while (tableSize < maxDatagrams * 2) tableSize *= 2;
  const tableMask = tableSize - 1;
  const table = new Int32Array(tableSize); // slot + 1, 0 = empty

  // --- IPv4 sources with queues held (for maxDistance): open addressing, same size as the table ---
  const srcUsed = new Uint8Array(tableSize);
  const srcAddr = new Uint8Array(tableSize * 4);
  const srcTunnel = new Int32Array(tableSize);
  const srcHash = new Int32Array(tableSize);
  /** Datagrams (queues) the source started, and queues of it held now. */
  const srcCount = new Uint32Array(tableSize);
  const srcRefs = new Int32Array(tableSize);

  // --- block pool ---
  const blocks: Uint8Array[] = [];
  /** blocks[b]'s DataView, made with it (copyWords). */
  const blockViews: DataView[] = [];
  const freeBlocks: number[] = [];
  let blocksInUse = 0;

  // --- output ---
  // One block of slack: complete() copies the last block whole.
  const out = new Uint8Array(maxHeaderBytes + MAX_IP_LENGTH + BLOCK_SIZE);
  const outView = dataViewOf(out);
  const result: ReassemblyResult = {
    status: 'pending',
    bytes: out,
    ipVersion: 0,
    length: 0,
    capturedPrefix: 0,
    headerLength: 0,
    protocol: -1,
    id: 0,
    frames: [],
    fragmentCount: 0,
    firstTime: 0,
  };
  const scratch = new Uint8Array(32);
  const views = {
    src4: scratch.subarray(0, 4),
    dst4: scratch.subarray(16, 20),
    src6: scratch.subarray(0, 16),
    dst6: scratch.subarray(16, 32),
  };
  const problem: FragmentProblem = {
    kind: 'overlap',
    reason: '',
    ipVersion: 0,
    src: views.src4,
    dst: views.dst4,
    protocol: -1,
    id: 0,
    frame: -1,
    identical: false,
    comparedBytes: 0,
    receivedBytes: 0,
    missingBytes: -1,
    frames: [],
    fragmentCount: 0,
    firstTime: 0,
  };
  const stats: ReassemblyStats = {
    fragments: 0,
    started: 0,
    completed: 0,
    atomic: 0,
    timedOut: 0,
    evicted: 0,
    retired: 0,
    overlaps: 0,
    duplicates: 0,
    tooBig: 0,
    invalid: 0,
    pending: 0,
    bytesInUse: 0,
    peakBytes: 0,
  };

  // ------------------------------------------------------------------ keys and the table

  // hashKey, keyEquals and lookup take the key as the same seven plain arguments (the frame's
  // bytes and offsets into them) rather than one key object: an object would be built per fragment.
  function hashKey(
    data: Uint8Array,
    version: number,
    src: number,
    dst: number,
    proto: number,
    id: number,
    tunnel: number,
  ): number {
    const n = version === 4 ? 4 : 16;
    let h = 0x811c9dc5 ^ version;
    h = Math.imul(h ^ (tunnel >>> 16), 0x01000193);
    h = Math.imul(h ^ (tunnel & 0xffff), 0x01000193);
    for (let i = 0; i < n; i++) h = Math.imul(h ^ (data[src + i] as number), 0x01000193);
    for (let i = 0; i < n; i++) h = Math.imul(h ^ (data[dst + i] as number), 0x01000193);
    h = Math.imul(h ^ (version === 4 ? proto & 0xff : 0), 0x01000193);
    h = Math.imul(h ^ (id >>> 16), 0x01000193);
    h = Math.imul(h ^ (id & 0xffff), 0x01000193);
    h ^= h >>> 15;
    h = Math.imul(h, 0x2c1b3c6d);
    h ^= h >>> 12;
    return h | 0;
  }

  function keyEquals(
    slot: number,
    data: Uint8Array,
    version: number,
    src: number,
    dst: number,
    proto: number,
    id: number,
    tunnel: number,
  ): boolean {
    if (sVersion[slot] !== version || sId[slot] !== id >>> 0 || sTunnel[slot] !== tunnel) return false;
    if (version === 4 && sProto[slot] !== (proto & 0xff)) return false;
    const n = version === 4 ? 4 : 16;
    const base = slot * 32;
    for (let i = 0; i < n; i++) {
      if (sAddr[base + i] !== data[src + i] || sAddr[base + 16 + i] !== data[dst + i]) return false;
    }
    return true;
  }

  /** Table position holding the key, or -(free position) - 1. */
  function lookup(
    hash: number,
    data: Uint8Array,
    version: number,
    src: number,
    dst: number,
    proto: number,
    id: number,
    tunnel: number,
  ) {
    let pos = hash & tableMask;
    for (;;) {
      const entry = table[pos] as number;
      if (entry === 0) return -pos - 1;
      const slot = entry - 1;
      if (sHash[slot] === hash && keyEquals(slot, data, version, src, dst, proto, id, tunnel)) return pos;
      pos = (pos + 1) & tableMask;
    }
  }

  function tableRemove(slot: number): void {
    let pos = (sHash[slot] as number) & tableMask;
    while (table[pos] !== slot + 1) pos = (pos + 1) & tableMask;
    // Backward-shift deletion keeps probe chains unbroken without tombstones.
    let hole = pos;
    let j = pos;
    for (;;) {
      j = (j + 1) & tableMask;
      const entry = table[j] as number;
      if (entry === 0) break;
      const home = (sHash[entry - 1] as number) & tableMask;
      // Move the entry into the hole unless its home lies cyclically in (hole, j].
      const inRange = hole <= j ? home > hole && home <= j : home > hole || home <= j;
      if (!inRange) {
        table[hole] = entry;
        hole = j;
      }
    }
    table[hole] = 0;
  }

  // ------------------------------------------------------------------ IPv4 sources (maxDistance)

  function sourceHash(data: Uint8Array, at: number, tunnel: number): number {
    let h = Math.imul(0x811c9dc5 ^ (tunnel >>> 16), 0x01000193);
    h = Math.imul(h ^ (tunnel & 0xffff), 0x01000193);
    for (let i = 0; i < 4; i++) h = Math.imul(h ^ (data[at + i] as number), 0x01000193);
    h ^= h >>> 15;
    h = Math.imul(h, 0x2c1b3c6d);
    h ^= h >>> 12;
    return h | 0;
  }

  /** Position of the source (address at data[at], tunnel), or -(free position) - 1. */
  function sourceFind(data: Uint8Array, at: number, tunnel: number, hash: number): number {
    let pos = hash & tableMask;
    for (;;) {
      if (srcUsed[pos] === 0) return -pos - 1;
      if (
        srcHash[pos] === hash &&
        srcTunnel[pos] === tunnel &&
        srcAddr[pos * 4] === data[at] &&
        srcAddr[pos * 4 + 1] === data[at + 1] &&
        srcAddr[pos * 4 + 2] === data[at + 2] &&
        srcAddr[pos * 4 + 3] === data[at + 3]
      )
        return pos;
      pos = (pos + 1) & tableMask;
    }
  }

  /** The held source of slot's queue (IPv4 only; it exists while the queue is held). */
  function sourceOfSlot(slot: number): number {
    const t = sTunnel[slot] as number;
    return sourceFind(sAddr, slot * 32, t, sourceHash(sAddr, slot * 32, t));
  }

  /** Drops a source entry nobody refers to (backward-shift deletion, as in tableRemove). */
  function sourceRemove(pos: number): void {
    let hole = pos;
    let j = pos;
    for (;;) {
      j = (j + 1) & tableMask;
      if (srcUsed[j] === 0) break;
      const home = (srcHash[j] as number) & tableMask;
      const inRange = hole <= j ? home > hole && home <= j : home > hole || home <= j;
      if (!inRange) {
        srcUsed[hole] = 1;
        srcHash[hole] = srcHash[j] as number;
        srcTunnel[hole] = srcTunnel[j] as number;
        srcCount[hole] = srcCount[j] as number;
        srcRefs[hole] = srcRefs[j] as number;
        copyBytes(srcAddr, hole * 4, srcAddr, j * 4, 4);
        hole = j;
      }
    }
    srcUsed[hole] = 0;
  }

  // ------------------------------------------------------------------ slots

  function releaseSlot(slot: number): void {
    tableRemove(slot);
    if (maxDistance > 0 && sVersion[slot] === 4) {
      const sp = sourceOfSlot(slot);
      if (sp >= 0) {
        srcRefs[sp] = (srcRefs[sp] as number) - 1;
        if (srcRefs[sp] === 0) sourceRemove(sp);
      }
    }
    const base = slot * BLOCKS_PER_DATAGRAM;
    for (let i = 0; i < BLOCKS_PER_DATAGRAM; i++) {
      const b = sBlocks[base + i] as number;
      if (b >= 0) {
        freeBlocks.push(b);
        sBlocks[base + i] = -1;
      }
    }
    blocksInUse -= sBlockCount[slot] as number;
    sBlockCount[slot] = 0;
    const p = sPrev[slot] as number;
    const n = sNext[slot] as number;
    if (p >= 0) sNext[p] = n;
    else oldest = n;
    if (n >= 0) sPrev[n] = p;
    else newest = p;
    sPrev[slot] = -1;
    sNext[slot] = -1;
    sVersion[slot] = 0;
    freeSlots[freeSlotCount++] = slot;
    stats.pending--;
    stats.bytesInUse = blocksInUse * BLOCK_SIZE;
  }

  function receivedBytes(slot: number): number {
    const base = slot * maxRanges * 2;
    let sum = 0;
    for (let i = 0; i < (sDeclCount[slot] as number); i++) {
      sum += (sDecl[base + 2 * i + 1] as number) - (sDecl[base + 2 * i] as number);
    }
    return sum;
  }

  function copyFrames(slot: number, target: number[]): void {
    const n = Math.min(sFragCount[slot] as number, maxFrames);
    truncate(target, n);
    for (let i = 0; i < n; i++) target[i] = sFrames[slot * maxFrames + i] as number;
  }

  /** Reports a problem about a held datagram (before releasing it). */
  function reportSlot(
    kind: FragmentProblemKind,
    reason: string,
    slot: number,
    frame: number,
    identical = false,
    comparedBytes = 0,
  ): void {
    if (!onProblem) return;
    const version = sVersion[slot] as number;
    copyBytes(scratch, 0, sAddr, slot * 32, 32);
    problem.kind = kind;
    problem.reason = reason;
    problem.ipVersion = version;
    problem.src = version === 4 ? views.src4 : views.src6;
    problem.dst = version === 4 ? views.dst4 : views.dst6;
    problem.protocol = version === 4 ? (sProto[slot] as number) : -1;
    problem.id = sId[slot] as number;
    problem.frame = frame;
    problem.identical = identical;
    problem.comparedBytes = comparedBytes;
    const received = receivedBytes(slot);
    const total = sTotal[slot] as number;
    problem.receivedBytes = received;
    problem.missingBytes = total < 0 ? -1 : total - received;
    copyFrames(slot, problem.frames);
    problem.fragmentCount = sFragCount[slot] as number;
    problem.firstTime = sFirstTime[slot] as number;
    onProblem(problem);
  }

  /** Reports a problem about a fragment that has no held datagram. */
  function reportFragment(kind: FragmentProblemKind, reason: string, f: FragmentInput): void {
    if (!onProblem) return;
    const v6 = f.ipVersion === 6;
    const n = v6 ? 16 : 4;
    for (let i = 0; i < n; i++) {
      scratch[i] = f.data[f.srcOffset + i] ?? 0;
      scratch[16 + i] = f.data[f.dstOffset + i] ?? 0;
    }
    problem.kind = kind;
    problem.reason = reason;
    problem.ipVersion = f.ipVersion;
    problem.src = v6 ? views.src6 : views.src4;
    problem.dst = v6 ? views.dst6 : views.dst4;
    problem.protocol = v6 ? -1 : f.protocol;
    problem.id = f.id >>> 0;
    problem.frame = f.frame;
    problem.identical = false;
    problem.comparedBytes = 0;
    problem.receivedBytes = 0;
    problem.missingBytes = -1;
    truncate(problem.frames, 1);
    problem.frames[0] = f.frame;
    problem.fragmentCount = 1;
    problem.firstTime = f.time;
    onProblem(problem);
  }

  function evictOldest(except: number, frame: number): boolean {
    let victim = oldest;
    if (victim === except) victim = sNext[victim] as number;
    if (victim < 0) return false;
    stats.evicted++;
    reportSlot('evicted', 'reassembly limit reached, oldest incomplete datagram dropped', victim, frame);
    releaseSlot(victim);
    return true;
  }

  function expire(now: number, frame = -1): number {
    let count = 0;
    while (oldest >= 0 && now - (sFirstTime[oldest] as number) > timeoutSeconds) {
      const slot = oldest;
      stats.timedOut++;
      count++;
      reportSlot('timeout', 'incomplete datagram older than the reassembly timeout', slot, frame);
      releaseSlot(slot);
    }
    return count;
  }

  // ------------------------------------------------------------------ ranges

  /** Inserts [s, e) into a sorted disjoint list, merging touching ranges. Returns false when full. */
  function insertRange(list: Uint32Array, counts: Int32Array, slot: number, s: number, e: number): boolean {
    const base = slot * maxRanges * 2;
    const count = counts[slot] as number;
    let first = 0;
    while (first < count && (list[base + 2 * first + 1] as number) < s) first++;
    let last = first;
    let ns = s;
    let ne = e;
    while (last < count && (list[base + 2 * last] as number) <= e) {
      ns = Math.min(ns, list[base + 2 * last] as number);
      ne = Math.max(ne, list[base + 2 * last + 1] as number);
      last++;
    }
    const removed = last - first;
    const newCount = count - removed + 1;
    if (newCount > maxRanges) return false;
    if (removed !== 1) list.copyWithin(base + 2 * (first + 1), base + 2 * last, base + 2 * count);
    list[base + 2 * first] = ns;
    list[base + 2 * first + 1] = ne;
    counts[slot] = newCount;
    return true;
  }

  function declaredOverlap(slot: number, s: number, e: number): boolean {
    const base = slot * maxRanges * 2;
    for (let i = 0; i < (sDeclCount[slot] as number); i++) {
      if ((sDecl[base + 2 * i] as number) < e && (sDecl[base + 2 * i + 1] as number) > s) return true;
    }
    return false;
  }

  let compared = 0;
  /** Compares the fragment's captured bytes with stored captured bytes where both exist. */
  function sameBytes(slot: number, f: FragmentInput, s: number, e: number): boolean {
    compared = 0;
    const base = slot * maxRanges * 2;
    const bbase = slot * BLOCKS_PER_DATAGRAM;
    for (let i = 0; i < (sCapCount[slot] as number); i++) {
      const a = Math.max(s, sCap[base + 2 * i] as number);
      const b = Math.min(e, sCap[base + 2 * i + 1] as number);
      for (let x = a; x < b; x++) {
        const block = blocks[sBlocks[bbase + ((x / BLOCK_SIZE) | 0)] as number] as Uint8Array;
        if (block[x % BLOCK_SIZE] !== f.data[f.payloadOffset + x - f.fragmentOffset]) return false;
        compared++;
      }
    }
    return true;
  }

  function blocksNeeded(slot: number, s: number, e: number): number {
    if (e <= s) return 0;
    let n = 0;
    const bbase = slot * BLOCKS_PER_DATAGRAM;
    const lastBlock = ((e - 1) / BLOCK_SIZE) | 0;
    for (let i = (s / BLOCK_SIZE) | 0; i <= lastBlock; i++) if ((sBlocks[bbase + i] as number) < 0) n++;
    return n;
  }

  function takeBlock(): number {
    let b = freeBlocks.pop();
    if (b === undefined) {
      // Grow the pool by a chunk (bounded by maxBytes); steady state never comes here.
      const chunkBlocks = Math.min(CHUNK_BLOCKS, maxBlocks - blocks.length);
      const chunk = new Uint8Array(chunkBlocks * BLOCK_SIZE);
      for (let i = chunkBlocks - 1; i >= 0; i--) {
        const block = chunk.subarray(i * BLOCK_SIZE, (i + 1) * BLOCK_SIZE);
        blocks.push(block);
        blockViews.push(dataViewOf(block));
        freeBlocks.push(blocks.length - 1);
      }
      b = freeBlocks.pop() as number;
    }
    blocksInUse++;
    return b;
  }

  function storeBytes(slot: number, f: FragmentInput, s: number, e: number): void {
    const bbase = slot * BLOCKS_PER_DATAGRAM;
    let x = s;
    while (x < e) {
      const bi = (x / BLOCK_SIZE) | 0;
      let b = sBlocks[bbase + bi] as number;
      if (b < 0) {
        b = takeBlock();
        sBlocks[bbase + bi] = b;
        sBlockCount[slot] = (sBlockCount[slot] as number) + 1;
      }
      const within = x - bi * BLOCK_SIZE;
      const n = Math.min(BLOCK_SIZE - within, e - x);
      const from = f.payloadOffset + x - f.fragmentOffset;
      copyWords(blockViews[b] as DataView, within, viewOf(f.data), from, n);
      x += n;
    }
    stats.bytesInUse = blocksInUse * BLOCK_SIZE;
    if (stats.bytesInUse > stats.peakBytes) stats.peakBytes = stats.bytesInUse;
  }

  // ------------------------------------------------------------------ output

  /** Writes the fixed-up header of `version` from hdr[hs, hs + hl) into out; returns hl. */
  function writeHeader(
    version: number,
    hdr: Uint8Array,
    hs: number,
    hl: number,
    dataLength: number,
    next: number,
  ) {
    copyBytes(out, 0, hdr, hs, hl);
    if (version === 4) {
      const total = hl + dataLength;
      out[2] = total >>> 8;
      out[3] = total & 0xff;
      out[6] = (out[6] as number) & 0xc0; // keep reserved + DF, clear MF and the offset
      out[7] = 0;
      out[10] = 0;
      out[11] = 0;
      let sum = 0;
      for (let i = 0; i < hl; i += 2) sum += ((out[i] as number) << 8) | (out[i + 1] as number);
      while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
      const checksum = ~sum & 0xffff;
      out[10] = checksum >>> 8;
      out[11] = checksum & 0xff;
    } else {
      const payload = hl - 40 + dataLength;
      out[4] = payload >>> 8;
      out[5] = payload & 0xff;
      // Walk the unfragmentable extension headers (Hop-by-Hop, Routing, Destination Options:
      // Next Header at byte 0, length in 8-byte units at byte 1) to the last one.
      let field = 6;
      let at = 40;
      while (at + 2 <= hl) {
        field = at;
        at += ((out[at + 1] as number) + 1) * 8;
      }
      out[field] = next;
    }
  }

  function fillResult(
    version: number,
    hl: number,
    dataLength: number,
    capturedData: number,
    protocol: number,
  ) {
    const length = hl + dataLength;
    const prefix = hl + capturedData;
    if (prefix < length) out.fill(0, prefix, length);
    result.status = 'complete';
    result.ipVersion = version;
    result.length = length;
    result.capturedPrefix = prefix;
    result.headerLength = hl;
    result.protocol = protocol;
  }

  function complete(slot: number): ReassemblyResult {
    const version = sVersion[slot] as number;
    const hl = sHeaderLength[slot] as number;
    const total = sTotal[slot] as number;
    writeHeader(version, sHeader, slot * maxHeaderBytes, hl, total, sNextHeader[slot] as number);
    const cbase = slot * maxRanges * 2;
    const captured = (sCapCount[slot] as number) > 0 && sCap[cbase] === 0 ? (sCap[cbase + 1] as number) : 0;
    const bbase = slot * BLOCKS_PER_DATAGRAM;
    // Whole blocks, the last one too: a block is a view of its own, so this is a native copy that
    // makes nothing, and what it writes past the captured bytes is zero-filled (fillResult) or
    // lies past the datagram.
    for (let x = 0; x < captured; x += BLOCK_SIZE)
      out.set(blocks[sBlocks[bbase + x / BLOCK_SIZE] as number] as Uint8Array, hl + x);
    fillResult(version, hl, total, captured, sNextHeader[slot] as number);
    result.id = sId[slot] as number;
    copyFrames(slot, result.frames);
    result.fragmentCount = sFragCount[slot] as number;
    result.firstTime = sFirstTime[slot] as number;
    stats.completed++;
    releaseSlot(slot);
    return result;
  }

  function dropped(): ReassemblyResult {
    result.status = 'dropped';
    result.length = 0;
    result.capturedPrefix = 0;
    truncate(result.frames, 0);
    result.fragmentCount = 0;
    return result;
  }

  function pending(slot: number): ReassemblyResult {
    result.status = 'pending';
    result.length = 0;
    result.capturedPrefix = 0;
    result.ipVersion = sVersion[slot] as number;
    result.id = sId[slot] as number;
    truncate(result.frames, 0);
    result.fragmentCount = sFragCount[slot] as number;
    result.firstTime = sFirstTime[slot] as number;
    return result;
  }

  function discard(
    kind: FragmentProblemKind,
    reason: string,
    slot: number,
    frame: number,
    comparedBytes = 0,
  ): ReassemblyResult {
    if (kind === 'overlap') stats.overlaps++;
    else if (kind === 'too-big') stats.tooBig++;
    else if (kind === 'invalid') stats.invalid++;
    else if (kind === 'evicted') stats.evicted++;
    reportSlot(kind, reason, slot, frame, false, comparedBytes);
    releaseSlot(slot);
    return dropped();
  }

  function rejectFragment(kind: FragmentProblemKind, reason: string, f: FragmentInput): ReassemblyResult {
    if (kind === 'too-big') stats.tooBig++;
    else stats.invalid++;
    reportFragment(kind, reason, f);
    return dropped();
  }

  // ------------------------------------------------------------------ add

  function add(f: FragmentInput): ReassemblyResult {
    stats.fragments++;
    // The oldest datagram's age checked here, and expire called only when one is due: a double passed
    // to a call V8 does not inline is boxed, and this runs for every fragment.
    if (oldest >= 0 && f.time - (sFirstTime[oldest] as number) > timeoutSeconds) expire(f.time, f.frame);
    const version = f.ipVersion;
    const data = f.data;
    const off = f.fragmentOffset;
    const decl = f.payloadLength;
    const end = off + decl;
    if (version !== 4 && version !== 6) return rejectFragment('invalid', 'not IPv4 or IPv6', f);
    const addrLen = version === 4 ? 4 : 16;
    const hl = f.headerLength;
    if (
      f.srcOffset < 0 ||
      f.dstOffset < 0 ||
      f.srcOffset + addrLen > data.length ||
      f.dstOffset + addrLen > data.length ||
      f.ipOffset < 0 ||
      off < 0 ||
      decl < 0 ||
      off % 8 !== 0
    ) {
      return rejectFragment('invalid', 'fragment fields out of range', f);
    }
    if (version === 4 ? hl < 20 || hl > 60 : hl < 40 || f.payloadOffset !== f.ipOffset + hl + 8) {
      return rejectFragment('invalid', 'bad header length', f);
    }
    if (
      hl > maxHeaderBytes ||
      f.ipOffset + hl > data.length ||
      (version === 6 && f.payloadOffset > data.length)
    ) {
      return rejectFragment('invalid', 'header not captured or larger than maxHeaderBytes', f);
    }
    if (f.moreFragments && (decl === 0 || decl % 8 !== 0)) {
      return rejectFragment('invalid', 'non-last fragment length not a multiple of 8', f);
    }
    if (end > MAX_IP_LENGTH - (version === 4 ? hl : hl - 40)) {
      return rejectFragment('too-big', 'reassembled datagram would exceed 65535 bytes', f);
    }
    const cap = Math.max(0, Math.min(f.capturedLength, decl, data.length - f.payloadOffset));
    const protocol = version === 4 ? f.protocol & 0xff : (data[f.payloadOffset - 8] as number);

    // IPv6 atomic fragment (and a whole datagram passed by mistake): complete at once.
    if (off === 0 && !f.moreFragments) {
      writeHeader(version, data, f.ipOffset, hl, decl, protocol);
      copyWords(outView, hl, viewOf(data), f.payloadOffset, cap);
      fillResult(version, hl, decl, cap, protocol);
      result.id = f.id >>> 0;
      truncate(result.frames, 1);
      result.frames[0] = f.frame;
      result.fragmentCount = 1;
      result.firstTime = f.time;
      stats.atomic++;
      return result;
    }

    const tunnel = f.tunnelId | 0;
    const hash = hashKey(data, version, f.srcOffset, f.dstOffset, f.protocol, f.id, tunnel);
    let pos = lookup(hash, data, version, f.srcOffset, f.dstOffset, f.protocol, f.id, tunnel);
    let slot = pos >= 0 ? (table[pos] as number) - 1 : -1;
    const distance = maxDistance > 0 && version === 4;
    if (slot >= 0 && distance) {
      const sp = sourceOfSlot(slot);
      if (sp >= 0 && ((srcCount[sp] as number) - (sLast[slot] as number)) >>> 0 > maxDistance) {
        // The ID came round again: this fragment belongs to a later datagram.
        stats.retired++;
        reportSlot('too-far', REASON_TOO_FAR, slot, f.frame);
        releaseSlot(slot);
        slot = -1;
        pos = lookup(hash, data, version, f.srcOffset, f.dstOffset, f.protocol, f.id, tunnel);
      }
    }
    if (slot < 0) {
      if (freeSlotCount === 0) {
        evictOldest(-1, f.frame);
        pos = lookup(hash, data, version, f.srcOffset, f.dstOffset, f.protocol, f.id, tunnel);
      }
      slot = freeSlots[--freeSlotCount] as number;
      table[-pos - 1] = slot + 1;
      sVersion[slot] = version;
      sProto[slot] = version === 4 ? f.protocol & 0xff : 0;
      sId[slot] = f.id >>> 0;
      sTunnel[slot] = tunnel;
      sHash[slot] = hash;
      const abase = slot * 32;
      sAddr.fill(0, abase, abase + 32);
      copyBytes(sAddr, abase, data, f.srcOffset, addrLen);
      copyBytes(sAddr, abase + 16, data, f.dstOffset, addrLen);
      sFirstTime[slot] = f.time;
      sTotal[slot] = -1;
      sHeaderLength[slot] = 0;
      sNextHeader[slot] = -1;
      sDeclCount[slot] = 0;
      sCapCount[slot] = 0;
      sFragCount[slot] = 0;
      sPrev[slot] = newest;
      sNext[slot] = -1;
      if (newest >= 0) sNext[newest] = slot;
      else oldest = slot;
      newest = slot;
      stats.started++;
      stats.pending++;
      if (distance) {
        const sh = sourceHash(data, f.srcOffset, tunnel);
        let sp = sourceFind(data, f.srcOffset, tunnel, sh);
        if (sp < 0) {
          sp = -sp - 1;
          srcUsed[sp] = 1;
          srcHash[sp] = sh;
          srcTunnel[sp] = tunnel;
          srcCount[sp] = 0;
          srcRefs[sp] = 0;
          copyBytes(srcAddr, sp * 4, data, f.srcOffset, 4);
        }
        srcRefs[sp] = (srcRefs[sp] as number) + 1;
        srcCount[sp] = ((srcCount[sp] as number) + 1) >>> 0;
      }
    }
    if (distance) {
      const sp = sourceOfSlot(slot);
      if (sp >= 0) sLast[slot] = srcCount[sp] as number;
    }

    // Consistency of the end (RFC 791/8200; Linux discards the queue on these).
    const total = sTotal[slot] as number;
    if (!f.moreFragments) {
      if (total >= 0 && total !== end)
        return discard('invalid', 'two last fragments with different ends', slot, f.frame);
      const cbase = slot * maxRanges * 2;
      const count = sDeclCount[slot] as number;
      if (count > 0 && (sDecl[cbase + 2 * (count - 1) + 1] as number) > end) {
        return discard('invalid', 'data received past the last fragment', slot, f.frame);
      }
    } else if (total >= 0 && end > total) {
      return discard('invalid', 'fragment past the last fragment', slot, f.frame);
    }

    // Overlaps (RFC 5722): different bytes discard the datagram, identical ones are merged.
    if (declaredOverlap(slot, off, end)) {
      if (!sameBytes(slot, f, off, off + cap)) {
        return discard('overlap', 'overlapping fragments with different bytes', slot, f.frame, compared);
      }
      stats.duplicates++;
      reportSlot('overlap', 'overlapping fragment with identical bytes', slot, f.frame, true, compared);
    }

    // Memory: make room in the block pool, oldest datagrams first.
    const need = blocksNeeded(slot, off, off + cap);
    while (blocksInUse + need > maxBlocks) {
      if (!evictOldest(slot, f.frame)) {
        return discard('evicted', 'datagram larger than maxBytes', slot, f.frame);
      }
    }

    if (
      (decl > 0 && !insertRange(sDecl, sDeclCount, slot, off, end)) ||
      (cap > 0 && !insertRange(sCap, sCapCount, slot, off, off + cap))
    ) {
      return discard('evicted', 'too many disjoint ranges (maxRanges)', slot, f.frame);
    }
    storeBytes(slot, f, off, off + cap);
    if (!f.moreFragments) sTotal[slot] = end;
    if (off === 0 && sHeaderLength[slot] === 0) {
      sHeaderLength[slot] = hl;
      copyBytes(sHeader, slot * maxHeaderBytes, data, f.ipOffset, hl);
      sNextHeader[slot] = protocol;
    }
    const fc = sFragCount[slot] as number;
    if (fc < maxFrames) sFrames[slot * maxFrames + fc] = f.frame;
    sFragCount[slot] = fc + 1;

    const t = sTotal[slot] as number;
    const dbase = slot * maxRanges * 2;
    if (t >= 0 && sDeclCount[slot] === 1 && sDecl[dbase] === 0 && sDecl[dbase + 1] === t)
      return complete(slot);
    return pending(slot);
  }

  return {
    add,
    expire: (now: number) => expire(now, -1),
    clear() {
      while (oldest >= 0) releaseSlot(oldest);
    },
    stats,
    options: { maxDatagrams, maxBytes, timeoutSeconds, maxHeaderBytes, maxRanges, maxFrames, maxDistance },
  };
}
