import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  createFragmentInput,
  createReassembler,
  type FragmentInput,
  type FragmentProblem,
  fillFragmentInput,
  type ReassemblerOptions,
} from '../../src/observe/reassembly.js';

// ---------------------------------------------------------------- hand-built packets

const LINK = 14; // a fake Ethernet header in front of every IP packet, so offsets are not 0

function checksum16(b: Uint8Array, start: number, end: number): number {
  let sum = 0;
  for (let i = start; i < end; i += 2) sum += ((b[i] ?? 0) << 8) | (b[i + 1] ?? 0);
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return sum;
}

function pattern(n: number, seed = 1): Uint8Array {
  const p = new Uint8Array(n);
  for (let i = 0; i < n; i++) p[i] = (i * 7 + seed * 13 + (i >> 8)) & 0xff;
  return p;
}

interface V4 {
  src?: number[];
  dst?: number[];
  proto?: number;
  id: number;
  df?: boolean;
  options?: number[];
}

/** A whole IPv4 datagram (valid checksum) carrying `payload`. */
function ipv4Datagram(h: V4, payload: Uint8Array): Uint8Array {
  const opts = h.options ?? [];
  const hl = 20 + opts.length;
  const d = new Uint8Array(hl + payload.length);
  d[0] = 0x40 | (hl / 4);
  d[1] = 0x10;
  d[2] = d.length >> 8;
  d[3] = d.length & 0xff;
  d[4] = h.id >> 8;
  d[5] = h.id & 0xff;
  d[6] = h.df ? 0x40 : 0;
  d[8] = 64;
  d[9] = h.proto ?? 17;
  d.set(h.src ?? [10, 0, 0, 1], 12);
  d.set(h.dst ?? [10, 0, 0, 2], 16);
  d.set(opts, 20);
  const c = ~checksum16(d, 0, hl) & 0xffff;
  d[10] = c >> 8;
  d[11] = c & 0xff;
  d.set(payload, hl);
  return d;
}

/** Cuts an IPv4 datagram like a router: returns frames (link header + IP fragment). */
function fragmentV4(datagram: Uint8Array, offsets: number[]): Uint8Array[] {
  const hl = ((datagram[0] ?? 0) & 0x0f) * 4;
  const dataLength = datagram.length - hl;
  return offsets.map((off, i) => {
    const end = offsets[i + 1] ?? dataLength;
    // Options are copied into the first fragment only (no copied-flag options used here).
    const fhl = off === 0 ? hl : 20;
    const frame = new Uint8Array(LINK + fhl + end - off);
    const ip = frame.subarray(LINK);
    ip.set(datagram.subarray(0, fhl), 0);
    ip[0] = 0x40 | (fhl / 4);
    const total = fhl + end - off;
    ip[2] = total >> 8;
    ip[3] = total & 0xff;
    const fo = (off / 8) | ((datagram[6] ?? 0) & 0x40 ? 0x4000 : 0) | (end < dataLength ? 0x2000 : 0);
    ip[6] = fo >> 8;
    ip[7] = fo & 0xff;
    ip[10] = 0;
    ip[11] = 0;
    const c = ~checksum16(ip, 0, fhl) & 0xffff;
    ip[10] = c >> 8;
    ip[11] = c & 0xff;
    ip.set(datagram.subarray(hl + off, hl + end), fhl);
    return frame;
  });
}

/** Reads the input fields back from a frame built above (what a decoder would give). */
function v4Input(frame: Uint8Array, no: number, time: number, snap = frame.length): FragmentInput {
  const data = frame.subarray(0, snap);
  const ip = LINK;
  const hl = ((frame[ip] ?? 0) & 0x0f) * 4;
  const total = ((frame[ip + 2] ?? 0) << 8) | (frame[ip + 3] ?? 0);
  const fo = ((frame[ip + 6] ?? 0) << 8) | (frame[ip + 7] ?? 0);
  const input = createFragmentInput();
  input.data = data;
  input.ipVersion = 4;
  input.ipOffset = ip;
  input.headerLength = hl;
  input.srcOffset = ip + 12;
  input.dstOffset = ip + 16;
  input.protocol = frame[ip + 9] ?? 0;
  input.id = ((frame[ip + 4] ?? 0) << 8) | (frame[ip + 5] ?? 0);
  input.fragmentOffset = (fo & 0x1fff) * 8;
  input.moreFragments = (fo & 0x2000) !== 0;
  input.payloadOffset = ip + hl;
  input.payloadLength = total - hl;
  input.capturedLength = Math.max(0, Math.min(total, data.length - ip) - hl);
  input.frame = no;
  input.time = time;
  return input;
}

const SRC6 = [0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1];
const DST6 = [0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2];

/** A whole IPv6 datagram; `ext` = unfragmentable extension headers (first byte = next header). */
function ipv6Datagram(payload: Uint8Array, ext: number[] = [], nh = 17): Uint8Array {
  const d = new Uint8Array(40 + ext.length + payload.length);
  d[0] = 0x60;
  const plen = ext.length + payload.length;
  d[4] = plen >> 8;
  d[5] = plen & 0xff;
  d[6] = ext.length > 0 ? 0 : nh; // hop-by-hop first when there are extension headers
  d[7] = 64;
  d.set(SRC6, 8);
  d.set(DST6, 24);
  d.set(ext, 40);
  if (ext.length > 0) d[40] = nh;
  d.set(payload, 40 + ext.length);
  return d;
}

