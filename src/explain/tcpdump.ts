/**
 * tcpdump's text, as printed by 4.x in its usual forms: default, -v/-vv (the IP header in
 * parentheses, the transport on the next line), -n/-nn, -e (link header), -t..-ttttt, -# (packet
 * numbers), -q, -i any (interface and In/Out), and tunnels (VXLAN, Geneve, IPIP: the inner packet
 * on a line of its own). A record is a packet's lines: it starts at a timestamp (or, with -t, at a
 * line that is not the inner packet of a tunnel) and takes every line up to the next start.
 *
 * Pure functions of the text; nothing here throws on what it reads: a line it cannot place is a
 * record of its own with no layers, and the explainer passes it through.
 */

import { emptyLayer, PROTO, type TextLayer, type TextRecord, tcpHeaderFromOptions } from './record.js';

/** A record's start: optional -# number, then a timestamp (-tttt date, epoch -tt, or clock). */
const TIMESTAMP = /^\s*(?:(\d+)\s+)?(?:\d{4}-\d\d-\d\d[ T])?(?:\d{1,2}:\d\d:\d\d\.\d+|\d{9,10}\.\d+)(?=\s)/;

/** -i any: interface and direction after the timestamp. */
const ANY_DIRECTION = /^\s+(\S+)\s+(In|Out|M|B|P)\s+/;

/** Where an IP layer starts: tcpdump's IP / IP6 keyword, or -e's ethertype. */
const LAYER_START =
  /\bIP6?\s+(?=\(|truncated-ip|[0-9a-fA-F:.]+(?:\.\d+)? > |\S+ > )|ethertype IPv[46] \(0x[0-9a-f]{4}\), length \d+: /g;

export interface LineStart {
  /** The line starts a record (a timestamp, or a packet line without one). */
  starts: boolean;
  /** The -# packet number printed before the timestamp. */
  number: number | null;
  timestamped: boolean;
}

/** Does this line start a tcpdump record? */
export function tcpdumpLineStart(line: string): LineStart {
  const m = TIMESTAMP.exec(line);
  if (m) return { starts: true, number: m[1] !== undefined ? Number(m[1]) : null, timestamped: true };
  // -t: a packet line begins at column 0 with IP/IP6, a MAC address (-e), or interface + In/Out.
  const starts =
    /^(?:IP6? |[0-9a-f]{2}(?::[0-9a-f]{2}){5} > |\S+\s+(?:In|Out)\s+(?:IP6? |ethertype|ifindex))/.test(line);
  return { starts, number: null, timestamped: false };
}

/** Does the text of a tcpdump record so far end with a tunnel header whose inner packet comes next? */
export function expectsInner(text: string): boolean {
  return /(?:VXLAN(?:-GPE)?, flags \[[^\]]*\][^\n]*vni \d+|Geneve, [^\n]*|: IP6? )\s*$/.test(text);
}

/**
 * Spaces as tcpdump prints them: text pasted from web pages and tickets often carries no-break or
 * other Unicode spaces where tcpdump wrote plain ones (the seed articles do).
 */
export function normalizeSpaces(line: string): string {
  return line.replace(/[\u00a0\u1680\u2000-\u200b\u202f\u205f\u3000\ufeff]/g, ' ');
}

/** Parses one tcpdump record (its lines) into the facts it prints. */
export function parseTcpdump(lines: readonly string[], frame: number): TextRecord {
  const text = lines.map((l) => normalizeSpaces(l).trim()).join(' ');
  const record: TextRecord = {
    dialect: 'tcpdump',
    frame,
    lines: [...lines],
    iface: null,
    direction: null,
    verbose: false,
    quiet: false,
    named: false,
    layers: [],
    tshark: null,
  };
  const first = normalizeSpaces(lines[0] ?? '');
  const ts = TIMESTAMP.exec(first);
  if (ts) {
    const rest = first.slice(ts[0].length);
    const any = ANY_DIRECTION.exec(rest);
    if (any) {
      record.iface = any[1] as string;
      record.direction = any[2] === 'In' ? 'in' : any[2] === 'Out' ? 'out' : null;
    }
  } else {
    const any = /^(\S+)\s+(In|Out)\s+/.exec(first);
    if (any) {
      record.iface = any[1] as string;
      record.direction = any[2] === 'In' ? 'in' : 'out';
    }
  }
  const starts: Array<{ index: number; end: number; version: 4 | 6 }> = [];
  LAYER_START.lastIndex = 0;
  for (let m = LAYER_START.exec(text); m !== null; m = LAYER_START.exec(text)) {
    const word = m[0];
    const version = word.startsWith('IP6') || word.includes('IPv6') ? 6 : 4;
    starts.push({ index: m.index, end: m.index + word.length, version });
  }
  if (starts.length === 0) {
    // A transport line pasted without its IP line (tcpdump -v's second line): one layer.
    const body = text.replace(TIMESTAMP, '').trimStart();
    const ports = PORTS.exec(body);
    if (ports) {
      const layer = parseLayer(body, (ports[1] as string).includes(':') ? 6 : 4, record);
      layer.ipHeaderLength = null;
      record.layers.push(layer);
    }
    return record;
  }
  let quoted = false;
  for (let i = 0; i < starts.length; i++) {
    const s = starts[i] as (typeof starts)[number];
    const end = i + 1 < starts.length ? (starts[i + 1] as (typeof starts)[number]).index : text.length;
    const layer = parseLayer(text.slice(s.end, end), s.version, record);
    // Every layer after an ICMP error is the packet it quotes, not one of its own.
    layer.quote = quoted;
    record.layers.push(layer);
    if (
      layer.icmpTooBig !== null ||
      /\bICMP6?\b.*\b(?:unreachable|time exceeded|packet too big)/i.test(text.slice(s.end, end))
    )
      quoted = true;
  }
  return record;
}

