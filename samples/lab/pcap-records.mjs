// What the re-encapsulation scripts (reencap-geneve.mjs, reencap-ipip.mjs) share: reading a lab
// capture (little-endian microsecond pcap, as tcpdump writes it here) record by record, and the
// checksum of an IPv4 header they rewrote.
import { readFileSync } from 'node:fs';

/** The capture at `path`; exits 1 saying why when it is not the pcap the lab records. */
export function readLabPcap(path) {
  const input = readFileSync(path);
  if (input.length < 24 || input.readUInt32LE(0) !== 0xa1b2c3d4) {
    console.error(`${path}: not a little-endian microsecond pcap as tcpdump writes it here`);
    process.exit(1);
  }
  return input;
}

/**
 * The records of a capture from readLabPcap, in order: `header` (its 16 bytes), `sec`, `usec`,
 * `orig` (the length on the wire) and `frame` (the captured bytes); all views into `input`.
 */
export function* pcapRecords(input) {
  for (let pos = 24; pos + 16 <= input.length; ) {
    const incl = input.readUInt32LE(pos + 8);
    yield {
      header: input.subarray(pos, pos + 16),
      sec: input.readUInt32LE(pos),
      usec: input.readUInt32LE(pos + 4),
      orig: input.readUInt32LE(pos + 12),
      frame: input.subarray(pos + 16, pos + 16 + incl),
    };
    pos += 16 + incl;
  }
}

/** The checksum of the IPv4 header buf[off, off + len), its own field (bytes 10 and 11) left out. */
export function ipv4HeaderChecksum(buf, off, len) {
  let sum = 0;
  for (let i = 0; i < len; i += 2) if (i !== 10) sum += buf.readUInt16BE(off + i);
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return ~sum & 0xffff;
}