/** Inserts a Fragment header after the unfragmentable part (40 + extLength bytes). */
function fragmentV6(datagram: Uint8Array, extLength: number, id: number, offsets: number[]): Uint8Array[] {
  const unfrag = 40 + extLength;
  const dataLength = datagram.length - unfrag;
  const lastNhField = extLength > 0 ? 40 : 6;
  const nh = datagram[lastNhField] ?? 0;
  return offsets.map((off, i) => {
    const end = offsets[i + 1] ?? dataLength;
    const frame = new Uint8Array(LINK + unfrag + 8 + end - off);
    const ip = frame.subarray(LINK);
    ip.set(datagram.subarray(0, unfrag), 0);
    const plen = extLength + 8 + end - off;
    ip[4] = plen >> 8;
    ip[5] = plen & 0xff;
    ip[lastNhField] = 44;
    const fh = unfrag;
    ip[fh] = nh;
    ip[fh + 1] = 0;
    const fo = off | (end < dataLength ? 1 : 0);
    ip[fh + 2] = fo >> 8;
    ip[fh + 3] = fo & 0xff;
    new DataView(ip.buffer, ip.byteOffset).setUint32(fh + 4, id);
    ip.set(datagram.subarray(unfrag + off, unfrag + end), fh + 8);
    return frame;
  });
}

function v6Input(frame: Uint8Array, extLength: number, no: number, time: number, snap = frame.length) {
  const data = frame.subarray(0, snap);
  const ip = LINK;
  const fh = ip + 40 + extLength;
  const plen = ((frame[ip + 4] ?? 0) << 8) | (frame[ip + 5] ?? 0);
  const fo = ((frame[fh + 2] ?? 0) << 8) | (frame[fh + 3] ?? 0);
  const input = createFragmentInput();
  input.data = data;
  input.ipVersion = 6;
  input.ipOffset = ip;
  input.headerLength = 40 + extLength;
  input.srcOffset = ip + 8;
  input.dstOffset = ip + 24;
  input.protocol = 44;
  input.id = new DataView(frame.buffer, frame.byteOffset).getUint32(fh + 4);
  input.fragmentOffset = fo & 0xfff8;
  input.moreFragments = (fo & 1) === 1;
  input.payloadOffset = fh + 8;
  input.payloadLength = ip + 40 + plen - (fh + 8);
  input.capturedLength = Math.max(0, Math.min(ip + 40 + plen, data.length) - (fh + 8));
  input.frame = no;
  input.time = time;
  return input;
}

function withProblems(opts: ReassemblerOptions = {}) {
  const problems: Array<
    Omit<FragmentProblem, 'src' | 'dst' | 'frames'> & { frames: number[]; src: number[] }
  > = [];
  const r = createReassembler({
    ...opts,
    onProblem: (p) => problems.push({ ...p, frames: [...p.frames], src: [...p.src] }),
  });
  return { r, problems };
}

function rebuilt(r: { bytes: Uint8Array; length: number }): Uint8Array {
  return r.bytes.slice(0, r.length);
}

// ---------------------------------------------------------------- tests

