/**
 * Verdicts on one packet's text: what its checksums, sizes, fragments and ICMP messages are, proved
 * with the same arithmetic `analyze` uses on the bytes (observe/checksum.ts: the pseudo-header sum,
 * local checksum offload; findings/mtu-advice.ts: the fix numbers) and said in the catalogue's
 * words (findings/catalog.ts LINE_WORDS). A verdict the text cannot prove is not given: the
 * verdict then says what is missing and which flags would print it.
 *
 * The flow state (each side's MSS, from the SYNs seen) is the only memory, bounded by MAX_FLOWS.
 */

import type { Facts, LineCode } from '../findings/catalog.js';
import { mtuAdvice } from '../findings/mtu-advice.js';
import {
  type ChecksumClass,
  fold,
  isPartialSum,
  pseudoHeaderSumV4,
  pseudoHeaderSumV6,
  verifiesWithCompletedInner,
} from '../observe/checksum.js';
import { PROTO, type TextLayer, type TextRecord } from './record.js';

/** What a verdict proves, in the terms analyze uses for the same frame (the property test's). */
export interface Proof {
  /** A checksum's class; 'ipv4' is the IPv4 header's. */
  checksum?: { transport: 'tcp' | 'udp' | 'ipv4'; inner: boolean; cls: ChecksumClass };
  superFrame?: boolean;
  udpSuperFrame?: boolean;
}

export interface Verdict {
  code: LineCode;
  /** Said under the line (false: a verdict kept for counting and comparison, e.g. a correct checksum). */
  notable: boolean;
  proof: Proof;
  facts: Facts;
}

/** Flows whose MSS is remembered; the oldest is forgotten first. */
export const MAX_FLOWS = 65_536;

/** No Ethernet link carries IP packets above this (transport.ts's rule when no MSS is known). */
const LARGEST_JUMBO = 9216;
/** The largest TCP payload of a 1500-byte MTU without options: above it, a segment needs a bigger MTU or offload. */
const MSS_OF_1500 = 1460;
/** Inner Ethernet header inside VXLAN/Geneve. */
const INNER_ETHERNET = 14;

export interface ExplainState {
  /** "endpoint>peer" -> MSS the endpoint announced in its SYN. */
  mss: Map<string, number>;
}

export function createExplainState(): ExplainState {
  return { mss: new Map() };
}

export function classifyRecord(state: ExplainState, record: TextRecord): Verdict[] {
  const verdicts: Verdict[] = [];
  const layers = record.layers;
  for (let i = 0; i < layers.length; i++) {
    const layer = layers[i] as TextLayer;
    if (layer.quote) continue;
    const outer = i > 0 ? (layers[i - 1] as TextLayer) : null;
    const inTunnel = outer !== null && outer.tunnel !== null;
    const inner = record.dialect === 'tcpdump' && i > 0;
    if (layer.ipChecksum !== null) verdicts.push(ipv4Verdict(record, layer, inner));
    if (layer.icmpTooBig !== null) verdicts.push(icmpVerdict(record, layer, layers[i + 1] ?? null));
    if (layer.missing !== null && inTunnel) {
      const v = outerFragmentVerdict(outer as TextLayer, layer);
      if (v !== null) verdicts.push(v);
    } else if (layer.ipVersion === 4 && (layer.fragmentOffset ?? 0) > 0) {
      verdicts.push(laterFragmentVerdict(layer));
    } else if (layer.ipVersion === 4 && layer.moreFragments && !(layers[i + 1]?.missing != null)) {
      verdicts.push(firstFragmentVerdict(layer));
    }
    if (layer.transport === 'tcp') tcpVerdicts(state, record, layer, inner, verdicts);
    else if (layer.transport === 'udp') udpVerdicts(record, layer, layers[i + 1] ?? null, inner, verdicts);
  }
  if (record.tshark?.checksumIncorrect)
    verdicts.push({
      code: 'text.needs-more',
      notable: true,
      proof: {},
      facts: { missing: 'stored-checksum' },
    });
  if (record.tshark?.previousNotCaptured)
    verdicts.push({ code: 'capture.previous-segment', notable: true, proof: {}, facts: {} });
  return verdicts;
}

// ---- IPv4 header ----

