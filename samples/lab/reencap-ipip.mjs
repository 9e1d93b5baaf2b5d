#!/usr/bin/env node
// Re-encapsulate a lab capture's VXLAN packets as IP-in-IP, for kernels without an ipip driver.
//
//   node reencap-ipip.mjs IN.pcap OUT.pcap [UNTIL]
//
// Every IPv4 UDP packet to port 4789 (VXLAN over an IPv4 underlay) loses its UDP header, VXLAN
// header and inner Ethernet header (8 + 8 + 14 = 30 bytes): the outer IPv4 header then carries the
// inner IPv4 packet directly, protocol 4 (IPv4 in IPv4: Linux ipip, Calico's IPIP mode). Outer
// total length and header checksum are rewritten; ID, flags, TTL, addresses and timestamps stay.
// VXLAN packets whose inner frame is not IPv4 (ARP, IPv6 neighbour discovery and MLD of the
// guests' link-local addresses) are dropped: a layer-3 IPv4 tunnel does not carry them.
//
// Fragmented outer packets (the underlay fragmented them): the fragments of one datagram are
// gathered, the datagram re-encapsulated, and cut again as the underlay cut it: the same data
// bytes per fragment as the original first fragment (its MTU, a multiple of 8), one output
// fragment per original fragment time. A fragment's captured bytes are those the recording holds
// (at most the snap length); where the recording's snap length cut bytes the new fragment needs,
// the new fragment is captured shorter (incl_len < snap length, orig_len the full length).
//
// Frames that are not VXLAN over IPv4 pass unchanged. UNTIL (seconds since the epoch, optional)
// drops every frame captured after it, to keep a sample small.
import { writeFileSync } from 'node:fs';
import { ipv4HeaderChecksum, pcapRecords, readLabPcap } from './pcap-records.mjs';

const [inPath, outPath, untilArg] = process.argv.slice(2);
if (!inPath || !outPath) {
  console.error('usage: reencap-ipip.mjs IN.pcap OUT.pcap [UNTIL]');
  process.exit(2);
}
const until = untilArg === undefined ? Number.POSITIVE_INFINITY : Number(untilArg);
const input = readLabPcap(inPath);
const snaplen = input.readUInt32LE(16);
const linkType = input.readUInt32LE(20);
if (linkType !== 1) {
  console.error(`${inPath}: link type ${linkType}, expected Ethernet (1)`);
  process.exit(1);
}
const STRIP = 8 + 8 + 14; // UDP + VXLAN + inner Ethernet
const ETH = 14;

/** Output records in capture order: { sec, usec, frame (captured bytes), orig }. */
const records = [];
/** Fragments being gathered, by "src dst id". */
const pending = new Map();
let converted = 0;
let dropped = 0;
const DROP = 'drop';
let fragmented = 0;

for (const { sec, usec, orig, frame } of pcapRecords(input)) {
  if (sec + usec / 1e6 > until) break;
  const record = { sec, usec, frame, orig };
  records.push(record);
  if (frame.length < ETH + 20 || frame.readUInt16BE(12) !== 0x0800 || frame[ETH + 9] !== 17) continue;
  const ihl = (frame[ETH] & 0x0f) * 4;
  const fragField = frame.readUInt16BE(ETH + 6);
  const offset = (fragField & 0x1fff) * 8;
  const more = (fragField & 0x2000) !== 0;
  if (offset === 0 && !more) {
    const out = toIpip(frame, ihl, orig);
    if (out === DROP) {
      record.frame = null;
      dropped++;
    } else if (out) {
      record.frame = out.frame;
      record.orig = out.orig;
      converted++;
    }
    continue;
  }
  // A fragment: gather the datagram's pieces (record order kept; rewritten when complete).
  const key = `${frame.subarray(ETH + 12, ETH + 20).toString('hex')} ${frame.readUInt16BE(ETH + 4)}`;
  let d = pending.get(key);
  if (!d) {
    d = { pieces: [], total: -1 };
    pending.set(key, d);
  }
  d.pieces.push({ record, offset, ihl, length: frame.readUInt16BE(ETH + 2) - ihl, more });
  if (!more) d.total = offset + frame.readUInt16BE(ETH + 2) - ihl;
  if (d.total >= 0 && d.pieces.reduce((n, p) => n + p.length, 0) === d.total) {
    pending.delete(key);
    if (refragment(d)) fragmented++;
  }
}