describe('IPv4 reassembly', () => {
  const payload = pattern(3000);
  const whole = ipv4Datagram({ id: 0x1234 }, payload);
  const frags = fragmentV4(whole, [0, 1480, 2960]);

  it('rebuilds an in-order datagram byte for byte, header fixed and checksum recomputed', () => {
    const { r, problems } = withProblems();
    expect(r.add(v4Input(frags[0] as Uint8Array, 1, 0.1)).status).toBe('pending');
    expect(r.add(v4Input(frags[1] as Uint8Array, 2, 0.2)).status).toBe('pending');
    const res = r.add(v4Input(frags[2] as Uint8Array, 3, 0.3));
    expect(res.status).toBe('complete');
    expect(res.length).toBe(3020);
    expect(res.capturedPrefix).toBe(3020);
    expect(res.headerLength).toBe(20);
    expect(res.protocol).toBe(17);
    expect(res.id).toBe(0x1234);
    expect(res.frames).toEqual([1, 2, 3]);
    expect(res.fragmentCount).toBe(3);
    expect(res.firstTime).toBe(0.1);
    const out = rebuilt(res);
    // Total length 3020 = 0x0bcc, flags/offset 0, checksum valid: the unfragmented datagram.
    expect([out[2], out[3], out[6], out[7]]).toEqual([0x0b, 0xcc, 0, 0]);
    expect(checksum16(out, 0, 20)).toBe(0xffff);
    expect(out).toEqual(whole);
    expect(problems).toEqual([]);
    expect(r.stats).toMatchObject({ fragments: 3, started: 1, completed: 1, pending: 0, bytesInUse: 0 });
    expect(r.stats.peakBytes).toBeGreaterThan(0);
  });

  it('rebuilds out of order, taking the header (with options) from the offset-0 fragment; keeps DF', () => {
    const opt = ipv4Datagram({ id: 7, df: true, options: [1, 1, 1, 0] }, payload); // NOPs + EOL
    const f = fragmentV4(opt, [0, 1480, 2960]);
    const r = createReassembler();
    expect(r.add(v4Input(f[2] as Uint8Array, 3, 1)).status).toBe('pending');
    expect(r.add(v4Input(f[0] as Uint8Array, 1, 1)).status).toBe('pending');
    const res = r.add(v4Input(f[1] as Uint8Array, 2, 1));
    expect(res.status).toBe('complete');
    expect(res.headerLength).toBe(24);
    const out = rebuilt(res);
    expect(out[6]).toBe(0x40);
    expect(out).toEqual(opt);
    expect(res.frames).toEqual([3, 1, 2]);
  });

  it('keeps interleaved datagrams of different ids (and protocols) apart', () => {
    const a = fragmentV4(ipv4Datagram({ id: 1 }, pattern(2000, 1)), [0, 1000]);
    const b = fragmentV4(ipv4Datagram({ id: 2 }, pattern(2000, 2)), [0, 1000]);
    const c = fragmentV4(ipv4Datagram({ id: 1, proto: 6 }, pattern(2000, 3)), [0, 1000]);
    const r = createReassembler();
    expect(r.add(v4Input(a[0] as Uint8Array, 1, 0)).status).toBe('pending');
    expect(r.add(v4Input(b[1] as Uint8Array, 2, 0)).status).toBe('pending');
    expect(r.add(v4Input(c[0] as Uint8Array, 3, 0)).status).toBe('pending');
    expect(r.stats.pending).toBe(3);
    let res = r.add(v4Input(b[0] as Uint8Array, 4, 0));
    expect(res.status).toBe('complete');
    expect(rebuilt(res)).toEqual(ipv4Datagram({ id: 2 }, pattern(2000, 2)));
    res = r.add(v4Input(c[1] as Uint8Array, 5, 0));
    expect(res.status).toBe('complete');
    expect(rebuilt(res)).toEqual(ipv4Datagram({ id: 1, proto: 6 }, pattern(2000, 3)));
    res = r.add(v4Input(a[1] as Uint8Array, 6, 0));
    expect(rebuilt(res)).toEqual(ipv4Datagram({ id: 1 }, pattern(2000, 1)));
    expect(r.stats).toMatchObject({ started: 3, completed: 3, pending: 0 });
  });

  it('merges a duplicated fragment, reporting an identical overlap', () => {
    const { r, problems } = withProblems();
    r.add(v4Input(frags[0] as Uint8Array, 1, 0));
    expect(r.add(v4Input(frags[0] as Uint8Array, 2, 0)).status).toBe('pending');
    r.add(v4Input(frags[1] as Uint8Array, 3, 0));
    const res = r.add(v4Input(frags[2] as Uint8Array, 4, 0));
    expect(res.status).toBe('complete');
    expect(rebuilt(res)).toEqual(whole);
    expect(res.fragmentCount).toBe(4);
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatchObject({ kind: 'overlap', identical: true, comparedBytes: 1480, frame: 2 });
    expect(r.stats).toMatchObject({ duplicates: 1, overlaps: 0, completed: 1 });
  });

  it('discards the datagram on an overlap with different bytes (RFC 5722 rule)', () => {
    const { r, problems } = withProblems();
    r.add(v4Input(frags[0] as Uint8Array, 1, 0));
    // A fragment at offset 1400 (overlapping the first one's last 80 bytes) with other contents.
    const other = ipv4Datagram({ id: 0x1234 }, pattern(3000, 9));
    const bad = fragmentV4(other, [0, 1400, 2000])[1] as Uint8Array;
    const res = r.add(v4Input(bad, 2, 0));
    expect(res.status).toBe('dropped');
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatchObject({
      kind: 'overlap',
      identical: false,
      frames: [1],
      receivedBytes: 1480,
    });
    expect(problems[0]?.src).toEqual([10, 0, 0, 1]);
    expect(r.stats).toMatchObject({ overlaps: 1, pending: 0, bytesInUse: 0 });
    // The rest of the datagram starts a new one and never completes on its own.
    expect(r.add(v4Input(frags[1] as Uint8Array, 3, 0)).status).toBe('pending');
  });

  it('reports too-big when the reassembled length would exceed 65,535', () => {
    const { r, problems } = withProblems();
    const f = fragmentV4(ipv4Datagram({ id: 5 }, pattern(2000)), [0, 1000])[1] as Uint8Array;
    const input = v4Input(f, 1, 0);
    input.fragmentOffset = 65528 - 8 * 100; // + 1000 bytes + 20 header > 65535
    expect(r.add(input).status).toBe('dropped');
    expect(problems[0]).toMatchObject({ kind: 'too-big', frames: [1] });
    expect(r.stats).toMatchObject({ tooBig: 1, started: 0 });
  });

  it('times out an incomplete datagram when time advances, with received/missing bytes', () => {
    const { r, problems } = withProblems({ timeoutSeconds: 30 });
    r.add(v4Input(frags[0] as Uint8Array, 1, 100));
    r.add(v4Input(frags[2] as Uint8Array, 2, 110));
    const other = fragmentV4(ipv4Datagram({ id: 99 }, pattern(2000)), [0, 1000]);
    r.add(v4Input(other[0] as Uint8Array, 3, 125));
    expect(r.add(v4Input(other[0] as Uint8Array, 4, 129.9)).status).toBe('pending'); // nothing old yet
    expect(problems.filter((p) => p.kind === 'timeout')).toHaveLength(0);
    // 130.5 - 100 > 30: the first datagram expires; the second (started 125) stays.
    const res = r.add(v4Input(other[1] as Uint8Array, 5, 130.5));
    expect(res.status).toBe('complete');
    const timeouts = problems.filter((p) => p.kind === 'timeout');
    expect(timeouts).toHaveLength(1);
    expect(timeouts[0]).toMatchObject({
      id: 0x1234,
      frames: [1, 2],
      receivedBytes: 1480 + 40,
      missingBytes: 1480,
    });
    expect(timeouts[0]?.frame).toBe(5);
    expect(r.stats).toMatchObject({ timedOut: 1, pending: 0 });
    // expire() alone, and a datagram whose last fragment never came (missing unknown).
    r.add(v4Input(frags[0] as Uint8Array, 6, 200));
    expect(r.expire(229)).toBe(0);
    expect(r.expire(231)).toBe(1);
    expect(problems.at(-1)).toMatchObject({
      kind: 'timeout',
      frame: -1,
      missingBytes: -1,
      receivedBytes: 1480,
    });
  });

  it('evicts the oldest datagram when maxDatagrams is reached', () => {
    const { r, problems } = withProblems({ maxDatagrams: 2 });
    const d = [1, 2, 3].map((id) => fragmentV4(ipv4Datagram({ id }, pattern(1000, id)), [0, 504]));
    r.add(v4Input(d[0]?.[0] as Uint8Array, 1, 0));
    r.add(v4Input(d[1]?.[0] as Uint8Array, 2, 1));
    r.add(v4Input(d[2]?.[0] as Uint8Array, 3, 2));
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatchObject({ kind: 'evicted', id: 1, frames: [1], frame: 3 });
    expect(r.stats).toMatchObject({ evicted: 1, pending: 2 });
    expect(r.add(v4Input(d[0]?.[1] as Uint8Array, 4, 3)).status).toBe('pending'); // id 1 starts again
    expect(problems.at(-1)).toMatchObject({ kind: 'evicted', id: 2 });
    const res = r.add(v4Input(d[2]?.[1] as Uint8Array, 5, 3));
    expect(rebuilt(res)).toEqual(ipv4Datagram({ id: 3 }, pattern(1000, 3)));
  });

  it('evicts the oldest datagram when maxBytes is reached, and drops one larger than maxBytes', () => {
    const { r, problems } = withProblems({ maxBytes: 4096 }); // four 1 KiB blocks
    const d = [1, 2].map((id) => fragmentV4(ipv4Datagram({ id }, pattern(5000, id)), [0, 1600, 3200]));
    r.add(v4Input(d[0]?.[0] as Uint8Array, 1, 0)); // 1600 bytes: 2 blocks
    r.add(v4Input(d[1]?.[0] as Uint8Array, 2, 0)); // 2 more: full
    expect(r.stats.bytesInUse).toBe(4096);
    r.add(v4Input(d[1]?.[1] as Uint8Array, 3, 0)); // needs 2 more: id 1 goes
    expect(problems).toEqual([expect.objectContaining({ kind: 'evicted', id: 1 })]);
    expect(r.stats.bytesInUse).toBe(4096);
    // id 2 needs a fifth block for its last fragment: nothing else to evict.
    expect(r.add(v4Input(d[1]?.[2] as Uint8Array, 4, 0)).status).toBe('dropped');
    expect(problems.at(-1)).toMatchObject({ kind: 'evicted', id: 2, frames: [2, 3] });
    expect(r.stats).toMatchObject({ evicted: 2, pending: 0, bytesInUse: 0, peakBytes: 4096 });
  });

  it('tracks captured ranges apart from declared ones when the snap length cuts fragments', () => {
    const r = createReassembler();
    // Fragment 0 cut after 100 data bytes, fragment 1 whole, fragment 2 cut.
    r.add(v4Input(frags[0] as Uint8Array, 1, 0, LINK + 20 + 100));
    r.add(v4Input(frags[1] as Uint8Array, 2, 0));
    const res = r.add(v4Input(frags[2] as Uint8Array, 3, 0, LINK + 20 + 10));
    expect(res.status).toBe('complete');
    expect(res.length).toBe(3020);
    expect(res.capturedPrefix).toBe(120);
    const out = rebuilt(res);
    expect(out.subarray(0, 120)).toEqual(whole.subarray(0, 120));
    expect(out.subarray(120).every((b) => b === 0)).toBe(true);
    expect(checksum16(out, 0, 20)).toBe(0xffff);
    // A whole copy of the cut fragment fills the hole (identical overlap).
    r.add(v4Input(frags[0] as Uint8Array, 4, 0, LINK + 20 + 100));
    r.add(v4Input(frags[0] as Uint8Array, 5, 0));
    r.add(v4Input(frags[1] as Uint8Array, 6, 0));
    const res2 = r.add(v4Input(frags[2] as Uint8Array, 7, 0));
    expect(res2.capturedPrefix).toBe(3020);
    expect(rebuilt(res2)).toEqual(whole);
  });

  it('zero-fills past the captured prefix in blocks an earlier datagram left its bytes in', () => {
    // The rebuilt datagram is copied block by block, each block whole: what a block held before
    // must not show past the bytes this datagram captured.
    const r = createReassembler();
    r.add(v4Input(frags[0] as Uint8Array, 1, 0));
    r.add(v4Input(frags[1] as Uint8Array, 2, 0));
    expect(r.add(v4Input(frags[2] as Uint8Array, 3, 0)).status).toBe('complete');
    // The same datagram again (its first one is done), its first fragment cut after 100 data bytes.
    r.add(v4Input(frags[0] as Uint8Array, 4, 0, LINK + 20 + 100));
    r.add(v4Input(frags[1] as Uint8Array, 5, 0));
    const res = r.add(v4Input(frags[2] as Uint8Array, 6, 0));
    expect(res.status).toBe('complete');
    expect(res.capturedPrefix).toBe(120);
    const out = rebuilt(res);
    expect(out.subarray(0, 120)).toEqual(whole.subarray(0, 120));
    expect(out.subarray(120).every((b) => b === 0)).toBe(true);
  });

  it('rebuilds the largest datagram with the longest header, captured whole', () => {
    // 60 header bytes (40 of options) and 65,475 of data: the last block ends past 65,535 bytes.
    const options = [7, 39, 4, ...new Array(36).fill(0), 0];
    const big = ipv4Datagram({ id: 0x4444, options }, pattern(65_535 - 60, 3));
    const offsets: number[] = [];
    for (let off = 0; off < 65_535 - 60; off += 1480) offsets.push(off);
    const r = createReassembler({ maxHeaderBytes: 60, maxBytes: 1 << 20 });
    let res = r.add(v4Input(fragmentV4(big, offsets)[0] as Uint8Array, 1, 0));
    fragmentV4(big, offsets)
      .slice(1)
      .forEach((frame, i) => {
        res = r.add(v4Input(frame, i + 2, 0));
      });
    expect(res.status).toBe('complete');
    expect(res.length).toBe(65_535);
    expect(res.capturedPrefix).toBe(65_535);
    expect(rebuilt(res).subarray(60)).toEqual(big.subarray(60));
  });

  it('keeps the key table consistent through many interleaved insertions and deletions', () => {
    // Shuffled fragments of 500 datagrams (two sources), then a sliding window over a tiny table.
    const all: Array<{ frame: Uint8Array; id: number; src: number }> = [];
    const datagrams = new Map<string, Uint8Array>();
    for (let id = 0; id < 250; id++) {
      for (const src of [1, 2]) {
        const d = ipv4Datagram({ id, src: [10, 0, 0, src] }, pattern(600, id + src));
        datagrams.set(`${src}/${id}`, d);
        for (const frame of fragmentV4(d, [0, 200, 400])) all.push({ frame, id, src });
      }
    }
    let seed = 12345;
    const rand = () => {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
      return seed / 2 ** 32;
    };
    for (let i = all.length - 1; i > 0; i--) {
      const j = Math.floor(rand() * (i + 1));
      [all[i], all[j]] = [all[j] as (typeof all)[number], all[i] as (typeof all)[number]];
    }
    // Whole-capture shuffling is far more disorder than ipfrag_max_dist allows: off here.
    const { r, problems } = withProblems({ maxDatagrams: 600, maxDistance: 0 });
    let done = 0;
    all.forEach((f, n) => {
      const res = r.add(v4Input(f.frame, n, 0));
      if (res.status === 'complete') {
        done++;
        expect(rebuilt(res)).toEqual(datagrams.get(`${f.src}/${f.id}`));
      }
    });
    expect(done).toBe(500);
    expect(problems).toEqual([]);

    const small = createReassembler({ maxDatagrams: 4 });
    const order: Uint8Array[] = [];
    const ids = [...datagrams.keys()];
    for (let i = 0; i < ids.length + 2; i++) {
      for (const [k, lag] of [
        [0, 0],
        [1, 1],
        [2, 2],
      ] as const) {
        const key = ids[i - lag];
        const d = key === undefined ? undefined : datagrams.get(key);
        if (d) order.push(fragmentV4(d, [0, 200, 400])[k] as Uint8Array);
      }
    }
    let smallDone = 0;
    for (const frame of order) if (small.add(v4Input(frame, 0, 0)).status === 'complete') smallDone++;
    expect(smallDone).toBe(500);
    expect(small.stats).toMatchObject({ evicted: 0, pending: 0, bytesInUse: 0 });
  });

  it('rejects inconsistent fragments', () => {
    const { r, problems } = withProblems();
    const input = v4Input(frags[0] as Uint8Array, 1, 0);
    input.payloadLength = 1479; // MF set, not a multiple of 8
    expect(r.add(input).status).toBe('dropped');
    r.add(v4Input(frags[2] as Uint8Array, 2, 0)); // last: data 2960..3000
    const late = v4Input(frags[2] as Uint8Array, 3, 0);
    late.fragmentOffset = 3000; // last fragment with a different end
    expect(r.add(late).status).toBe('dropped');
    expect(problems.map((p) => p.kind)).toEqual(['invalid', 'invalid']);
    expect(r.stats).toMatchObject({ invalid: 2, pending: 0 });
  });
});

