// Test helpers for the decoders: tiny capture walkers (classic pcap, pcapng) independent of
// src/capture, and byte builders for hand-made frames.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

export interface Rec {
  data: Uint8Array;
  capturedLength: number;
  originalLength: number;
}

export interface Capture {
  linkType: number;
  records: Rec[];
}

/** Classic pcap: 24-byte file header, 16-byte record headers (either byte order, us or ns). */
export function readPcap(path: string): Capture {
  const buf = readFileSync(path);
  const b = new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const magic = dv.getUint32(0, true);
  const le = magic === 0xa1b2c3d4 || magic === 0xa1b23c4d;
  if (!le && dv.getUint32(0, false) !== 0xa1b2c3d4 && dv.getUint32(0, false) !== 0xa1b23c4d) {
    throw new Error(`${path}: not a classic pcap`);
  }
  const linkType = dv.getUint32(20, le) & 0x0fffffff;
  const records: Rec[] = [];
  let p = 24;
  while (p + 16 <= b.length) {
    const incl = dv.getUint32(p + 8, le);
    const orig = dv.getUint32(p + 12, le);
    if (p + 16 + incl > b.length) break;
    records.push({ data: b.subarray(p + 16, p + 16 + incl), capturedLength: incl, originalLength: orig });
    p += 16 + incl;
  }
  return { linkType, records };
}

/** pcapng: Section Header, Interface Description and Enhanced Packet blocks (single section). */
export function readPcapng(path: string): Capture {
  const buf = readFileSync(path);
  const b = new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const le = dv.getUint32(8, true) === 0x1a2b3c4d;
  const links: number[] = [];
  const records: Rec[] = [];
  let p = 0;
  while (p + 12 <= b.length) {
    const type = dv.getUint32(p, le);
    const len = dv.getUint32(p + 4, le);
    if (len < 12 || p + len > b.length) break;
    if (type === 1) links.push(dv.getUint16(p + 8, le));
    else if (type === 6) {
      const incl = dv.getUint32(p + 20, le);
      const orig = dv.getUint32(p + 24, le);
      records.push({ data: b.subarray(p + 28, p + 28 + incl), capturedLength: incl, originalLength: orig });
    }
    p += len;
  }
  return { linkType: links[0] ?? 1, records };
}

export const SAMPLES = join(import.meta.dirname, '..', '..', 'samples');
export const FIXTURES = join(import.meta.dirname, '..', 'fixtures');

export interface Knobs {
  underlayMtu: number;
  overlayMtu: number;
  encapsulation: string;
  underlay: string;
  snaplen: number;
  vni: number;
}

export function knobs(scenario: string): Knobs {
  return JSON.parse(readFileSync(join(SAMPLES, scenario, 'topology.json'), 'utf8')).knobs as Knobs;
}

// ---- byte builders ----

