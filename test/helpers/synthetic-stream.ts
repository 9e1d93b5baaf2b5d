// A seeded synthetic capture of any length, written as a stream: a classic pcap (microsecond,
// little-endian, Ethernet, snap length 128) of TCP traffic that looks like a busy host over hours,
// for tests that need captures far too big to keep as files (memory stays flat for 10 M frames).
//
// Traffic model. A fixed number of flow slots is open at any time: `shortFlows` short-lived
// connections and `bulkFlows` bulk transfers. Each frame (or burst of frames, for bulk flows) goes to
// a slot picked at random; when a flow ends, its slot starts a new one at once, so flows keep
// churning (by default about 3,500 new flows per simulated minute, over a million distinct flows in
// 10 M frames). All rates are per frame and the clock advances a fixed mean per frame, so a run of
// 1 M frames and one of 10 M frames see the same concurrency and churn, the longer run only lasts
// longer (default: 2.16 ms a frame, 6 hours per 10 M frames).
//
// - short flows: SYN, SYN/ACK, request, response, FIN, FIN, ACK (70%); SYN, RST (15%, refused);
//   SYN, SYN/ACK, ACK, RST (15%, aborted);
// - bulk flows: handshake, then bursts of MSS-sized data segments with a delayed ACK every two
//   segments from the receiver: downloads, uploads, and flows with data both ways (bursts alternate
//   direction, data segments carry ACKs); then FIN, FIN, ACK. Some never end (they run to the end of
//   the capture). Half the bulk flows start their sequence numbers just below 2^32 so they wrap;
// - IPv4, some IPv6 (`ipv6Share`), some VXLAN-encapsulated (`vxlanShare`: outer Ethernet/IPv4/
//   UDP 4789 with a zero UDP checksum/VXLAN/inner Ethernet/IPv4/TCP), TCP timestamps on every segment
//   and MSS, SACK-permitted and window scale on SYNs;
// - checksums: every IPv4 header checksum (outer and inner) is valid; per flow and direction the TCP
//   checksum is either correct (the payload is zeros, so it can be computed without holding it) or
//   the partial pseudo-header sum of checksum offload (`offloadShare`);
// - frames are cut at `snaplen` (headers only: caplen < origlen for data segments).
//
// Speed: frames are built in large reused Buffers (a small ring, each reused once its write has
// completed) from per-slot header templates patched in place; checksums are summed incrementally
// from per-flow constant parts. No allocation per frame: 2.5-3 M frames/s on one idle core.
import type { Writable } from 'node:stream';
import { prng } from './prng.js';

export interface SyntheticStreamOptions {
  /** Frames to write. */
  frames: number;
  seed?: number;
  /** Simulated capture duration; default 2.16 ms a frame (6 h per 10 M frames). */
  durationSec?: number;
  /** Short-lived flows open at any time. */
  shortFlows?: number;
  /** Bulk flows open at any time. */
  bulkFlows?: number;
  /** Share of frames that belong to bulk flows. */
  bulkShare?: number;
  ipv6Share?: number;
  vxlanShare?: number;
  /** Share of flow directions whose TCP checksum is the partial sum of checksum offload. */
  offloadShare?: number;
  snaplen?: number;
  /** Bytes per write (a ring of 4 such buffers is used). */
  batchBytes?: number;
  /** Called after each batch is handed to the stream, with the frames written so far. */
  onBatch?: (framesWritten: number) => void;
}

export interface SyntheticStreamStats {
  frames: number;
  /** Bytes written, file header included. */
  bytes: number;
  /** Distinct TCP flows started (each with a SYN), by kind. */
  flows: number;
  shortFlows: number;
  bulkFlows: number;
  ipv6Flows: number;
  vxlanFlows: number;
  /** Flow directions whose sequence numbers wrapped past 2^32. */
  seqWraps: number;
  /** Capture time of the first and the last frame, in seconds since the epoch. */
  firstTime: number;
  lastTime: number;
}

const START_SEC = 1_700_000_000;
const KIND_V4 = 0;
const KIND_V6 = 1;
const KIND_VXLAN = 2;
/** Offset of the TCP header in the frame, by kind. */
const tcpAtOf = (kind: number): number => (kind === KIND_V4 ? 34 : kind === KIND_V6 ? 54 : 84);
/** MSS for a 1500-byte MTU (for VXLAN, the inner MTU is 50 bytes less). */
const mssOf = (kind: number): number => (kind === KIND_V4 ? 1460 : kind === KIND_V6 ? 1440 : 1410);
const MAX_TCP_AT = 84;