describe('IPv6 reassembly', () => {
  const payload = pattern(2500, 4);

  it('removes the Fragment header and patches Next Header and Payload Length (out of order)', () => {
    const whole = ipv6Datagram(payload);
    const f = fragmentV6(whole, 0, 0xdeadbeef, [0, 1232, 2464]);
    const r = createReassembler();
    expect(r.add(v6Input(f[1] as Uint8Array, 0, 1, 0)).status).toBe('pending');
    expect(r.add(v6Input(f[2] as Uint8Array, 0, 2, 0)).status).toBe('pending');
    const res = r.add(v6Input(f[0] as Uint8Array, 0, 3, 0));
    expect(res.status).toBe('complete');
    expect(res.ipVersion).toBe(6);
    expect(res.id).toBe(0xdeadbeef);
    expect(res.length).toBe(2540);
    expect(res.protocol).toBe(17);
    const out = rebuilt(res);
    expect([out[4], out[5], out[6]]).toEqual([2500 >> 8, 2500 & 0xff, 17]);
    expect(out).toEqual(whole);
  });

  it('patches the last unfragmentable extension header (Hop-by-Hop before the Fragment header)', () => {
    const hbh = [0, 0, 1, 4, 0, 0, 0, 0]; // next header (filled in), length 0, PadN
    const whole = ipv6Datagram(payload, hbh, 58);
    const f = fragmentV6(whole, 8, 77, [0, 1400]);
    expect(f[0]?.[LINK + 40]).toBe(44);
    const r = createReassembler();
    r.add(v6Input(f[0] as Uint8Array, 8, 1, 0));
    const res = r.add(v6Input(f[1] as Uint8Array, 8, 2, 0));
    expect(res.status).toBe('complete');
    expect(res.headerLength).toBe(48);
    expect(res.protocol).toBe(58);
    const out = rebuilt(res);
    expect([out[6], out[40]]).toEqual([0, 58]);
    expect(out).toEqual(whole);
  });

  it('keeps datagrams with different identifications apart; discards an overlap with other bytes', () => {
    const a = fragmentV6(ipv6Datagram(payload), 0, 1, [0, 1232]);
    const b = fragmentV6(ipv6Datagram(pattern(2500, 5)), 0, 2, [0, 1232]);
    const { r, problems } = withProblems();
    r.add(v6Input(a[0] as Uint8Array, 0, 1, 0));
    r.add(v6Input(b[0] as Uint8Array, 0, 2, 0));
    expect(r.stats.pending).toBe(2);
    expect(rebuilt(r.add(v6Input(b[1] as Uint8Array, 0, 3, 0)))).toEqual(ipv6Datagram(pattern(2500, 5)));
    // b's first fragment re-labelled with id 1: overlaps a's first fragment with other bytes.
    const forged = (b[0] as Uint8Array).slice();
    new DataView(forged.buffer).setUint32(LINK + 44, 1);
    expect(r.add(v6Input(forged, 0, 4, 0)).status).toBe('dropped');
    expect(problems).toEqual([
      expect.objectContaining({ kind: 'overlap', identical: false, ipVersion: 6, id: 1 }),
    ]);
    expect(problems[0]?.src).toEqual(SRC6);
  });

  it('completes an atomic fragment at once and reports too-big past 65,535 bytes of payload', () => {
    const whole = ipv6Datagram(pattern(100));
    const [atomic] = fragmentV6(whole, 0, 3, [0]);
    const { r, problems } = withProblems();
    const res = r.add(v6Input(atomic as Uint8Array, 0, 1, 0));
    expect(res.status).toBe('complete');
    expect(rebuilt(res)).toEqual(whole);
    expect(r.stats).toMatchObject({ atomic: 1, started: 0, pending: 0 });
    const [, last] = fragmentV6(ipv6Datagram(pattern(2000)), 0, 4, [0, 1000]);
    const input = v6Input(last as Uint8Array, 0, 2, 0);
    input.fragmentOffset = 64536; // + 1000 = 65536 > 65535
    expect(r.add(input).status).toBe('dropped');
    expect(problems).toEqual([expect.objectContaining({ kind: 'too-big', ipVersion: 6 })]);
  });

  it('reports a snap-length cut first fragment through capturedPrefix', () => {
    const whole = ipv6Datagram(payload);
    const f = fragmentV6(whole, 0, 9, [0, 1232, 2464]);
    const r = createReassembler();
    r.add(v6Input(f[0] as Uint8Array, 0, 1, 0, 256));
    r.add(v6Input(f[1] as Uint8Array, 0, 2, 0));
    const res = r.add(v6Input(f[2] as Uint8Array, 0, 3, 0));
    expect(res.length).toBe(2540);
    expect(res.capturedPrefix).toBe(256 - LINK - 8); // the Fragment header is gone
    expect(rebuilt(res).subarray(0, res.capturedPrefix)).toEqual(whole.subarray(0, res.capturedPrefix));
  });
});