/**
 * A wrong IPv4 header checksum (tcpdump prints only wrong ones). Linux computes it in software for
 * every header, its own super-frames (BIG TCP) included: no offload leaves it partial, so it is
 * wrong, or rewritten after capture. Only a header whose total length and checksum are both 0 is
 * a TSO sender's, left to the NIC (analyze's checksum.ipv4-tso, observe/checksum.ts).
 */
function ipv4Verdict(record: TextRecord, layer: TextLayer, inner: boolean): Verdict {
  const printed = layer.ipChecksum as { stored: number; correct: number };
  if (printed.stored === 0 && layer.ipLength === 0)
    return {
      code: 'checksum.ipv4-tso',
      notable: true,
      proof: { checksum: { transport: 'ipv4', inner, cls: 'zero' } },
      facts: { layer: inner ? 'inner IPv4 header' : 'IPv4 header', correct: hex(printed.correct) },
    };
  return {
    code: 'checksum.ipv4-bad',
    notable: true,
    proof: { checksum: { transport: 'ipv4', inner, cls: 'bad' } },
    facts: {
      layer: inner ? 'inner IPv4 header' : 'IPv4 header',
      stored: hex(printed.stored),
      correct: hex(printed.correct),
      src: layer.src,
      dst: layer.dst,
      direction: record.direction,
      iface: record.iface,
    },
  };
}

// ---- TCP ----

function endpoint(address: string | null, port: number | null): string {
  return `${address ?? '?'}.${port ?? '?'}`;
}

function rememberMss(state: ExplainState, key: string, mss: number): void {
  state.mss.delete(key);
  state.mss.set(key, mss);
  if (state.mss.size > MAX_FLOWS) state.mss.delete(state.mss.keys().next().value as string);
}

function tcpVerdicts(
  state: ExplainState,
  record: TextRecord,
  layer: TextLayer,
  inner: boolean,
  out: Verdict[],
): void {
  const from = endpoint(layer.src, layer.srcPort);
  const to = endpoint(layer.dst, layer.dstPort);
  if (layer.syn && layer.mss !== null && layer.mss > 0) rememberMss(state, `${from}>${to}`, layer.mss);
  // As analyze (observe/tcp.ts): the receiver's MSS bounds the sender; else the sender's own.
  const receiverMss = state.mss.get(`${to}>${from}`) ?? -1;
  const senderMss = state.mss.get(`${from}>${to}`) ?? -1;
  const mss = receiverMss > 0 ? receiverMss : senderMss;
  const payload = layer.payload;
  let isSuper: boolean | null = null;
  if (
    payload !== null &&
    payload > 0 &&
    (layer.fragmentOffset ?? 0) === 0 &&
    !layer.moreFragments &&
    layer.missing === null
  ) {
    if (mss > 0) isSuper = payload > mss;
    else {
      const total = ipTotal(layer);
      if (total !== null) isSuper = total > LARGEST_JUMBO;
      else if (payload + 40 > LARGEST_JUMBO) isSuper = true;
    }
    if (isSuper === true) out.push(superVerdict(record, layer, mss, receiverMss > 0 ? 'receiver' : 'sender'));
    else if (isSuper === false)
      out.push({ code: 'segment.super-frame', notable: false, proof: { superFrame: false }, facts: {} });
    // Larger than a 1500-byte link's largest segment, and no MSS to judge by: say what would tell.
    if (isSuper !== true && mss <= 0 && payload > MSS_OF_1500)
      out.push({
        code: 'text.needs-more',
        notable: true,
        proof: {},
        facts: { missing: 'mss', payload, quiet: record.quiet },
      });
  }
  if (layer.checksum === null) return;
  // A segment without payload is never a merged one (analyze counts its checksum as it is).
  checksumVerdict(record, layer, null, inner, payload === 0 ? false : isSuper, out);
}

/** IP packet size: IPv4 total length, IPv6 payload length + 40, or from the TCP text. */
function ipTotal(layer: TextLayer): number | null {
  if (layer.ipLength !== null) return layer.ipVersion === 6 ? layer.ipLength + 40 : layer.ipLength;
  if (layer.payload !== null && layer.tcpHeaderLength !== null && layer.ipHeaderLength !== null)
    return layer.payload + layer.tcpHeaderLength + layer.ipHeaderLength;
  return null;
}