const FIN = 0x01;
const SYN = 0x02;
const RST = 0x04;
const PSH = 0x08;
const ACK = 0x10;
const TWO32 = 0x100000000;

const SHORT_FULL = 0;
const SHORT_REFUSED = 1;
const SHORT_ABORTED = 2;
const BULK_DOWN = 0;
const BULK_UP = 1;
const BULK_BOTH = 2;
/** Bulk phases: 0..2 handshake, 3 data, 4..6 close. */
const PHASE_DATA = 3;

const SERVER_PORTS = [80, 443, 5201, 8080, 3306, 6379, 22, 9092] as const;

class Flow {
  kind = KIND_V4;
  bulk = false;
  script = 0;
  step = 0;
  /** Bulk: data segments still to send (Infinity: until the capture ends). */
  remaining = 0;
  /** Bulk: segments since the last ACK from the receiver, and the direction of the current burst. */
  unacked = 0;
  sender = 1;
  /** Per direction (0 client -> server, 1 server -> client): next sequence number, IP id, TSval offset, last TSval. */
  readonly seq = [0, 0];
  readonly ipId = [0, 0];
  readonly tsOffset = [0, 0];
  readonly lastTs = [0, 0];
  readonly partial = [false, false];
  readonly wrapped = [false, false];
  /** Unfolded constant parts: pseudo-header (addresses + protocol), TCP (ports, window), IPv4 headers. */
  readonly pseudo = [0, 0];
  readonly tcpConst = [0, 0];
  readonly ipConst = [0, 0];
  readonly outerConst = [0, 0];
  /** Header bytes up to the end of the fixed TCP header, per direction. */
  readonly template = [new Uint8Array(MAX_TCP_AT + 20), new Uint8Array(MAX_TCP_AT + 20)];
}

function fold(sum: number): number {
  let s = sum;
  while (s > 0xffff) s = (s & 0xffff) + Math.floor(s / 0x10000);
  return s;
}

function sumWords(b: Uint8Array, start: number, end: number): number {
  let s = 0;
  for (let i = start; i < end; i += 2) s += ((b[i] as number) << 8) | (b[i + 1] as number);
  return s;
}

function put16(b: Uint8Array, at: number, v: number): void {
  b[at] = v >>> 8;
  b[at + 1] = v & 0xff;
}

function put32(b: Uint8Array, at: number, v: number): void {
  b[at] = v >>> 24;
  b[at + 1] = (v >>> 16) & 0xff;
  b[at + 2] = (v >>> 8) & 0xff;
  b[at + 3] = v & 0xff;
}

function putMac(b: Uint8Array, at: number, last: number): void {
  b[at] = 0x02;
  b[at + 1] = 0x00;
  b[at + 2] = 0x5e;
  b[at + 3] = 0x10;
  b[at + 4] = (last >>> 8) & 0xff;
  b[at + 5] = last & 0xff;
}

/** Writes an option-less IPv4 header (checksum left 0; patched per frame) for TCP or UDP. */
function putIpv4(b: Uint8Array, at: number, src: number, dst: number, protocol: number): void {
  b[at] = 0x45;
  b[at + 1] = 0;
  put16(b, at + 2, 0); // total length: per frame
  put16(b, at + 4, 0); // id: per frame
  put16(b, at + 6, 0x4000); // DF
  b[at + 8] = 64;
  b[at + 9] = protocol;
  put16(b, at + 10, 0);
  put32(b, at + 12, src);
  put32(b, at + 16, dst);
}

/** Writes the fixed TCP header (seq, ack, offset, flags and checksum patched per frame). */
function putTcp(b: Uint8Array, at: number, sport: number, dport: number, window: number): void {
  put16(b, at, sport);
  put16(b, at + 2, dport);
  b.fill(0, at + 4, at + 20);
  put16(b, at + 14, window);
}

/**
 * Writes a classic pcap of `options.frames` synthetic frames to `out` (see the top of this file) and
 * resolves when every byte has been accepted by the stream. Does not end the stream.
 */