/** A balanced "( ... )" at the start of `s` (nested parentheses allowed), or null. */
function parenthesised(s: string): { inside: string; rest: string } | null {
  if (!s.startsWith('(')) return null;
  let depth = 0;
  for (let i = 0; i < s.length; i++) {
    if (s[i] === '(') depth++;
    else if (s[i] === ')') {
      depth--;
      if (depth === 0) return { inside: s.slice(1, i), rest: s.slice(i + 1).trimStart() };
    }
  }
  return null;
}

const V4 = String.raw`\d{1,3}(?:\.\d{1,3}){3}`;
const V6 = String.raw`[0-9a-fA-F]*:[0-9a-fA-F:.]*(?:%[\w.-]+)?`;
const PORTS = new RegExp(String.raw`^(${V4}|${V6})\.(\d+) > (${V4}|${V6})\.(\d+): `);
const NO_PORTS = new RegExp(`^(${V4}|${V6}) > (${V4}|${V6}): `);
const NAMED = /^(\S+) > (\S+): /;

function parseLayer(body: string, version: 4 | 6, record: TextRecord): TextLayer {
  const layer = emptyLayer();
  layer.ipVersion = version;
  let s = body;
  const missing = /^truncated-ip - (\d+) bytes missing! /.exec(s);
  if (missing) {
    layer.missing = Number(missing[1]);
    s = s.slice(missing[0].length);
  }
  const header = parenthesised(s);
  if (header !== null) {
    record.verbose = true;
    readHeader(header.inside, version, layer);
    s = header.rest;
  } else if (version === 4) {
    layer.ipHeaderLength = 20;
  } else {
    layer.ipHeaderLength = 40;
  }
  const ports = PORTS.exec(s);
  if (ports) {
    layer.src = ports[1] as string;
    layer.srcPort = Number(ports[2]);
    layer.dst = ports[3] as string;
    layer.dstPort = Number(ports[4]);
    s = s.slice(ports[0].length);
  } else {
    const plain = NO_PORTS.exec(s);
    if (plain) {
      layer.src = plain[1] as string;
      layer.dst = plain[2] as string;
      s = s.slice(plain[0].length);
    } else {
      const named = NAMED.exec(s);
      if (named) {
        record.named = true;
        s = s.slice(named[0].length);
      }
    }
  }
  readTransport(s, layer, record);
  return layer;
}

/** The -v header: "tos 0x0, ttl 64, id 1, offset 0, flags [DF], proto TCP (6), length 1500" or IPv6's. */
function readHeader(inside: string, version: 4 | 6, layer: TextLayer): void {
  if (version === 4) {
    const offset = /\boffset (\d+)/.exec(inside);
    if (offset) layer.fragmentOffset = Number(offset[1]);
    const flags = /\bflags \[([^\]]*)\]/.exec(inside);
    layer.moreFragments = flags !== null && (flags[1] as string).includes('+');
    const proto = /\bproto \S+ \((\d+)\)/.exec(inside);
    if (proto) layer.protocol = Number(proto[1]);
    const length = /\blength (\d+)/.exec(inside);
    if (length) layer.ipLength = Number(length[1]);
    layer.ipHeaderLength = /\boptions \(/.test(inside) ? null : 20;
    const bad = /\bbad cksum ([0-9a-f]{1,4}) \(->([0-9a-f]{1,4})\)!/.exec(inside);
    if (bad)
      layer.ipChecksum = {
        stored: Number.parseInt(bad[1] as string, 16),
        correct: Number.parseInt(bad[2] as string, 16),
      };
  } else {
    const next = /\bnext-header \S+ \((\d+)\)/.exec(inside);
    if (next) layer.protocol = Number(next[1]);
    const length = /\bpayload length: (\d+)/.exec(inside);
    if (length) layer.ipLength = Number(length[1]);
    layer.ipHeaderLength = 40;
  }
}