/** The direction of a super-frame as the text shows it (-i any's In/Out, and a tap's name). */
function superDirection(record: TextRecord): string {
  return record.direction === 'out'
    ? 'outgoing'
    : record.direction === 'in'
      ? /^(tap|vnet|macvtap)/.test(record.iface ?? '')
        ? 'incoming-from-guest'
        : 'incoming'
      : 'unknown';
}

function superVerdict(record: TextRecord, layer: TextLayer, mss: number, mssFrom: string): Verdict {
  const payload = layer.payload as number;
  const facts: Facts = { payload, direction: superDirection(record), mss: mss > 0 ? mss : null };
  if (mss > 0) {
    facts.segments = Math.ceil(payload / mss);
    facts.mssFrom = mssFrom === 'receiver' ? 'announced by the receiver' : 'announced by the sender';
  } else {
    facts.ipTotal = ipTotal(layer) ?? `more than ${payload + 40}`;
  }
  return { code: 'segment.super-frame', notable: true, proof: { superFrame: true }, facts };
}

// ---- checksums ----

/** The transport length a checksum covers, and where the text said it; null when it does not. */
function coveredLength(layer: TextLayer): { length: number; from: string } | null {
  if (layer.ipLength !== null && layer.ipHeaderLength !== null) {
    if (layer.ipVersion === 6)
      return layer.protocol === PROTO.TCP || layer.protocol === PROTO.UDP
        ? { length: layer.ipLength, from: 'ipv6' }
        : null;
    return { length: layer.ipLength - layer.ipHeaderLength, from: 'ip' };
  }
  if (layer.transport === 'tcp' && layer.payload !== null && layer.tcpHeaderLength !== null)
    return { length: layer.payload + layer.tcpHeaderLength, from: 'payload' };
  if (layer.transport === 'udp' && layer.payload !== null) return { length: layer.payload + 8, from: 'udp' };
  return null;
}

/** The pseudo-header sum (unfolded) and its words, for printed addresses; null for names. */
function pseudoSum(
  layer: TextLayer,
  protocol: number,
  length: number,
): { sum: number; words: number[] } | null {
  const src = addressBytes(layer.src);
  const dst = addressBytes(layer.dst);
  if (src === null || dst === null || src.length !== dst.length) return null;
  if (src.length === 4) {
    const header = new Uint8Array(20);
    header.set(src, 12);
    header.set(dst, 16);
    return { sum: pseudoHeaderSumV4(header, 0, protocol, length), words: wordsOf(header.subarray(12, 20)) };
  }
  const header = new Uint8Array(40);
  header.set(src, 8);
  header.set(dst, 24);
  return { sum: pseudoHeaderSumV6(header, 0, protocol, length), words: wordsOf(header.subarray(8, 40)) };
}

function wordsOf(bytes: Uint8Array): number[] {
  const words: number[] = [];
  for (let i = 0; i + 1 < bytes.length; i += 2)
    words.push(((bytes[i] as number) << 8) | (bytes[i + 1] as number));
  return words;
}

const hex = (n: number): string => `0x${n.toString(16).padStart(4, '0')}`;

/** "0x1400 + 0x0096 + 0x1400 + 0x0067 (addresses) + 6 (protocol) + 1480 (length) = 0x2ecb". */
function arithmetic(words: number[], protocol: number, length: number, sum: number): string {
  const lengthWords = length > 0xffff ? `${Math.floor(length / 0x10000)} + ${length & 0xffff}` : `${length}`;
  const folded = fold(sum);
  const total = sum === folded ? hex(folded) : `0x${sum.toString(16)}, folded ${hex(folded)}`;
  return `${words.map(hex).join(' + ')} (addresses) + ${protocol} (protocol) + ${lengthWords} (length) = ${total}`;
}