export function hex(s: string): Uint8Array {
  const clean = s.replace(/[^0-9a-fA-F]/g, '');
  const out = new Uint8Array(clean.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = Number.parseInt(clean.slice(i * 2, i * 2 + 2), 16);
  return out;
}

export function cat(...parts: Uint8Array[]): Uint8Array {
  let n = 0;
  for (const p of parts) n += p.length;
  const out = new Uint8Array(n);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

export function be16(v: number): Uint8Array {
  return new Uint8Array([(v >> 8) & 0xff, v & 0xff]);
}

export function be32(v: number): Uint8Array {
  return new Uint8Array([(v >>> 24) & 0xff, (v >>> 16) & 0xff, (v >>> 8) & 0xff, v & 0xff]);
}

const MACS = hex('02 00 00 00 00 02  02 00 00 00 00 01');

/** Ethernet header, optional VLAN tags given as [tpid, vid] pairs (outermost first). */
export function eth(etherType: number, payload: Uint8Array, tags: Array<[number, number]> = []): Uint8Array {
  const parts: Uint8Array[] = [MACS];
  for (const [tpid, vid] of tags) parts.push(be16(tpid), be16(vid));
  parts.push(be16(etherType), payload);
  return cat(...parts);
}

export interface V4 {
  proto: number;
  payload: Uint8Array;
  total?: number;
  options?: Uint8Array;
  id?: number;
  df?: boolean;
  mf?: boolean;
  fragOffset?: number;
  version?: number;
  ihl?: number;
}

export function ipv4(o: V4): Uint8Array {
  const opts = o.options ?? new Uint8Array(0);
  const ihl = o.ihl ?? 5 + opts.length / 4;
  const total = o.total ?? 20 + opts.length + o.payload.length;
  const flags = (o.df ? 0x4000 : 0) | (o.mf ? 0x2000 : 0) | ((o.fragOffset ?? 0) / 8);
  const h = cat(
    new Uint8Array([((o.version ?? 4) << 4) | ihl, 0]),
    be16(total),
    be16(o.id ?? 0x1234),
    be16(flags),
    new Uint8Array([64, o.proto]),
    be16(0xbeef),
    hex('0a 00 00 01 0a 00 00 02'),
    opts,
  );
  return cat(h, o.payload);
}

/** IPv6 with a chain of extension headers given as [type, body] (body without next-header byte). */
export function ipv6(nh: number, payload: Uint8Array, plen?: number): Uint8Array {
  return cat(
    hex('60 00 00 00'),
    be16(plen ?? payload.length),
    new Uint8Array([nh, 64]),
    hex('fd00 0000 0000 0000 0000 0000 0000 0001 fd00 0000 0000 0000 0000 0000 0000 0002'),
    payload,
  );
}

export function udp(sport: number, dport: number, payload: Uint8Array, len?: number): Uint8Array {
  return cat(be16(sport), be16(dport), be16(len ?? 8 + payload.length), be16(0x1111), payload);
}

export function tcp(
  sport: number,
  dport: number,
  options: Uint8Array,
  payload: Uint8Array,
  doff?: number,
): Uint8Array {
  const d = doff ?? 5 + options.length / 4;
  return cat(
    be16(sport),
    be16(dport),
    be32(1000),
    be32(2000),
    new Uint8Array([d << 4, 0x18]),
    be16(501),
    be16(0x2222),
    be16(0),
    options,
    payload,
  );
}

export function vxlan(vni: number, inner: Uint8Array, flags = 0x08): Uint8Array {
  return cat(new Uint8Array([flags, 0, 0, 0]), be32(vni << 8), inner);
}

export function geneve(vni: number, protocol: number, options: Uint8Array, inner: Uint8Array): Uint8Array {
  return cat(new Uint8Array([options.length / 4, 0]), be16(protocol), be32(vni << 8), options, inner);
}

export function gre(
  protocol: number,
  inner: Uint8Array,
  o: { key?: number; csum?: boolean; seq?: number } = {},
) {
  let flags = 0;
  const parts: Uint8Array[] = [];
  if (o.csum) {
    flags |= 0x8000;
    parts.push(be32(0));
  }
  if (o.key !== undefined) {
    flags |= 0x2000;
    parts.push(be32(o.key));
  }
  if (o.seq !== undefined) {
    flags |= 0x1000;
    parts.push(be32(o.seq));
  }
  return cat(be16(flags), be16(protocol), ...parts, inner);
}

export { prng as rng } from '../helpers/prng.js';

import { decodeFrame } from '../../src/decode/decode.js';
import { createPacket, type Level, type Packet } from '../../src/decode/packet.js';

const shared = createPacket();

/**
 * Decodes `frame` as captured with the given snap length (default: all of it) and returns the
 * shared Packet. originalLength is the full frame length unless given.
 */
export function run(linkType: number, frame: Uint8Array, o: { snap?: number; orig?: number } = {}): Packet {
  const cap = Math.min(o.snap ?? frame.length, frame.length);
  decodeFrame(linkType, frame.subarray(0, cap), cap, o.orig ?? frame.length, shared);
  return shared;
}

export function lvl(p: Packet, i: number): Level {
  const l = p.levels[i];
  if (l === undefined) throw new Error(`no level ${i}`);
  return l;
}