export async function writeSyntheticStream(
  out: Writable,
  options: SyntheticStreamOptions,
): Promise<SyntheticStreamStats> {
  const total = options.frames;
  const rand = prng(options.seed ?? 1);
  const pick = (n: number) => Math.floor(rand() * n);
  const durationUs = (options.durationSec ?? total * 0.00216) * 1e6;
  const shortSlots = options.shortFlows ?? 2000;
  const bulkSlots = options.bulkFlows ?? 64;
  const bulkShare = options.bulkShare ?? 0.25;
  const ipv6Share = options.ipv6Share ?? 0.2;
  const vxlanShare = options.vxlanShare ?? 0.2;
  const offloadShare = options.offloadShare ?? 0.5;
  const snaplen = options.snaplen ?? 128;
  // Room for the largest record (1514 bytes of frame at most), times the longest burst (16 frames).
  const room = 16 + Math.min(snaplen, 1600);
  const batchBytes = Math.max(options.batchBytes ?? 1 << 20, 16 * room);
  if (!Number.isInteger(total) || total < 0) throw new Error(`frames must be a count, got ${total}`);
  if (shortSlots < 1 && bulkSlots < 1) throw new Error('no flow slots: shortFlows and bulkFlows both 0');

  const stats: SyntheticStreamStats = {
    frames: 0,
    bytes: 0,
    flows: 0,
    shortFlows: 0,
    bulkFlows: 0,
    ipv6Flows: 0,
    vxlanFlows: 0,
    seqWraps: 0,
    firstTime: START_SEC,
    lastTime: START_SEC,
  };

  // Bursts: a bulk event writes 1..16 frames (mean 8.5); the event probability keeps the frame share.
  const meanBurst = 8.5;
  const bulkEvent = bulkSlots > 0 ? bulkShare / (meanBurst * (1 - bulkShare) + bulkShare) : 0;
  const framesPerEvent = bulkEvent * meanBurst + (1 - bulkEvent);
  // Frames inside a burst are 12 us apart (1514 bytes at 1 Gb/s); events are spaced so that the mean
  // time per frame is durationUs / total.
  const burstGapUs = 12;
  const perFrameUs = total > 0 ? durationUs / total : 0;
  const eventGapUs = Math.max(0, perFrameUs * framesPerEvent - burstGapUs * (framesPerEvent - 1));
  let nowUs = 0;

  let flowCounter = 0;
  function startFlow(f: Flow, bulk: boolean): void {
    const k = flowCounter++;
    f.bulk = bulk;
    f.step = 0;
    f.unacked = 0;
    const r = rand();
    f.kind = r < ipv6Share ? KIND_V6 : r < ipv6Share + vxlanShare ? KIND_VXLAN : KIND_V4;
    if (bulk) {
      const m = rand();
      f.script = m < 0.6 ? BULK_DOWN : m < 0.8 ? BULK_UP : BULK_BOTH;
      // Segments to send: 10% never end, the rest exponential with a mean of 3,000.
      f.remaining = rand() < 0.1 ? Number.POSITIVE_INFINITY : 1 + Math.floor(-Math.log(1 - rand()) * 3000);
      f.sender = f.script === BULK_UP ? 0 : 1;
    } else {
      const m = rand();
      f.script = m < 0.7 ? SHORT_FULL : m < 0.85 ? SHORT_REFUSED : SHORT_ABORTED;
    }
    for (let d = 0; d < 2; d++) {
      // Half the bulk flows start close below 2^32 (within 2 MB) so they wrap early.
      f.seq[d] = bulk && rand() < 0.5 ? TWO32 - 1 - pick(2_000_000) : pick(TWO32);
      f.ipId[d] = pick(0x10000);
      f.tsOffset[d] = pick(TWO32);
      f.lastTs[d] = 0;
      f.partial[d] = rand() < offloadShare;
      f.wrapped[d] = false;
    }

    // Endpoints: the client from the flow counter (distinct for the first 4 M flows), the server
    // from a pool of 256 per kind.
    const server = pick(256);
    const cport = 32768 + ((k * 7919) % 28000);
    const sport = SERVER_PORTS[pick(SERVER_PORTS.length)] as number;
    const tcpAt = tcpAtOf(f.kind);
    for (let d = 0; d < 2; d++) {
      const t = f.template[d] as Uint8Array;
      const c2s = d === 0;
      putMac(t, 0, c2s ? 0x0101 : 0x0202);
      putMac(t, 6, c2s ? 0x0202 : 0x0101);
      let ip = 14;
      if (f.kind === KIND_V6) {
        put16(t, 12, 0x86dd);
        // Version 6, flow label from the counter; payload length per frame; next header TCP; hop limit 64.
        put32(t, ip, 0x60000000 | (k & 0xfffff));
        put16(t, ip + 4, 0);
        t[ip + 6] = 6;
        t[ip + 7] = 64;
        const client = ip + (c2s ? 8 : 24);
        const srv = ip + (c2s ? 24 : 8);
        // Client fd00:0:0:1::/64 + counter, server fd00:0:0:2::/64 + pool index.
        t.fill(0, ip + 8, ip + 40);
        put16(t, client, 0xfd00);
        put16(t, client + 6, 1);
        put32(t, client + 12, k >>> 0);
        put16(t, srv, 0xfd00);
        put16(t, srv + 6, 2);
        put16(t, srv + 14, server + 1);
        f.pseudo[d] = sumWords(t, ip + 8, ip + 40) + 6;
      } else {
        put16(t, 12, 0x0800);
        if (f.kind === KIND_VXLAN) {
          // Outer: VTEP 100.64.0.x <-> 100.64.1.y, UDP from a hash of the inner flow to 4789, VNI 1000+.
          const vtepC = 0x64400000 | (1 + (k & 0x0f));
          const vtepS = 0x64400100 | (1 + (server & 0x0f));
          putIpv4(t, ip, c2s ? vtepC : vtepS, c2s ? vtepS : vtepC, 17);
          f.outerConst[d] = sumWords(t, ip, ip + 20);
          const udp = ip + 20;
          put16(t, udp, 49152 + ((k * 40503) & 0x3fff));
          put16(t, udp + 2, 4789);
          put16(t, udp + 4, 0); // length: per frame
          put16(t, udp + 6, 0); // no checksum
          const vx = udp + 8;
          put32(t, vx, 0x08000000);
          put32(t, vx + 4, (1000 + (server & 7)) << 8);
          putMac(t, vx + 8, c2s ? 0x0a01 : 0x0a02);
          putMac(t, vx + 14, c2s ? 0x0a02 : 0x0a01);
          put16(t, vx + 20, 0x0800);
          ip = vx + 22;
        }
        // Client 10.64.0.0/10 + counter (172.16.0.0/12 inside VXLAN), server 10.0.0.x (172.31.0.x).
        const inner = f.kind === KIND_VXLAN;
        const client = (inner ? 0xac100000 : 0x0a400000) + (k % 0x3fffff) + 1;
        const srv = (inner ? 0xac1f0000 : 0x0a000000) + server + 1;
        putIpv4(t, ip, c2s ? client : srv, c2s ? srv : client, 6);
        f.ipConst[d] = sumWords(t, ip, ip + 20);
        f.pseudo[d] = sumWords(t, ip + 12, ip + 20) + 6;
      }
      putTcp(t, tcpAt, c2s ? cport : sport, c2s ? sport : cport, c2s ? 502 : 1024);
      f.tcpConst[d] = sumWords(t, tcpAt, tcpAt + 20);
    }
  }

  const shorts: Flow[] = [];
  const bulks: Flow[] = [];
  for (let i = 0; i < shortSlots; i++) {
    const f = new Flow();
    startFlow(f, false);
    shorts.push(f);
  }
  for (let i = 0; i < bulkSlots; i++) {
    const f = new Flow();
    startFlow(f, true);
    bulks.push(f);
  }

  // Output: a ring of buffers; one is reused only after the stream is done with its last write.
  const RING = 4;
  const ring = Array.from({ length: RING }, () => Buffer.allocUnsafe(batchBytes));
  const inFlight: (Promise<void> | null)[] = Array.from({ length: RING }, () => null);
  let slot = 0;
  let buf = ring[0] as Buffer;
  let pos = 0;
  let failure: Error | null = null;
  const flush = async (): Promise<void> => {
    if (pos === 0) return;
    const chunk = buf.subarray(0, pos);
    stats.bytes += pos;
    inFlight[slot] = new Promise<void>((resolve) => {
      out.write(chunk, (err) => {
        if (err && failure === null) failure = err;
        resolve();
      });
    });
    options.onBatch?.(stats.frames);
    slot = (slot + 1) % RING;
    buf = ring[slot] as Buffer;
    pos = 0;
    const pending = inFlight[slot];
    if (pending) await pending;
    inFlight[slot] = null;
    if (failure) throw failure;
  };

  // File header: magic, version 2.4, thiszone 0, sigfigs 0, snaplen, Ethernet.
  buf.writeUInt32LE(0xa1b2c3d4, 0);
  buf.writeUInt16LE(2, 4);
  buf.writeUInt16LE(4, 6);
  buf.writeInt32LE(0, 8);
  buf.writeUInt32LE(0, 12);
  buf.writeUInt32LE(snaplen, 16);
  buf.writeUInt32LE(1, 20);
  pos = 24;

  /** Writes one frame of flow f in direction d (0: client -> server). */
  function emit(f: Flow, d: number, flags: number, payload: number): void {
    const kind = f.kind;
    const tcpAt = tcpAtOf(kind);
    const syn = (flags & SYN) !== 0;
    const optLen = syn ? 20 : 12;
    const tcpLen = 20 + optLen + payload;
    const origLen = tcpAt + tcpLen;
    const capLen = Math.min(origLen, snaplen);
    const b = buf;
    let p = pos;
    // Record header (little-endian).
    const sec = START_SEC + Math.floor(nowUs / 1e6);
    const usec = Math.floor(nowUs % 1e6);
    b.writeUInt32LE(sec, p);
    b.writeUInt32LE(usec, p + 4);
    b.writeUInt32LE(capLen, p + 8);
    b.writeUInt32LE(origLen, p + 12);
    p += 16;
    const o = p;
    const t = f.template[d] as Uint8Array;
    const hdr = tcpAt + 20;
    for (let i = 0; i < hdr; i++) b[o + i] = t[i] as number;

    const id = f.ipId[d] as number;
    f.ipId[d] = (id + 1) & 0xffff;
    if (kind === KIND_V6) {
      put16(b, o + 18, tcpLen);
    } else {
      let ip = o + 14;
      if (kind === KIND_VXLAN) {
        const outerLen = origLen - 14;
        put16(b, ip + 2, outerLen);
        put16(b, ip + 4, id);
        put16(b, ip + 10, ~fold((f.outerConst[d] as number) + outerLen + id) & 0xffff);
        put16(b, ip + 24, outerLen - 20);
        ip = o + 64;
      }
      const ipLen = 20 + tcpLen;
      put16(b, ip + 2, ipLen);
      put16(b, ip + 4, id);
      put16(b, ip + 10, ~fold((f.ipConst[d] as number) + ipLen + id) & 0xffff);
    }

    // TCP: seq, ack, offset and flags, then options; the checksum last.
    const tcp = o + tcpAt;
    const seq = f.seq[d] as number;
    const ack = (flags & ACK) !== 0 ? (f.seq[1 - d] as number) : 0;
    put32(b, tcp + 4, seq);
    put32(b, tcp + 8, ack);
    const offFlags = ((5 + optLen / 4) << 12) | flags;
    put16(b, tcp + 12, offFlags);
    const tsval = ((f.tsOffset[d] as number) + Math.floor(nowUs / 1000)) >>> 0;
    const tsecr = syn && (flags & ACK) === 0 ? 0 : (f.lastTs[1 - d] as number);
    f.lastTs[d] = tsval;
    let sum =
      (f.pseudo[d] as number) +
      tcpLen +
      (f.tcpConst[d] as number) +
      Math.floor(seq / 0x10000) +
      (seq & 0xffff) +
      Math.floor(ack / 0x10000) +
      (ack & 0xffff) +
      offFlags +
      Math.floor(tsval / 0x10000) +
      (tsval & 0xffff) +
      Math.floor(tsecr / 0x10000) +
      (tsecr & 0xffff);
    let q = tcp + 20;
    if (syn) {
      const mss = mssOf(kind);
      b[q] = 2;
      b[q + 1] = 4;
      put16(b, q + 2, mss);
      b[q + 4] = 4;
      b[q + 5] = 2;
      b[q + 6] = 8;
      b[q + 7] = 10;
      put32(b, q + 8, tsval);
      put32(b, q + 12, tsecr);
      b[q + 16] = 1;
      b[q + 17] = 3;
      b[q + 18] = 3;
      b[q + 19] = 7;
      sum += 0x0204 + mss + 0x0402 + 0x080a + 0x0103 + 0x0307;
      q += 20;
    } else {
      b[q] = 1;
      b[q + 1] = 1;
      b[q + 2] = 8;
      b[q + 3] = 10;
      put32(b, q + 4, tsval);
      put32(b, q + 8, tsecr);
      sum += 0x0101 + 0x080a;
      q += 12;
    }
    // Payload (zeros) as far as captured.
    const end = o + capLen;
    if (q < end) b.fill(0, q, end);
    const checksum = f.partial[d] ? fold((f.pseudo[d] as number) + tcpLen) : ~fold(sum) & 0xffff || 0xffff;
    put16(b, tcp + 16, checksum);

    // Sequence space consumed: payload, plus one for SYN and FIN.
    const consumed = payload + (syn ? 1 : 0) + (flags & FIN ? 1 : 0);
    if (consumed > 0 && (flags & RST) === 0) {
      const next = seq + consumed;
      if (next >= TWO32) {
        f.seq[d] = next - TWO32;
        if (!f.wrapped[d]) {
          f.wrapped[d] = true;
          stats.seqWraps++;
        }
      } else {
        f.seq[d] = next;
      }
    }
    pos = end;
    if (stats.frames++ === 0) stats.firstTime = START_SEC + nowUs / 1e6;
    if (flags === SYN) {
      // A flow counts once its SYN is written.
      stats.flows++;
      if (f.bulk) stats.bulkFlows++;
      else stats.shortFlows++;
      if (kind === KIND_V6) stats.ipv6Flows++;
      else if (kind === KIND_VXLAN) stats.vxlanFlows++;
    }
  }

  /** Next frame of a short flow; restarts the slot when the flow is done. */
  function stepShort(f: Flow): void {
    const s = f.step++;
    const mss = mssOf(f.kind) - 12;
    if (s === 0) emit(f, 0, SYN, 0);
    else if (f.script === SHORT_REFUSED) {
      emit(f, 1, RST | ACK, 0);
      startFlow(f, false);
    } else if (s === 1) emit(f, 1, SYN | ACK, 0);
    else if (f.script === SHORT_ABORTED) {
      if (s === 2) emit(f, 0, ACK, 0);
      else {
        emit(f, 0, RST | ACK, 0);
        startFlow(f, false);
      }
    } else if (s === 2) emit(f, 0, PSH | ACK, 40 + pick(600));
    else if (s === 3) emit(f, 1, PSH | ACK, 100 + pick(mss - 99));
    else if (s === 4) emit(f, 0, FIN | ACK, 0);
    else if (s === 5) emit(f, 1, FIN | ACK, 0);
    else {
      emit(f, 0, ACK, 0);
      startFlow(f, false);
    }
  }

  /** Next frame of a bulk flow; returns false when the flow ended (and the slot restarted). */
  function stepBulk(f: Flow): boolean {
    const s = f.step;
    if (s < PHASE_DATA) {
      emit(f, s === 1 ? 1 : 0, s === 0 ? SYN : s === 1 ? SYN | ACK : ACK, 0);
      f.step++;
      return true;
    }
    if (s === PHASE_DATA) {
      if (f.unacked >= 2) {
        emit(f, 1 - f.sender, ACK, 0);
        f.unacked = 0;
        return true;
      }
      if (f.remaining <= 0) {
        f.step++;
        return stepBulk(f);
      }
      emit(f, f.sender, f.unacked === 1 ? PSH | ACK : ACK, mssOf(f.kind) - 12);
      f.unacked++;
      f.remaining--;
      return true;
    }
    // Close: the client's FIN, the server's FIN, the client's last ACK.
    f.step++;
    if (s === PHASE_DATA + 1) emit(f, 0, FIN | ACK, 0);
    else if (s === PHASE_DATA + 2) emit(f, 1, FIN | ACK, 0);
    else {
      emit(f, 0, ACK, 0);
      startFlow(f, true);
      return false;
    }
    return true;
  }

  while (stats.frames < total) {
    if (pos + room * 16 > batchBytes) await flush();
    // One event: a burst of a bulk flow or one frame of a short flow.
    nowUs += eventGapUs > 0 ? rand() * 2 * eventGapUs : 0;
    if (rand() < bulkEvent) {
      const f = bulks[pick(bulkSlots)] as Flow;
      if (f.script === BULK_BOTH && f.step === PHASE_DATA && f.unacked === 0 && rand() < 0.5) {
        f.sender = 1 - f.sender;
      }
      const burst = 1 + pick(16);
      for (let i = 0; i < burst && stats.frames < total; i++) {
        if (i > 0) nowUs += burstGapUs;
        if (!stepBulk(f)) break;
      }
    } else if (shortSlots > 0) {
      stepShort(shorts[pick(shortSlots)] as Flow);
    }
  }
  stats.lastTime = START_SEC + nowUs / 1e6;
  await flush();
  for (const pending of inFlight) if (pending) await pending;
  if (failure) throw failure;
  return stats;
}