// ---------------------------------------------------------------- a real capture

/** Minimal classic pcap walker (little-endian, microseconds), enough for the lab sample. */
function* pcapRecords(file: Uint8Array) {
  const view = new DataView(file.buffer, file.byteOffset, file.byteLength);
  expect(view.getUint32(0, true)).toBe(0xa1b2c3d4);
  const snaplen = view.getUint32(16, true);
  const linkType = view.getUint32(20, true);
  let at = 24;
  let no = 0;
  while (at + 16 <= file.length) {
    const sec = view.getUint32(at, true);
    const usec = view.getUint32(at + 4, true);
    const incl = view.getUint32(at + 8, true);
    const orig = view.getUint32(at + 12, true);
    yield {
      no: ++no,
      time: sec + usec / 1e6,
      data: file.subarray(at + 16, at + 16 + incl),
      orig,
      snaplen,
      linkType,
    };
    at += 16 + incl;
  }
}

describe('lab sample: fragmenting-underlay host1-phy0 (snaplen 256)', () => {
  it('completes every fragmented outer packet with the declared length from the headers', () => {
    const file = readFileSync(
      join(import.meta.dirname, '..', '..', 'samples', 'fragmenting-underlay', 'host1-phy0.pcap'),
    );
    const { r, problems } = withProblems();
    const input = createFragmentInput();
    let firsts = 0;
    let completions = 0;
    let snaplen = 0;
    const expectedLength = new Map<string, number>();
    const lengths = new Set<number>();
    for (const rec of pcapRecords(file)) {
      snaplen = rec.snaplen;
      expect(rec.linkType).toBe(1);
      const d = rec.data;
      if (d.length < 34 || d[12] !== 0x08 || d[13] !== 0x00) continue;
      const ip = 14;
      const hl = ((d[ip] ?? 0) & 0x0f) * 4;
      const total = ((d[ip + 2] ?? 0) << 8) | (d[ip + 3] ?? 0);
      const fo = ((d[ip + 6] ?? 0) << 8) | (d[ip + 7] ?? 0);
      const mf = (fo & 0x2000) !== 0;
      const off = (fo & 0x1fff) * 8;
      if (!mf && off === 0) continue;
      const id = ((d[ip + 4] ?? 0) << 8) | (d[ip + 5] ?? 0);
      // Declared data length of the datagram, from the fragment headers alone.
      const key = `${id}`;
      if (off === 0) firsts++;
      if (!mf) expectedLength.set(key, off + total - hl);
      const level = {
        ipVersion: 4,
        ipOffset: ip,
        ipHeaderLength: hl,
        ipTotalLength: total,
        srcOffset: ip + 12,
        dstOffset: ip + 16,
        ipId: id,
        moreFragments: mf,
        fragmentOffset: off,
        isFragment: true,
        ipv6FragmentHeaderOffset: -1,
        protocol: d[ip + 9] ?? 0,
      };
      expect(fillFragmentInput(input, d, d.length, level, rec.no)).toBe(true);
      input.time = rec.time;
      const res = r.add(input);
      if (res.status !== 'complete') continue;
      completions++;
      lengths.add(res.length);
      expect(res.length).toBe(20 + (expectedLength.get(key) ?? -1));
      expect(res.capturedPrefix).toBeLessThan(res.length);
      expect(res.capturedPrefix).toBe(snaplen - 14);
      const out = res.bytes;
      expect(((out[2] ?? 0) << 8) | (out[3] ?? 0)).toBe(res.length);
      expect((out[6] ?? 0) & 0x3f).toBe(0);
      expect(out[7]).toBe(0);
      expect(checksum16(out, 0, 20)).toBe(0xffff);
      expect(res.frames).toHaveLength(2);
      // The rebuilt datagram starts with the outer UDP header to VXLAN port 4789.
      expect(((out[22] ?? 0) << 8) | (out[23] ?? 0)).toBe(4789);
      const udpLength = ((out[24] ?? 0) << 8) | (out[25] ?? 0);
      expect(udpLength).toBe(res.length - 20);
    }
    expect(snaplen).toBe(256);
    expect(firsts).toBeGreaterThan(100);
    expect(completions).toBe(firsts);
    // 1,396 + 174 bytes of fragments: 1,376 + 154 bytes of data behind one 20-byte header.
    expect([...lengths]).toEqual([20 + 1376 + 154]);
    expect(problems).toEqual([]);
    expect(r.stats).toMatchObject({
      started: firsts,
      completed: firsts,
      pending: 0,
      timedOut: 0,
      evicted: 0,
    });
  });
});