/** One transport checksum's verdict; `next` is the inner layer of a tunnel (for LCO). */
function checksumVerdict(
  record: TextRecord,
  layer: TextLayer,
  next: TextLayer | null,
  inner: boolean,
  isSuper: boolean | null,
  out: Verdict[],
): void {
  const printed = layer.checksum;
  if (printed === null || (layer.transport !== 'tcp' && layer.transport !== 'udp')) return;
  const transport = layer.transport;
  const protocol = transport === 'tcp' ? PROTO.TCP : PROTO.UDP;
  const name = `${next !== null && layer.tunnel !== null ? 'outer ' : inner ? 'inner ' : ''}${transport.toUpperCase()}`;
  // Correct and zero checksums are not said (notable: false); they keep a code only to be verdicts.
  if (printed.correct === null) {
    out.push({
      code: 'checksum.partial',
      notable: false,
      proof: { checksum: { transport, inner, cls: 'good' } },
      facts: {},
    });
    return;
  }
  if (transport === 'udp' && printed.stored === 0) {
    out.push({
      code: 'checksum.partial',
      notable: false,
      proof: { checksum: { transport, inner, cls: 'zero' } },
      facts: {},
    });
    return;
  }
  if (record.named || layer.src === null) {
    out.push({ code: 'text.needs-more', notable: true, proof: {}, facts: { missing: 'names' } });
    return;
  }
  const covered = coveredLength(layer);
  const pseudo = covered === null ? null : pseudoSum(layer, protocol, covered.length);
  if (covered === null || pseudo === null) {
    out.push({ code: 'text.needs-more', notable: true, proof: {}, facts: { missing: 'ip-length' } });
    return;
  }
  const partial = fold(pseudo.sum);
  const facts: Facts = {
    layer: name,
    stored: hex(printed.stored),
    correct: hex(printed.correct),
    partial: hex(partial),
    src: layer.src,
    dst: layer.dst as string,
    protocol,
    transport: transport.toUpperCase(),
    l4Length: covered.length,
    lengthFrom: covered.from,
    ipLength: layer.ipLength,
    ipHeaderLength: layer.ipHeaderLength,
    payload: layer.payload,
    tcpHeaderLength: layer.tcpHeaderLength,
    direction: record.direction,
    iface: record.iface,
  };
  const proof = (cls: ChecksumClass): Proof => ({ checksum: { transport, inner, cls } });
  if (isPartialSum(printed.stored, pseudo.sum)) {
    facts.arithmetic = arithmetic(pseudo.words, protocol, covered.length, pseudo.sum);
    out.push({ code: 'checksum.partial', notable: true, proof: proof('partial'), facts });
    return;
  }
  if (transport === 'udp' && layer.tunnel !== null && layer.tunnel !== 'ipip') {
    const lco = localChecksumOffload(layer, next);
    facts.tunnel = layer.tunnel === 'geneve' ? 'Geneve' : 'VXLAN';
    if (lco === 'lco') {
      Object.assign(facts, lcoFacts(next as TextLayer));
      out.push({ code: 'checksum.lco', notable: true, proof: proof('lco'), facts });
      return;
    }
    if (lco === 'unknown') {
      out.push({
        code: 'checksum.undecided',
        notable: true,
        proof: {},
        facts: { ...facts, why: 'tunnel', missing: 'inner' },
      });
      return;
    }
  }
  if (transport === 'tcp' && isSuper !== false) {
    // A merged frame may carry its first segment's checksum (analyze checks that on the bytes).
    out.push({
      code: 'checksum.undecided',
      notable: true,
      proof: {},
      facts: { ...facts, why: isSuper === true ? 'merged' : 'size-unknown' },
    });
    return;
  }
  out.push({ code: 'checksum.bad', notable: true, proof: proof('bad'), facts });
}

function lcoFacts(next: TextLayer): Facts {
  const c = next.checksum as { stored: number; correct: number };
  return {
    inner: (next.transport as string).toUpperCase(),
    innerStored: hex(c.stored),
    innerCorrect: hex(c.correct),
  };
}

/**
 * Does a tunnel's outer UDP checksum verify once the inner checksum, printed as a partial sum, is
 * completed (checksum.ts verifiesWithCompletedInner, from tcpdump's two "->" values)? 'bad' when
 * the text proves it is not (an inner checksum that is not partial, or no inner transport); 'unknown'
 * when the inner checksum is not printed.
 */
