// A plain reader of lab captures for the recording tests: just enough decoding (Ethernet, VLAN,
// IPv4/IPv6, UDP, VXLAN/Geneve, TCP, ICMP) to state each scenario's signature. Deliberately
// independent of the analyzer, so a broken recording and a broken analyzer are caught apart.
import { readFileSync } from 'node:fs';
import { parsePcap } from './parse-pcap.js';

export interface CaptureSummary {
  frames: number;
  /** TCP payload lengths of data segments (innermost TCP), sent to the iperf3 port. */
  dataPayloads: number[];
  /** MSS announced in the data connection's SYN, when seen. */
  synMss: number | null;
  /** TCP option bytes of the data segments (to turn MSS into a segment size). */
  dataOptionBytes: number | null;
  /** Outer IPv4 fragments: [total length, offset in bytes, more-fragments]. */
  fragments: Array<[number, number, boolean]>;
  /** MTUs announced in ICMP fragmentation-needed / ICMPv6 packet-too-big messages. */
  fragNeededMtus: number[];
  /** UDP destination ports of tunnel packets seen (4789 VXLAN, 6081 Geneve). */
  tunnelPorts: Set<number>;
  /** Outer IP versions of tunnel packets. */
  tunnelIpVersions: Set<number>;
}

const IPERF_PORT = 5201;

export function summarizeCapture(path: string): CaptureSummary {
  const file = parsePcap(readFileSync(path), path);
  const s: CaptureSummary = {
    frames: file.records.length,
    dataPayloads: [],
    synMss: null,
    dataOptionBytes: null,
    fragments: [],
    fragNeededMtus: [],
    tunnelPorts: new Set(),
    tunnelIpVersions: new Set(),
  };
  for (const r of file.records) ethernet(r.data, 0, s, 0);
  return s;
}

function u16(d: Uint8Array, o: number): number {
  return ((d[o] ?? 0) << 8) | (d[o + 1] ?? 0);
}

function ethernet(d: Uint8Array, o: number, s: CaptureSummary, depth: number): void {
  if (d.length < o + 14) return;
  let type = u16(d, o + 12);
  let p = o + 14;
  while ((type === 0x8100 || type === 0x88a8) && d.length >= p + 4) {
    type = u16(d, p + 2);
    p += 4;
  }
  if (type === 0x0800) ipv4(d, p, s, depth);
  else if (type === 0x86dd) ipv6(d, p, s, depth);
}

function ipv4(d: Uint8Array, o: number, s: CaptureSummary, depth: number): void {
  if (d.length < o + 20) return;
  const ihl = ((d[o] ?? 0) & 0x0f) * 4;
  const total = u16(d, o + 2);
  const frag = u16(d, o + 6);
  const offset = (frag & 0x1fff) * 8;
  const more = (frag & 0x2000) !== 0;
  const proto = d[o + 9] ?? 0;
  if (offset !== 0 || more) {
    s.fragments.push([total, offset, more]);
    if (offset !== 0) return;
  }
  l4(d, o + ihl, proto, total - ihl, 4, s, depth);
}

function ipv6(d: Uint8Array, o: number, s: CaptureSummary, depth: number): void {
  if (d.length < o + 40) return;
  l4(d, o + 40, d[o + 6] ?? 0, u16(d, o + 4), 6, s, depth);
}

function l4(
  d: Uint8Array,
  o: number,
  proto: number,
  len: number,
  ipv: number,
  s: CaptureSummary,
  depth: number,
) {
  if (proto === 6 && d.length >= o + 20) {
    const dport = u16(d, o + 2);
    const hl = ((d[o + 12] ?? 0) >> 4) * 4;
    const flags = d[o + 13] ?? 0;
    if (dport !== IPERF_PORT) return;
    if (flags & 0x02) {
      for (let p = o + 20; p < o + hl && p < d.length; ) {
        const kind = d[p] ?? 0;
        if (kind === 0) break;
        if (kind === 1) {
          p++;
          continue;
        }
        if (kind === 2) s.synMss = u16(d, p + 2);
        p += Math.max(2, d[p + 1] ?? 2);
      }
    }
    const payload = len - hl;
    if (payload > 0) {
      s.dataPayloads.push(payload);
      s.dataOptionBytes = hl - 20;
    }
  } else if (proto === 17 && d.length >= o + 8) {
    const dport = u16(d, o + 2);
    if ((dport === 4789 || dport === 8472) && depth === 0) {
      s.tunnelPorts.add(dport);
      s.tunnelIpVersions.add(ipv);
      ethernet(d, o + 16, s, depth + 1);
    } else if (dport === 6081 && depth === 0) {
      s.tunnelPorts.add(dport);
      s.tunnelIpVersions.add(ipv);
      const optLen = ((d[o + 8] ?? 0) & 0x3f) * 4;
      ethernet(d, o + 16 + optLen, s, depth + 1);
    }
  } else if (proto === 1 && d.length >= o + 8) {
    if (d[o] === 3 && d[o + 1] === 4) s.fragNeededMtus.push(u16(d, o + 6));
  } else if (proto === 58 && d.length >= o + 8) {
    if (d[o] === 2) s.fragNeededMtus.push(u16(d, o + 4) * 65536 + u16(d, o + 6));
  }
}

export const max = (xs: number[]): number => xs.reduce((a, b) => Math.max(a, b), 0);

/** Most frequent value. */
export function mode(xs: number[]): number {
  const counts = new Map<number, number>();
  for (const x of xs) counts.set(x, (counts.get(x) ?? 0) + 1);
  let best = 0;
  let bestCount = 0;
  for (const [v, c] of counts) if (c > bestCount) [best, bestCount] = [v, c];
  return best;
}
