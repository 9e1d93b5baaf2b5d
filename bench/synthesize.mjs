// Writes a large classic pcap "like the physical NIC's capture in jumbo-underlay": the records of
// samples/jumbo-underlay/host1-phy0.pcap (VXLAN over IPv4: 1448-byte TCP segments plus ACKs) repeated
// until the target frame count, so that each copy continues the flows of the one before it:
//
// - timestamps: copy k is shifted by k x (capture duration + one mean inter-frame gap): strictly
//   increasing across copies;
// - TCP (inner): seq advances per copy by the sequence space the direction consumed in the template;
//   ack and SACK edges by the space the reverse direction consumed; TSval/TSecr by the copy period in
//   ms (Linux's 1 kHz TCP timestamp clock). SYN frames are only written in the first copy and
//   FIN/RST frames only in the last, so each connection is opened once, streams, and closes once;
// - IPv4 ids (outer and inner): advance per copy by the id range the direction used in the template;
// - checksums: every checksum over a field we change is updated incrementally (RFC 1624), which keeps
//   its class: a valid outer/inner IPv4 header checksum stays valid; a full TCP or outer UDP checksum
//   stays as right (or wrong) as it was; a partial pseudo-header sum left for the NIC (checksum
//   offload) and a zero UDP checksum are left as they are, since the pseudo-header does not change.
//   (The payload is cut at snaplen 256, so full L4 checksums cannot be recomputed from scratch.)
//
// The same patching serves a whole lab run (synthesizeSet, the multi-hop scenario): the ten captures
// of samples/jumbo-underlay (guest1-eth0 ... guest2-eth0, TCP straight over IPv4 inside the overlay,
// in VXLAN on the NICs), k copies each, with ONE set of shifts for all files (shiftsFor): the same
// period, and per TCP direction the same seq/ack/TSval and IPv4-id advance, measured over all files.
// Per-file shifts would give copy k of a segment different numbers at different hops.
//
// Output goes to os.tmpdir() under a name keyed by the templates' hash, the copy count and the
// generator version, so reruns reuse it. Written streaming: memory is the templates plus one
// 4 MiB output buffer, whatever the frame count.
//
//   node bench/synthesize.mjs            # >= 1,000,000 frames
//   node bench/synthesize.mjs --huge     # >= 10,000,000 frames
//   node bench/synthesize.mjs --frames N
//   node bench/synthesize.mjs --multi [--huge | --frames N]   # the ten captures, that many in all
import { createHash } from 'node:crypto';
import {
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  readFileSync,
  renameSync,
  statSync,
  writeSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

const VERSION = 6; // bump when the output for a given input changes
export const SET_DIR = join(import.meta.dirname, '..', 'samples', 'jumbo-underlay');
export const TEMPLATE = join(SET_DIR, 'host1-phy0.pcap');
// The lab run's capture points in path order (samples/jumbo-underlay/topology.json).
export const SET_FILES = [
  'guest1-eth0',
  'host1-tap0',
  'host1-brq97',
  'host1-vxlan-97',
  'host1-phy0',
  'host2-phy0',
  'host2-vxlan-97',
  'host2-brq97',
  'host2-tap0',
  'guest2-eth0',
].map((n) => `${n}.pcap`);
export const DEFAULT_FRAMES = 1_000_000;
export const HUGE_FRAMES = 10_000_000;

const KEEP = 0; // written in every copy
const FIRST_ONLY = 1; // SYN: first copy only
const LAST_ONLY = 2; // FIN/RST: last copy only

/** Ones' complement sum of buf[start, end) as 16-bit big-endian words, folded to 16 bits. */
function sum16(buf, start, end) {
  let s = 0;
  let p = start;
  for (; p + 1 < end; p += 2) s += (buf[p] << 8) | buf[p + 1];
  if (p < end) s += buf[p] << 8;
  while (s > 0xffff) s = (s & 0xffff) + (s >>> 16);
  return s;
}

function fold(s) {
  while (s > 0xffff) s = (s & 0xffff) + (s >>> 16);
  return s;
}

/** RFC 1624 eqn. 3: HC' = ~(~HC + ~m + m'), with m/m' the folded sums of the region before/after. */
function updateChecksum(old, before, after) {
  return ~fold((~old & 0xffff) + (~before & 0xffff) + after) & 0xffff;
}

function pseudoSum(buf, ip, proto, length) {
  return fold(sum16(buf, ip + 12, ip + 20) + proto + length);
}

function payloadOf(buf, ip, ihl, doff) {
  return buf.readUInt16BE(ip + 2) - ihl - doff;
}

function readPcapHeader(buf) {
  const magicLE = buf.readUInt32LE(0);
  const known = { 2712847316: 1e6, 2712812621: 1e9 };
  if (known[magicLE]) return { le: true, ticks: known[magicLE] };
  const magicBE = buf.readUInt32BE(0);
  if (known[magicBE]) return { le: false, ticks: known[magicBE] };
  throw new Error(`not a classic pcap (magic 0x${magicLE.toString(16)})`);
}

/** Decodes the template once: where each record's fields are and how they move per copy. */
export function analyseTemplate(buf) {
  const hdr = readPcapHeader(buf);
  const u32 = (p) => (hdr.le ? buf.readUInt32LE(p) : buf.readUInt32BE(p));
  const records = [];
  const closed = new Set(); // connections that sent a FIN or RST
  const synSent = new Set(); // directions whose next frame may be the handshake's final ACK
  const seqSpan = new Map(); // inner direction -> { base, min, max }
  const ids = new Map(); // key -> { first, last, same, min, max } (min/max: signed distance from first)
  const noteId = (key, id) => {
    const e = ids.get(key);
    if (!e) ids.set(key, { first: id, last: id, same: true, min: 0, max: 0 });
    else {
      e.same &&= e.first === id;
      e.last = id;
      const rel = ((id - e.first) << 16) >> 16;
      e.min = Math.min(e.min, rel);
      e.max = Math.max(e.max, rel);
    }
  };
  for (let p = 24; p + 16 <= buf.length; ) {
    const incl = u32(p + 8);
    const data = p + 16;
    const end = data + incl;
    if (end > buf.length) break;
    const r = { at: p, end, ts: u32(p) * hdr.ticks + u32(p + 4), kind: KEEP, outerIp: -1 };
    records.push(r);
    p = end;
    let eth = data;
    let type = eth + 12 + 2 <= end ? buf.readUInt16BE(eth + 12) : 0;
    let l3 = eth + 14;
    if (type === 0x8100 && l3 + 4 <= end) {
      type = buf.readUInt16BE(l3 + 2);
      l3 += 4;
    }
    if (type !== 0x0800 || l3 + 20 > end) continue;
    const oIhl = (buf[l3] & 0x0f) * 4;
    let ip;
    if (buf[l3 + 9] === 6) {
      ip = l3; // TCP straight over IPv4: the captures inside the overlay (guest, tap, bridge, vxlan)
    } else {
      if (buf[l3 + 9] !== 17 || l3 + oIhl + 8 > end) continue;
      r.outerIp = l3;
      r.outerKey = `${buf.readUInt32BE(l3 + 12)}>${buf.readUInt32BE(l3 + 16)}`;
      noteId(`o${r.outerKey}`, buf.readUInt16BE(l3 + 4));
      const udp = l3 + oIhl;
      if (buf.readUInt16BE(udp + 2) !== 4789 && buf.readUInt16BE(udp) !== 4789) continue;
      r.udp = udp;
      eth = udp + 16;
      if (eth + 14 > end) continue;
      type = buf.readUInt16BE(eth + 12);
      ip = eth + 14;
      if (type !== 0x0800 || ip + 20 > end) continue;
    }
    const ihl = (buf[ip] & 0x0f) * 4;
    const tcp = ip + ihl;
    if (buf[ip + 9] !== 6 || tcp + 20 > end) continue;
    const doff = (buf[tcp + 12] >> 4) * 4;
    if (tcp + doff > end) continue;
    r.innerIp = ip;
    r.tcp = tcp;
    r.tcpEnd = tcp + doff;
    const flags = buf[tcp + 13];
    r.flags = flags;
    r.dir = `${buf.readUInt32BE(ip + 12)}:${buf.readUInt16BE(tcp)}>${buf.readUInt32BE(ip + 16)}:${buf.readUInt16BE(tcp + 2)}`;
    r.rev = `${buf.readUInt32BE(ip + 16)}:${buf.readUInt16BE(tcp + 2)}>${buf.readUInt32BE(ip + 12)}:${buf.readUInt16BE(tcp)}`;
    noteId(`i${r.dir}`, buf.readUInt16BE(ip + 4));
    // A connection closes once: its FIN/RST and everything after them (the ACKs of the FIN) go
    // into the last copy only, so middle copies never ACK a FIN they do not carry.
    const conn = [r.dir, r.rev].sort()[0]; // either direction names the connection
    if (flags & 0x05 || closed.has(conn)) {
      r.kind = LAST_ONLY;
      closed.add(conn);
    } else if (flags & 0x02) {
      r.kind = FIRST_ONLY;
      synSent.add(r.dir);
    } else if (synSent.delete(r.dir) && flags === 0x10 && payloadOf(buf, ip, ihl, doff) === 0) {
      r.kind = FIRST_ONLY; // the handshake's final ACK: repeated later it would be a duplicate ACK
    }
    // Checksum classes, decided once: full (update incrementally), partial or zero (leave alone).
    const tcpLen = buf.readUInt16BE(ip + 2) - ihl;
    r.tcpPartial = buf.readUInt16BE(tcp + 16) === pseudoSum(buf, ip, 6, tcpLen);
    if (r.udp !== undefined) {
      const udpCheck = buf.readUInt16BE(r.udp + 6);
      r.udpFull = udpCheck !== 0 && udpCheck !== pseudoSum(buf, r.outerIp, 17, buf.readUInt16BE(r.udp + 4));
    }
    const payload = payloadOf(buf, ip, ihl, doff);
    const seq = buf.readUInt32BE(tcp + 4);
    let s = seqSpan.get(r.dir);
    if (!s) {
      s = { base: seq, min: Infinity, max: -Infinity };
      seqSpan.set(r.dir, s);
    }
    if (r.kind === LAST_ONLY) continue; // the close's sequence numbers are not repeated
    const rel = (seq - s.base) | 0; // signed distance from the first seq seen in this direction
    const start = rel + (flags & 0x02 ? 1 : 0); // SYN takes one number before the data
    s.min = Math.min(s.min, start);
    s.max = Math.max(s.max, start + Math.max(0, payload));
  }
  const first = records[0].ts;
  const last = records[records.length - 1].ts;
  const gap = records.length > 1 ? Math.max(1, Math.round((last - first) / (records.length - 1))) : 1;
  const stats = {
    records: records.length,
    vxlanTcp: records.filter((r) => r.tcp).length,
    tcpPartial: records.filter((r) => r.tcp && r.tcpPartial).length,
    udpFull: records.filter((r) => r.tcp && r.udpFull).length,
    firstOnly: records.filter((r) => r.kind === FIRST_ONLY).length,
    lastOnly: records.filter((r) => r.kind === LAST_ONLY).length,
  };
  return { hdr, records, seqSpan, ids, first, last, gap, stats };
}

/** Adds `by` to the TCP option values that follow the peer's or our own numbers. */
function patchTcpOptions(buf, tcp, end, ackBy, tsBy) {
  for (let o = tcp + 20; o < end; ) {
    const kind = buf[o];
    if (kind === 0) break;
    if (kind === 1) {
      o++;
      continue;
    }
    const len = buf[o + 1];
    if (len < 2 || o + len > end) break;
    if (kind === 5 && ackBy !== 0) {
      for (let e = o + 2; e + 4 <= o + len; e += 4) buf.writeUInt32BE((buf.readUInt32BE(e) + ackBy) >>> 0, e);
    } else if (kind === 8 && len === 10 && tsBy !== 0) {
      buf.writeUInt32BE((buf.readUInt32BE(o + 2) + tsBy) >>> 0, o + 2);
      if (buf.readUInt32BE(o + 6) !== 0) buf.writeUInt32BE((buf.readUInt32BE(o + 6) + tsBy) >>> 0, o + 6);
    }
    o += len;
  }
}

function addId(buf, at, by) {
  if (by !== 0) buf.writeUInt16BE((buf.readUInt16BE(at) + by) & 0xffff, at);
}

/**
 * Patches one record (copied into `out` at `base`, record header included) for copy k of a template
 * with pcap header `hdr`, under the shifts `sh` ({ period, seqDelta, idDelta }, see shiftsFor).
 */
function patchRecord(out, base, r, k, hdr, sh) {
  const d = base - r.at; // template offset -> output offset
  const ts = r.ts + k * sh.period;
  const sec = Math.floor(ts / hdr.ticks);
  const frac = ts - sec * hdr.ticks;
  if (hdr.le) {
    out.writeUInt32LE(sec >>> 0, base);
    out.writeUInt32LE(frac, base + 4);
  } else {
    out.writeUInt32BE(sec >>> 0, base);
    out.writeUInt32BE(frac, base + 4);
  }
  if (k === 0) return;
  if (r.tcp) {
    const ip = r.innerIp + d;
    const tcp = r.tcp + d;
    const tcpEnd = r.tcpEnd + d;
    // Outer UDP covers the inner packet. With a partial inner TCP checksum the outer one was computed
    // as if the NIC had completed it (Linux local checksum offload): a completed TCP segment sums to
    // a constant, so only the inner IPv4 header's change counts. A full TCP checksum is kept
    // consistent below, so counting its header is right too.
    const udpEnd = r.tcpPartial ? ip + ((out[ip] & 0x0f) << 2) : tcpEnd;
    const udpBefore = r.udpFull ? sum16(out, ip, udpEnd) : 0;
    // inner IPv4 id and header checksum
    const ihl = (out[ip] & 0x0f) << 2;
    const ipBefore = sum16(out, ip, ip + ihl);
    addId(out, ip + 4, (k * (sh.idDelta.get(`i${r.dir}`) ?? 0)) & 0xffff);
    out.writeUInt16BE(updateChecksum(out.readUInt16BE(ip + 10), ipBefore, sum16(out, ip, ip + ihl)), ip + 10);
    // TCP seq/ack/options and checksum
    const tcpBefore = sum16(out, tcp, tcpEnd);
    const seqBy = k * (sh.seqDelta.get(r.dir) ?? 0);
    const ackBy = k * (sh.seqDelta.get(r.rev) ?? 0);
    const tsBy = Math.round((k * sh.period * 1000) / hdr.ticks);
    out.writeUInt32BE((out.readUInt32BE(tcp + 4) + seqBy) >>> 0, tcp + 4);
    if (r.flags & 0x10) out.writeUInt32BE((out.readUInt32BE(tcp + 8) + ackBy) >>> 0, tcp + 8);
    patchTcpOptions(out, tcp, tcpEnd, ackBy >>> 0, tsBy >>> 0);
    if (!r.tcpPartial) {
      const check = out.readUInt16BE(tcp + 16);
      // tcpBefore included the old checksum word; take it out of both sides.
      const before = fold(tcpBefore + (~check & 0xffff));
      const after = fold(sum16(out, tcp, tcpEnd) + (~check & 0xffff));
      out.writeUInt16BE(updateChecksum(check, before, after), tcp + 16);
    }
    if (r.udpFull) {
      const udp = r.udp + d;
      let c = updateChecksum(out.readUInt16BE(udp + 6), udpBefore, sum16(out, ip, udpEnd));
      if (c === 0) c = 0xffff;
      out.writeUInt16BE(c, udp + 6);
    }
  }
  if (r.outerIp < 0) return;
  // outer IPv4 id and header checksum
  const oIp = r.outerIp + d;
  const by = (k * (sh.idDelta.get(`o${r.outerKey}`) ?? 0)) & 0xffff;
  if (by !== 0) {
    const ihl = (out[oIp] & 0x0f) * 4;
    const before = sum16(out, oIp, oIp + ihl);
    addId(out, oIp + 4, by);
    out.writeUInt16BE(
      updateChecksum(out.readUInt16BE(oIp + 10), before, sum16(out, oIp, oIp + ihl)),
      oIp + 10,
    );
  }
}

/**
 * The shifts from one copy to the next, for templates captured in ONE run at several points (or for a
 * single template): { period, seqDelta, idDelta }. They must be the same in every file, or copy k of
 * a segment would carry different numbers at different hops and could no longer be matched:
 * - period (ticks): from the earliest first record to the latest last record over all files, plus
 *   the largest mean inter-frame gap of any file;
 * - seqDelta per TCP direction: the union of the sequence ranges every file saw for it (each
 *   measured from its own first seq, then re-based on the first file's);
 * - idDelta per IPv4 id stream (inner: TCP direction; outer: address pair): the union of the id
 *   ranges, 0 when every file saw one and the same id (e.g. a sender that always writes 0).
 * One template gives exactly the shifts the single-capture synthesizer has always used.
 */
export function shiftsFor(templates) {
  const { ticks } = templates[0].hdr;
  if (templates.some((t) => t.hdr.ticks !== ticks)) {
    throw new Error('templates mix microsecond and nanosecond timestamps');
  }
  const first = Math.min(...templates.map((t) => t.first));
  const last = Math.max(...templates.map((t) => t.last));
  const gap = Math.max(...templates.map((t) => t.gap));
  const seq = new Map(); // direction -> { base, min, max }
  const ids = new Map(); // key -> { first, same, min, max }
  for (const t of templates) {
    for (const [dir, s] of t.seqSpan) {
      if (s.max < s.min) continue; // only a close was seen: nothing repeats
      const u = seq.get(dir);
      if (!u) seq.set(dir, { ...s });
      else {
        const off = (s.base - u.base) | 0;
        u.min = Math.min(u.min, s.min + off);
        u.max = Math.max(u.max, s.max + off);
      }
    }
    for (const [key, e] of t.ids) {
      const u = ids.get(key);
      if (!u) ids.set(key, { ...e });
      else {
        const off = ((e.first - u.first) << 16) >> 16;
        u.same &&= e.same && off === 0;
        u.min = Math.min(u.min, e.min + off);
        u.max = Math.max(u.max, e.max + off);
      }
    }
  }
  // One template keeps its historical id advance (last - first + 1), which the range equals whenever
  // its ids only go up.
  const idRange = (e) =>
    templates.length === 1 ? (e.last - e.first + 1) & 0xffff : Math.min(0xffff, e.max - e.min + 1);
  return {
    period: last - first + gap,
    seqDelta: new Map([...seq].map(([k, s]) => [k, s.max > s.min ? s.max - s.min : 0])),
    idDelta: new Map([...ids].map(([k, e]) => [k, e.same ? 0 : idRange(e)])),
  };
}

/** Frames in `copies` copies of a template: SYNs only in the first, closes only in the last. */
function framesIn(t, copies) {
  if (copies === 1) return t.records.length;
  const middle = t.records.filter((r) => r.kind === KEEP).length;
  return middle * copies + t.stats.firstOnly + t.stats.lastOnly;
}

/**
 * Writes `copies` copies of the template (bytes `src`, analysed as `t`) to `path`, shifted by `sh`.
 * Streaming: memory is one 4 MiB output buffer; written to a .part file and renamed, so an
 * interrupted run never leaves a truncated file under the cached name.
 */
export function writeCopies(src, t, sh, copies, path) {
  const partial = `${path}.${process.pid}.part`;
  const fd = openSync(partial, 'w');
  const out = Buffer.allocUnsafe(4 << 20);
  let used = 0;
  const flush = () => {
    let off = 0;
    while (off < used) off += writeSync(fd, out, off, used - off);
    used = 0;
  };
  src.copy(out, 0, 0, 24);
  used = 24;
  for (let k = 0; k < copies; k++) {
    for (const r of t.records) {
      if (r.kind === FIRST_ONLY && k !== 0) continue;
      if (r.kind === LAST_ONLY && k !== copies - 1) continue;
      const len = r.end - r.at;
      if (used + len > out.length) flush();
      src.copy(out, used, r.at, r.end);
      patchRecord(out, used, r, k, t.hdr, sh);
      used += len;
    }
  }
  flush();
  closeSync(fd);
  renameSync(partial, path);
}

/** Copies needed so that the templates together hold at least `frames` frames. */
function copiesFor(templates, frames) {
  const one = templates.reduce((n, t) => n + t.records.length, 0);
  if (frames <= one) return 1;
  const ends = templates.reduce((n, t) => n + framesIn(t, 2), 0);
  const middle = templates.reduce((n, t) => n + framesIn(t, 3), 0) - ends;
  return 2 + Math.max(0, Math.ceil((frames - ends) / middle));
}

function parseArgs(argv) {
  let frames = DEFAULT_FRAMES;
  let multi = false;
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--huge') frames = HUGE_FRAMES;
    else if (argv[i] === '--frames') frames = Number(argv[++i]);
    else if (argv[i] === '--multi') multi = true;
  }
  if (!Number.isInteger(frames) || frames < 1) throw new Error('--frames wants a positive integer');
  return { frames, multi };
}