/** IPv4 UDP/4789 VXLAN packet (unfragmented) -> IP-in-IP; null when it is not one, DROP when not IPv4 inside. */
function toIpip(frame, ihl, orig) {
  const udp = ETH + ihl;
  if (frame.length < udp + 16 + ETH || frame.readUInt16BE(udp + 2) !== 4789) return null;
  if (frame.readUInt16BE(udp + 16 + 12) !== 0x0800) return DROP;
  const head = Buffer.from(frame.subarray(0, udp));
  head[ETH + 9] = 4;
  head.writeUInt16BE(head.readUInt16BE(ETH + 2) - STRIP, ETH + 2);
  head.writeUInt16BE(ipv4HeaderChecksum(head, ETH, ihl), ETH + 10);
  return { frame: Buffer.concat([head, frame.subarray(udp + STRIP)]), orig: orig - STRIP };
}

/** Rewrites the gathered fragments of one VXLAN datagram as fragments of its IP-in-IP form. */
function refragment(d) {
  d.pieces.sort((a, b) => a.offset - b.offset);
  const first = d.pieces[0];
  if (first.offset !== 0) return false;
  const f0 = first.record.frame;
  const ihl = first.ihl;
  const udp = ETH + ihl;
  if (f0.length < udp + 16 + ETH || f0.readUInt16BE(udp + 2) !== 4789) return false;
  if (f0.readUInt16BE(udp + 16 + 12) !== 0x0800) return false;
  // The old payload as far as the recording holds it: known[x] says whether byte x was captured.
  const payload = Buffer.alloc(d.total);
  const known = new Uint8Array(d.total);
  for (const p of d.pieces) {
    const have = Math.max(0, Math.min(p.length, p.record.frame.length - ETH - p.ihl));
    p.record.frame.copy(payload, p.offset, ETH + p.ihl, ETH + p.ihl + have);
    known.fill(1, p.offset, p.offset + have);
  }
  const newPayload = payload.subarray(STRIP);
  const newKnown = known.subarray(STRIP);
  const step = first.length; // data bytes per fragment, as the underlay cut them
  const byTime = [...d.pieces].sort((a, b) => a.record.sec - b.record.sec || a.record.usec - b.record.usec);
  const count = Math.ceil(newPayload.length / step);
  const outRecords = byTime.map((p) => p.record);
  for (let i = 0; i < outRecords.length; i++) {
    const record = outRecords[i];
    if (i >= count) {
      record.frame = null; // fewer fragments than before: this one is gone
      continue;
    }
    const s = i * step;
    const e = Math.min(newPayload.length, s + step);
    const hdrLen = i === 0 ? ihl : 20; // options only in the first fragment
    const head = Buffer.from(f0.subarray(0, ETH + hdrLen));
    head[ETH] = 0x40 | (hdrLen / 4);
    head[ETH + 9] = 4;
    head.writeUInt16BE(hdrLen + e - s, ETH + 2);
    const flags = f0.readUInt16BE(ETH + 6) & 0x4000; // keep DF (clear, or it would not fragment)
    head.writeUInt16BE(flags | (e < newPayload.length ? 0x2000 : 0) | (s / 8), ETH + 6);
    head.writeUInt16BE(ipv4HeaderChecksum(head, ETH, hdrLen), ETH + 10);
    let have = 0;
    while (s + have < e && newKnown[s + have] === 1) have++;
    const wire = ETH + hdrLen + e - s;
    const kept = Math.min(snaplen, ETH + hdrLen + have, wire);
    record.frame = Buffer.concat([head, newPayload.subarray(s, e)]).subarray(0, kept);
    record.orig = wire;
  }
  return true;
}

const out = [input.subarray(0, 24)];
let written = 0;
for (const r of records) {
  if (r.frame === null) continue;
  const header = Buffer.alloc(16);
  header.writeUInt32LE(r.sec, 0);
  header.writeUInt32LE(r.usec, 4);
  header.writeUInt32LE(r.frame.length, 8);
  header.writeUInt32LE(r.orig, 12);
  out.push(header, r.frame);
  written++;
}
writeFileSync(outPath, Buffer.concat(out));
console.error(
  `reencap-ipip: ${converted} VXLAN packets and ${fragmented} fragmented ones re-encapsulated as IP-in-IP, ` +
    `${dropped} without IPv4 inside dropped; ` +
    `${written} frames in ${outPath}` +
    (pending.size > 0 ? ` (${pending.size} incomplete fragmented datagrams left as they were)` : ''),
);