function localChecksumOffload(outer: TextLayer, next: TextLayer | null): 'lco' | 'bad' | 'unknown' {
  if (next === null) return 'unknown';
  if (next.transport !== 'tcp' && next.transport !== 'udp') return next.ipVersion === 0 ? 'unknown' : 'bad';
  const c = next.checksum;
  if (c === null) return 'unknown';
  if (c.correct === null) return 'bad';
  const covered = coveredLength(next);
  const pseudo =
    covered === null
      ? null
      : pseudoSum(next, next.transport === 'tcp' ? PROTO.TCP : PROTO.UDP, covered.length);
  if (pseudo === null) return 'unknown';
  if (!isPartialSum(c.stored, pseudo.sum)) return 'bad';
  const o = outer.checksum as { stored: number; correct: number };
  // tcpdump's "-> Y" is what the field should hold: the outer sum without the field is ~Y.
  return verifiesWithCompletedInner(0, (~o.correct & 0xffff) + o.stored, c.stored, c.correct) ? 'lco' : 'bad';
}

function udpVerdicts(
  record: TextRecord,
  layer: TextLayer,
  next: TextLayer | null,
  inner: boolean,
  out: Verdict[],
): void {
  // As analyze (observe/udp.ts) without a hop MTU: a whole datagram (not a tunnel's carrier, not a
  // fragment) above any Ethernet link's largest packet is a UDP GSO super-frame or a GRO merge.
  const total = layer.ipLength === null ? null : ipTotal(layer);
  if (
    layer.tunnel === null &&
    total !== null &&
    (layer.payload ?? 1) > 0 &&
    (layer.fragmentOffset ?? 0) === 0 &&
    !layer.moreFragments &&
    layer.missing === null
  ) {
    if (total > LARGEST_JUMBO)
      out.push({
        code: 'segment.udp-super-frame',
        notable: true,
        proof: { udpSuperFrame: true },
        facts: { ipTotal: total, payload: layer.payload, direction: superDirection(record) },
      });
    else
      out.push({
        code: 'segment.udp-super-frame',
        notable: false,
        proof: { udpSuperFrame: false },
        facts: {},
      });
  }
  if (layer.checksum === null) return;
  checksumVerdict(record, layer, layer.tunnel !== null ? next : null, inner, null, out);
}

// ---- fragments and ICMP ----

/** Bytes a tunnel adds to the inner IP packet (outer IP + UDP + header + inner Ethernet). */
function tunnelOverhead(outer: TextLayer): number | null {
  const ip = outer.ipVersion === 6 ? 40 : outer.ipVersion === 4 ? 20 : null;
  if (ip === null) return null;
  switch (outer.tunnel) {
    case 'vxlan':
      return ip + 8 + 8 + INNER_ETHERNET;
    case 'geneve':
      return ip + 8 + 8 + outer.tunnelOptions + INNER_ETHERNET;
    case 'ipip':
      return ip;
    default:
      return null;
  }
}

const TUNNEL_NAMES: Readonly<Record<string, string>> = {
  vxlan: 'VXLAN',
  geneve: 'Geneve',
  ipip: 'IPIP',
  'vxlan-gpe': 'VXLAN-GPE',
};

function outerFragmentVerdict(outer: TextLayer, layer: TextLayer): Verdict | null {
  const overhead = tunnelOverhead(outer);
  const innerSize = ipTotal(layer);
  const missing = layer.missing as number;
  if (overhead === null || innerSize === null) {
    return { code: 'text.needs-more', notable: true, proof: {}, facts: { missing: 'ip-length' } };
  }
  const fromHeader = outer.ipLength !== null && outer.moreFragments && (outer.fragmentOffset ?? 0) === 0;
  const firstFragment = fromHeader
    ? (outer.ipLength as number) + (outer.ipVersion === 6 ? 40 : 0)
    : innerSize - missing + overhead;
  const innerHeaders = layer.ipVersion === 6 ? 60 : 40;
  const advice = mtuAdvice(firstFragment, overhead, innerSize, innerHeaders);
  return {
    code: 'fragment.outer',
    notable: true,
    proof: {},
    facts: {
      innerSize,
      missing,
      overhead,
      tunnel: TUNNEL_NAMES[outer.tunnel as string] as string,
      outerVersion: outer.ipVersion,
      outerSize: innerSize + overhead,
      firstFragment,
      firstFrom: fromHeader ? 'header' : 'missing',
      mtu: firstFragment,
      mtuMax: firstFragment + 7,
      ...advice,
    },
  };
}