/**
 * Returns { path, frames, bytes, copies, cached, stats } for a capture of at least `frames` frames,
 * writing it first unless a file with the same content key is already in os.tmpdir().
 */
export function synthesize({ frames = DEFAULT_FRAMES, template = TEMPLATE, log = () => {} } = {}) {
  const src = readFileSync(template);
  const t = analyseTemplate(src);
  const copies = copiesFor([t], frames);
  const total = framesIn(t, copies);
  const key = createHash('sha256').update(src).update(`v${VERSION}:${copies}`).digest('hex').slice(0, 16);
  const path = join(tmpdir(), `hopscope-bench-${total}-${key}.pcap`);
  if (existsSync(path)) {
    return { path, frames: total, bytes: statSync(path).size, copies, cached: true, stats: t.stats };
  }
  log(`synthesizing ${total.toLocaleString('en-US')} frames (${copies} copies of ${template}) ...`);
  writeCopies(src, t, shiftsFor([t]), copies, path);
  return { path, frames: total, bytes: statSync(path).size, copies, cached: false, stats: t.stats };
}

/**
 * The captures of one lab run, k copies each with the same shifts (see shiftsFor), so that together
 * they hold at least `frames` frames and still show one consistent run at every hop. Returns
 * { dir, files: [{ name, path, frames, bytes }], frames, bytes, copies, cached, shifts }, cached in a
 * directory of os.tmpdir() keyed by the templates' contents, the copy count and the version.
 */