describe('IPv4 ID reuse (ipfrag_max_dist)', () => {
  const src = [10, 200, 0, 42];
  const cut = (d: Uint8Array) => fragmentV4(d, [0, 1376]);
  const other = (id: number, from = src) => ipv4Datagram({ id, src: from }, pattern(1500, id));

  it('retires a queue whose ID comes back after far more datagrams of its source: incomplete, not overlap', () => {
    const { r, problems } = withProblems();
    // Datagram ID 7 loses its second fragment before the capture point.
    const lost = ipv4Datagram({ id: 7, src }, pattern(1500, 1));
    let no = 1;
    expect(r.add(v4Input(cut(lost)[0] as Uint8Array, no++, 0)).status).toBe('pending');
    // The ID counter runs on (16 bits wrap in well under the 30 s timeout at tunnel rates) ...
    for (let id = 8; id < 8 + 200; id++) for (const f of cut(other(id))) r.add(v4Input(f, no++, 0.001 * id));
    // ... and comes back to 7 with a different datagram.
    const again = ipv4Datagram({ id: 7, src }, pattern(1500, 2));
    const [a0, a1] = cut(again) as [Uint8Array, Uint8Array];
    expect(r.add(v4Input(a0, no++, 0.3)).status).toBe('pending');
    const res = r.add(v4Input(a1, no++, 0.3));
    expect(res.status).toBe('complete');
    expect(rebuilt(res)).toEqual(again);
    expect(problems.map((p) => p.kind)).toEqual(['too-far']);
    expect(problems[0]?.frames).toEqual([1]);
    expect(r.stats.overlaps).toBe(0);
    expect(r.stats.retired).toBe(1);
  });

  it('keeps a queue whose missing fragment is only a little late, and counts each source on its own', () => {
    const { r, problems } = withProblems({ maxDistance: 64 });
    const late = ipv4Datagram({ id: 7, src }, pattern(1500, 1));
    const [l0, l1] = cut(late) as [Uint8Array, Uint8Array];
    let no = 1;
    r.add(v4Input(l0, no++, 0));
    // 30 datagrams of the same source, and 500 of another source, go by.
    for (let id = 8; id < 38; id++) for (const f of cut(other(id))) r.add(v4Input(f, no++, 0.01));
    for (let id = 8; id < 508; id++)
      for (const f of cut(other(id, [10, 200, 0, 99]))) r.add(v4Input(f, no++, 0.01));
    const res = r.add(v4Input(l1, no++, 0.02));
    expect(res.status).toBe('complete');
    expect(rebuilt(res)).toEqual(late);
    expect(problems).toEqual([]);
  });

  it('with maxDistance 0 behaves as before: the reused ID overlaps', () => {
    const { r, problems } = withProblems({ maxDistance: 0 });
    let no = 1;
    r.add(v4Input(cut(ipv4Datagram({ id: 7, src }, pattern(1500, 1)))[0] as Uint8Array, no++, 0));
    for (let id = 8; id < 208; id++) for (const f of cut(other(id))) r.add(v4Input(f, no++, 0.01));
    r.add(v4Input(cut(ipv4Datagram({ id: 7, src }, pattern(1500, 2)))[0] as Uint8Array, no++, 0.02));
    expect(problems.map((p) => p.kind)).toEqual(['overlap']);
  });
});