/** The transport's text after "src > dst: ". */
function readTransport(s: string, layer: TextLayer, record: TextRecord): void {
  const tcpSum = /^Flags \[[^\]]*\], cksum (0x[0-9a-f]{4}) \((correct|incorrect -> (0x[0-9a-f]{4}))\)/.exec(
    s,
  );
  if (/^Flags \[/.test(s)) {
    layer.transport = 'tcp';
    layer.protocol ??= PROTO.TCP;
    const flags = /^Flags \[([^\]]*)\]/.exec(s);
    layer.syn = flags !== null && (flags[1] as string).includes('S');
    if (tcpSum) {
      layer.checksum = {
        stored: Number.parseInt(tcpSum[1] as string, 16),
        correct: tcpSum[3] !== undefined ? Number.parseInt(tcpSum[3], 16) : null,
      };
    }
    const options = /, options \[([^\]]*)\]/.exec(s);
    layer.tcpHeaderLength = tcpHeaderFromOptions(options ? (options[1] as string) : null);
    const mss = options ? /\bmss (\d+)/.exec(options[1] as string) : null;
    if (mss) layer.mss = Number(mss[1]);
    const length = /, length (\d+)/.exec(s);
    // Without its length the line was cut: the options may be cut too.
    if (length) layer.payload = Number(length[1]);
    else layer.tcpHeaderLength = null;
    return;
  }
  const quiet = /^(tcp|UDP,?) (?:length )?(\d+)\b/.exec(s);
  if (quiet && quiet[1] === 'tcp') {
    record.quiet = true;
    layer.transport = 'tcp';
    layer.protocol ??= PROTO.TCP;
    layer.payload = Number(quiet[2]);
    return;
  }
  const udpSum =
    /^\[(?:bad udp cksum (0x[0-9a-f]{1,4}) -> (0x[0-9a-f]{1,4})!|(udp sum ok)|(no cksum))\] /.exec(s);
  let rest = s;
  if (udpSum) {
    layer.transport = 'udp';
    if (udpSum[1] !== undefined)
      layer.checksum = {
        stored: Number.parseInt(udpSum[1], 16),
        correct: Number.parseInt(udpSum[2] as string, 16),
      };
    // "udp sum ok" does not print the value: correct, whatever it is.
    else if (udpSum[3] !== undefined) layer.checksum = { stored: -1, correct: null };
    rest = s.slice(udpSum[0].length);
  }
  if (/^VXLAN-GPE\b/.test(rest)) layer.tunnel = 'vxlan-gpe';
  else if (/^VXLAN\b/.test(rest)) layer.tunnel = 'vxlan';
  else if (/^Geneve\b/.test(rest)) {
    layer.tunnel = 'geneve';
    const options = /options \[(.*)\]/.exec(rest);
    if (options)
      for (const m of (options[1] as string).matchAll(/\blen (\d+)/g)) layer.tunnelOptions += Number(m[1]);
  } else if (
    /^IP6? /.test(rest) &&
    (layer.protocol === PROTO.IPIP || layer.protocol === PROTO.IPV6 || layer.protocol === null)
  ) {
    layer.tunnel = 'ipip';
    layer.protocol ??= PROTO.IPIP;
  }
  if (layer.tunnel !== null && layer.tunnel !== 'ipip') {
    layer.transport = 'udp';
    layer.protocol ??= PROTO.UDP;
  }
  const udp = /^UDP, length (\d+)/.exec(rest);
  if (udp) {
    layer.transport = 'udp';
    layer.protocol ??= PROTO.UDP;
    layer.payload = Number(udp[1]);
  }
  if (layer.transport === null && layer.protocol === PROTO.UDP && layer.srcPort !== null)
    layer.transport = 'udp';
  const frag = /^ICMP \S+ unreachable - need to frag(?: \(mtu (\d+)\))?/.exec(rest);
  if (frag) {
    layer.transport = 'icmp';
    layer.icmpTooBig = { mtu: frag[1] !== undefined ? Number(frag[1]) : null };
    // The unreachable address is the quoted packet's destination (tcpdump prints it after ICMP).
    return;
  }
  const tooBig = /\bICMP6, packet too big, mtu (\d+)/.exec(rest);
  if (tooBig) {
    layer.transport = 'icmp6';
    layer.icmpTooBig = { mtu: Number(tooBig[1]) };
    return;
  }
  if (/^ICMP\b/.test(rest)) layer.transport = 'icmp';
  else if (/\bICMP6\b/.test(rest)) layer.transport = 'icmp6';
}

/** The address tcpdump names in "ICMP A unreachable - need to frag": the quoted packet's destination. */
export function unreachableAddress(line: string): string | null {
  const m = /ICMP (\S+) unreachable - need to frag/.exec(line);
  return m ? (m[1] as string) : null;
}