function firstFragmentVerdict(layer: TextLayer): Verdict {
  const size = layer.ipLength as number;
  return {
    code: 'fragment.ip',
    notable: true,
    proof: {},
    facts: { which: 'first', size, sizeMax: size + 7 },
  };
}

/** A fragment at a non-zero offset (tcpdump -v's header, or Wireshark's "Fragmented IP protocol"). */
function laterFragmentVerdict(layer: TextLayer): Verdict {
  const offset = layer.fragmentOffset as number;
  const total = layer.ipLength !== null ? offset + layer.ipLength : null;
  const protocolName =
    layer.protocol === PROTO.UDP
      ? 'UDP'
      : layer.protocol === PROTO.TCP
        ? 'TCP'
        : `protocol ${layer.protocol ?? '?'}`;
  return {
    code: 'fragment.ip',
    notable: true,
    proof: {},
    facts: { which: 'later', offset, total, protocolName, firstSize: offset + 20, firstSizeMax: offset + 27 },
  };
}

function icmpVerdict(record: TextRecord, layer: TextLayer, quoted: TextLayer | null): Verdict {
  const mtu = layer.icmpTooBig?.mtu ?? null;
  if (mtu === null)
    return { code: 'text.needs-more', notable: true, proof: {}, facts: { missing: 'icmp-mtu' } };
  const v6 = layer.transport === 'icmp6';
  const named = /ICMP (\S+) unreachable - need to frag/.exec(record.lines.join(' '));
  const quotedDst = quoted?.dst ?? (named ? (named[1] as string) : null);
  const sender = quotedDst === null ? null : quotedDst === layer.src ? 'flow-destination' : 'router';
  const mss = mtu - (v6 ? 60 : 40);
  return {
    code: 'pmtu.frag-needed',
    notable: true,
    proof: {},
    facts: {
      icmp: v6 ? 'icmp6' : 'icmp',
      from: layer.src ?? '?',
      mtu,
      quotedDst,
      sender,
      mss,
      payload: mss - 12,
      underlayV4: mtu + 50,
      underlayV6: mtu + 70,
    },
  };
}

// ---- addresses ----

/** The bytes of a printed IPv4 or IPv6 address, or null (a name, a MAC, a cut address). */
export function addressBytes(text: string | null): Uint8Array | null {
  if (text === null) return null;
  const v4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(text);
  if (v4) {
    const bytes = v4.slice(1).map(Number);
    return bytes.every((b) => b <= 255) ? Uint8Array.from(bytes) : null;
  }
  const address = text.replace(/%.*$/, '');
  if (!/^[0-9a-fA-F:.]+$/.test(address) || !address.includes(':')) return null;
  let head = address;
  let tail = '';
  const gap = address.indexOf('::');
  if (gap >= 0) {
    head = address.slice(0, gap);
    tail = address.slice(gap + 2);
    if (tail.includes('::')) return null;
  }
  const groups = (part: string): number[] | null => {
    if (part === '') return [];
    const out: number[] = [];
    for (const g of part.split(':')) {
      if (g.includes('.')) {
        const b = addressBytes(g);
        if (b === null || b.length !== 4) return null;
        out.push(((b[0] as number) << 8) | (b[1] as number), ((b[2] as number) << 8) | (b[3] as number));
      } else if (/^[0-9a-fA-F]{1,4}$/.test(g)) out.push(Number.parseInt(g, 16));
      else return null;
    }
    return out;
  };
  const h = groups(head);
  const t = groups(tail);
  if (h === null || t === null) return null;
  const fill = 8 - h.length - t.length;
  if ((gap < 0 && fill !== 0) || fill < 0) return null;
  const all = [...h, ...new Array<number>(gap >= 0 ? fill : 0).fill(0), ...t];
  const bytes = new Uint8Array(16);
  all.forEach((w, i) => {
    bytes[2 * i] = w >> 8;
    bytes[2 * i + 1] = w & 0xff;
  });
  return bytes;
}
