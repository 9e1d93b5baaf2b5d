/**
 * Wireshark's packet list, as `tshark -r` prints it (`No. Time Source → Destination Protocol
 * Length Info`) or as copied from the GUI (the same columns separated by tabs, or quoted and
 * separated by commas: "Export Packet Dissections > As CSV"). One line is one frame. Only the
 * innermost IP layer is in the list (Source and Destination are the inner packet's on a tunnel).
 */

import { emptyLayer, PROTO, type TextRecord, type TsharkFacts } from './record.js';
import { normalizeSpaces } from './tcpdump.js';

const ADDRESS = String.raw`(?:\d{1,3}(?:\.\d{1,3}){3}|[0-9a-fA-F]*:[0-9a-fA-F:.]*|[0-9a-f]{2}(?::[0-9a-f]{2}){5}|\S+)`;
/** The Time column: seconds (relative, epoch) or a date and clock (tshark -t ad, -t a). */
const TIME = String.raw`(?:\d{4}-\d\d-\d\d\s+)?\d{1,2}:\d\d:\d\d(?:\.\d+)?|-?\d+(?:\.\d+)?`;
/** `tshark -r`: "  12   0.000719  10.97.0.150 → 10.97.0.103  TCP 74 60756 → 5201 [SYN] ..." */
const ARROW = new RegExp(
  String.raw`^\s*(\d+)\s+(?:${TIME})\s+(${ADDRESS})\s+(?:→|->)\s+(${ADDRESS})\s+(\S+)\s+(\d+)\s+(.*)$`,
);
/** An address that cannot be mistaken for other words: IPv4, IPv6 or a MAC. */
const STRICT_ADDRESS = String.raw`(?:\d{1,3}(?:\.\d{1,3}){3}|[0-9a-fA-F]*:[0-9a-fA-F:.]*:[0-9a-fA-F.]*|[0-9a-f]{2}(?::[0-9a-f]{2}){5})`;
/** The GUI's "Copy as Text": the same columns without the arrow. */
const COLUMNS = new RegExp(
  String.raw`^\s*(\d+)\s+(?:${TIME})\s+(${STRICT_ADDRESS})\s+(${STRICT_ADDRESS})\s+([A-Za-z][\w./-]*)\s+(\d+)\s+(.*)$`,
);

export interface TsharkColumns {
  frame: number;
  source: string;
  destination: string;
  protocol: string;
  length: number;
  info: string;
}

/** The columns of a packet-list line, or null when the line is not one. */
export function tsharkColumns(raw: string): TsharkColumns | null {
  const line = normalizeSpaces(raw);
  const m = ARROW.exec(line) ?? COLUMNS.exec(line);
  if (m) {
    return {
      frame: Number(m[1]),
      source: m[2] as string,
      destination: m[3] as string,
      protocol: m[4] as string,
      length: Number(m[5]),
      info: m[6] as string,
    };
  }
  // The GUI's copy: tab-separated, or CSV with every field quoted.
  let cells: string[] | null = null;
  if (line.includes('\t')) cells = line.split('\t').map((c) => c.trim());
  else if (/^"\d+",/.test(line.trim()))
    cells = [...line.trim().matchAll(/"((?:[^"]|"")*)"/g)].map((c) => (c[1] as string).replaceAll('""', '"'));
  if (cells === null || cells.length < 7) return null;
  const [no, time, source, destination, protocol, length, ...info] = cells as [
    string,
    string,
    string,
    string,
    string,
    string,
    ...string[],
  ];
  if (!/^\d+$/.test(no) || !new RegExp(`^(?:${TIME})$`).test(time) || !/^\d+$/.test(length)) return null;
  return { frame: Number(no), source, destination, protocol, length: Number(length), info: info.join(' ') };
}

/** A packet-list line as a record (one IP layer: the innermost). */
export function parseTshark(line: string, columns: TsharkColumns): TextRecord {
  const info = columns.info;
  const layer = emptyLayer();
  const v4 = /^\d{1,3}(?:\.\d{1,3}){3}$/.test(columns.source);
  const v6 = !v4 && /:/.test(columns.source) && !/^[0-9a-f]{2}(?::[0-9a-f]{2}){5}$/.test(columns.source);
  layer.ipVersion = v4 ? 4 : v6 ? 6 : 0;
  if (layer.ipVersion !== 0) {
    layer.src = columns.source;
    layer.dst = columns.destination;
  }
  const facts: TsharkFacts = {
    protocol: columns.protocol,
    frameLength: columns.length,
    info,
    checksumIncorrect: /\[(?:TCP|UDP) CHECKSUM INCORRECT\]|\[Bad checksum\]/i.test(info),
    previousNotCaptured: info.includes('[TCP Previous segment not captured]'),
    fragment: null,
  };
  const fragment = /Fragmented IP protocol \(proto=\S+ (\d+), off=(\d+)/.exec(info);
  if (fragment) {
    facts.fragment = { protocol: Number(fragment[1]), offset: Number(fragment[2]) };
    layer.protocol = Number(fragment[1]);
    layer.fragmentOffset = Number(fragment[2]);
  }
  const ports =
    /(?:^|\]\s)(\d+)\s+(?:→|->|>)\s+(\d+)\s/.exec(info) ??
    /^(?:\[[^\]]*\]\s+)*(\d+)\s+(?:→|->|>)\s+(\d+)\s/.exec(info);
  const len = /\bLen=(\d+)/.exec(info);
  if (columns.protocol === 'TCP' || (ports && /\bSeq=\d+/.test(info))) {
    layer.transport = 'tcp';
    layer.protocol = PROTO.TCP;
    if (len) layer.payload = Number(len[1]);
    layer.syn = /\[SYN[,\]]/.test(info);
    const mss = /\bMSS=(\d+)/.exec(info);
    if (mss) layer.mss = Number(mss[1]);
  } else if (columns.protocol === 'UDP' && len) {
    layer.transport = 'udp';
    layer.protocol = PROTO.UDP;
    layer.payload = Number(len[1]);
  } else if (/Destination unreachable \(Fragmentation needed\)/.test(info)) {
    layer.transport = 'icmp';
    layer.protocol = PROTO.ICMP;
    const mtu = /\bMTU[=: ]+(\d+)/i.exec(info);
    layer.icmpTooBig = { mtu: mtu ? Number(mtu[1]) : null };
  } else if (/Packet Too Big/i.test(info)) {
    layer.transport = 'icmp6';
    layer.protocol = PROTO.ICMPV6;
    const mtu = /\bMTU[=: ]+(\d+)/i.exec(info);
    layer.icmpTooBig = { mtu: mtu ? Number(mtu[1]) : null };
  }
  if (ports) {
    layer.srcPort = Number(ports[1]);
    layer.dstPort = Number(ports[2]);
  }
  return {
    dialect: 'tshark',
    frame: columns.frame,
    lines: [line],
    iface: null,
    direction: null,
    verbose: false,
    quiet: false,
    named: layer.ipVersion === 0 && layer.transport !== null,
    layers: [layer],
    tshark: facts,
  };
}
