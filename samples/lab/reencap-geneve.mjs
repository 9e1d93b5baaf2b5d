#!/usr/bin/env node
// Re-encapsulate a lab capture's VXLAN packets as Geneve, for kernels without a geneve driver.
//
//   node reencap-geneve.mjs IN.pcap OUT.pcap VNI
//
// Every unfragmented IPv4 or IPv6 UDP packet to port 4789 gets its 8-byte VXLAN header replaced
// by a Geneve header (UDP 6081, protocol 0x6558) carrying one 8-byte experimental option
// (class 0xffff, type 0x01), so the outer packet grows by 8 bytes: outer IP length, UDP length
// and the IPv4 header checksum are rewritten. The outer UDP checksum is set to 0 (no checksum;
// RFC 8926 3.3 allows it over IPv4, and over IPv6 with zero-checksum mode), because the snap
// length cut the payload it would cover. The captured length stays at most the snap length, as
// tcpdump would have cut it. topology.json of such a recording says all this.
import { writeFileSync } from 'node:fs';
import { ipv4HeaderChecksum, pcapRecords, readLabPcap } from './pcap-records.mjs';

const [inPath, outPath, vniArg] = process.argv.slice(2);
if (!inPath || !outPath) {
  console.error('usage: reencap-geneve.mjs IN.pcap OUT.pcap [VNI]');
  process.exit(2);
}
const vni = Number(vniArg ?? 97);
const input = readLabPcap(inPath);
const snaplen = input.readUInt32LE(16);
const OPTION_BYTES = 8;
const out = [input.subarray(0, 24)];
let converted = 0;

for (const record of pcapRecords(input)) {
  const { orig, frame } = record;
  const header = Buffer.from(record.header);
  const rewritten = toGeneve(frame);
  if (!rewritten) {
    out.push(header, frame);
    continue;
  }
  converted++;
  const kept = rewritten.subarray(0, Math.min(rewritten.length, snaplen));
  header.writeUInt32LE(kept.length, 8);
  header.writeUInt32LE(orig + OPTION_BYTES, 12);
  out.push(header, kept);
}
writeFileSync(outPath, Buffer.concat(out));
console.error(`reencap-geneve: ${converted} VXLAN packets re-encapsulated as Geneve in ${outPath}`);

function toGeneve(frame) {
  if (frame.length < 14) return null;
  const ethertype = frame.readUInt16BE(12);
  let ipLen;
  let udpOff;
  if (ethertype === 0x0800) {
    const ihl = (frame[14] & 0x0f) * 4;
    const fragField = frame.readUInt16BE(14 + 6);
    if (frame[14 + 9] !== 17 || (fragField & 0x3fff) !== 0) return null;
    ipLen = 14 + ihl;
    udpOff = ipLen;
  } else if (ethertype === 0x86dd) {
    if (frame[14 + 6] !== 17) return null;
    udpOff = 14 + 40;
  } else return null;
  if (frame.length < udpOff + 16 || frame.readUInt16BE(udpOff + 2) !== 4789) return null;
  const inner = frame.subarray(udpOff + 16);
  const geneve = Buffer.alloc(8 + OPTION_BYTES);
  geneve[0] = OPTION_BYTES / 4; // version 0, option length in 4-byte words
  geneve.writeUInt16BE(0x6558, 2); // transparent Ethernet bridging
  geneve.writeUIntBE(vni, 4, 3);
  geneve.writeUInt16BE(0xffff, 8); // option class: experimental
  geneve[10] = 0x01; // option type
  geneve[11] = 1; // option data length in 4-byte words
  geneve.writeUInt32BE(0x686f7073, 12); // "hops"
  const head = Buffer.from(frame.subarray(0, udpOff + 8));
  head.writeUInt16BE(6081, udpOff + 2);
  head.writeUInt16BE(head.readUInt16BE(udpOff + 4) + OPTION_BYTES, udpOff + 4);
  head.writeUInt16BE(0, udpOff + 6);
  if (ethertype === 0x0800) {
    head.writeUInt16BE(head.readUInt16BE(16) + OPTION_BYTES, 16);
    head.writeUInt16BE(ipv4HeaderChecksum(head, 14, ipLen - 14), 24);
  } else {
    head.writeUInt16BE(head.readUInt16BE(18) + OPTION_BYTES, 18);
  }
  return Buffer.concat([head, geneve, inner]);
}