export function synthesizeSet({
  frames = DEFAULT_FRAMES,
  dir = SET_DIR,
  names = SET_FILES,
  log = () => {},
} = {}) {
  const srcs = names.map((n) => readFileSync(join(dir, n)));
  const ts = srcs.map((src) => analyseTemplate(src));
  const copies = copiesFor(ts, frames);
  const hash = createHash('sha256');
  for (const [i, src] of srcs.entries()) hash.update(names[i]).update(src);
  const key = hash.update(`v${VERSION}:${copies}`).digest('hex').slice(0, 16);
  const total = ts.reduce((n, t) => n + framesIn(t, copies), 0);
  const out = join(tmpdir(), `hopscope-bench-set-${total}-${key}`);
  const sh = shiftsFor(ts);
  const cached = names.every((n) => existsSync(join(out, n)));
  if (!cached) {
    log(
      `synthesizing ${total.toLocaleString('en-US')} frames (${copies} copies of ${names.length} captures in ${dir}) ...`,
    );
    mkdirSync(out, { recursive: true });
    for (const [i, n] of names.entries()) {
      if (!existsSync(join(out, n))) writeCopies(srcs[i], ts[i], sh, copies, join(out, n));
    }
  }
  const files = names.map((n, i) => ({
    name: n,
    path: join(out, n),
    frames: framesIn(ts[i], copies),
    bytes: statSync(join(out, n)).size,
  }));
  return {
    dir: out,
    files,
    frames: total,
    bytes: files.reduce((n, f) => n + f.bytes, 0),
    copies,
    cached,
    shifts: {
      periodTicks: sh.period,
      seqDelta: Object.fromEntries(sh.seqDelta),
      idDelta: Object.fromEntries(sh.idDelta),
    },
  };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const t0 = performance.now();
  const args = parseArgs(process.argv.slice(2));
  const log = (m) => console.error(m);
  const r = args.multi ? synthesizeSet({ ...args, log }) : synthesize({ ...args, log });
  const s = ((performance.now() - t0) / 1000).toFixed(1);
  console.error(
    `${r.cached ? 'reused' : `wrote in ${s} s`}: ${r.frames.toLocaleString('en-US')} frames, ${(r.bytes / 1e6).toFixed(0)} MB; ${
      args.multi ? `${r.copies} copies of ${r.files.length} captures` : `template ${JSON.stringify(r.stats)}`
    }; RSS peak ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MB`,
  );
  if (args.multi) for (const f of r.files) console.log(f.path);
  else console.log(r.path);
}