describe('inner fragments keyed with the tunnel id', () => {
  it('never mixes fragments of two tenants with the same addresses and ID in different VNIs', () => {
    const { r, problems } = withProblems();
    const tenantA = ipv4Datagram({ id: 0x42 }, pattern(3000, 1));
    const tenantB = ipv4Datagram({ id: 0x42 }, pattern(3000, 2));
    const fa = fragmentV4(tenantA, [0, 1480, 2960]);
    const fb = fragmentV4(tenantB, [0, 1480, 2960]);
    const input = (frame: Uint8Array, no: number, vni: number) => {
      const i = v4Input(frame, no, 0);
      i.tunnelId = vni;
      return i;
    };
    const done: Uint8Array[] = [];
    for (let k = 0; k < 3; k++) {
      for (const [frames, vni] of [
        [fa, 97],
        [fb, 98],
      ] as const) {
        const res = r.add(input(frames[k] as Uint8Array, k, vni));
        if (res.status === 'complete') done.push(rebuilt(res));
      }
    }
    expect(problems).toEqual([]);
    expect(done).toEqual([tenantA, tenantB]);
  });

  it('takes the tunnel id from the decoded level (VNI)', () => {
    const input = createFragmentInput();
    const frame = fragmentV4(ipv4Datagram({ id: 1 }, pattern(100)), [0, 48])[0] as Uint8Array;
    const level = {
      ipVersion: 4,
      ipOffset: LINK,
      ipHeaderLength: 20,
      ipTotalLength: 68,
      srcOffset: LINK + 12,
      dstOffset: LINK + 16,
      ipId: 1,
      vni: 5001,
      moreFragments: true,
      fragmentOffset: 0,
      isFragment: true,
      ipv6FragmentHeaderOffset: -1,
      protocol: 17,
    };
    expect(fillFragmentInput(input, frame, frame.length, level, 1)).toBe(true);
    expect(input.tunnelId).toBe(5001);
  });
});
