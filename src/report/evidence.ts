/**
 * The evidence frames of a report, printed: a second pass over the capture files that reads them
 * as a stream again (constant memory, like the analysis) and formats only the frames the findings
 * name, as one tcpdump-like line each. Each line is a list of parts tagged with what they show
 * (checksum, fragment, length, icmp), so a renderer can highlight the fields that matter for the
 * finding at hand. Off the hot path: it allocates per evidence frame, and there are at most a few
 * hundred of them (MAX_EVIDENCE per finding).
 */

import type { CaptureSink, Frame } from '../capture/frame.js';
import { pacedFileChunks, readCapture } from '../capture/read.js';
import { decodeFrameAt } from '../decode/decode.js';
import { Carrier, createPacket, IpProto, type Level, type Packet, TcpFlag } from '../decode/packet.js';
import { CaptureOpenError } from '../errors.js';
import { classifyIpv4Header } from '../observe/checksum.js';
import { classifyTransport } from '../observe/checksums.js';
import { formatAddress } from '../observe/flows.js';
import { isoTime, type Report } from './model.js';

/** What a part shows: checksum, fragment fields, IP length, transport payload length, frame length, ICMP MTU. */
/** Bytes read at a time while looking for evidence frames. */
const CHUNK_BYTES = 1024 * 1024;

export type EvidenceTag =
  | 'checksum'
  | 'fragment'
  | 'iplen'
  | 'payload'
  | 'framelen'
  | 'icmp'
  | 'tunnel'
  | 'flow';

export interface EvidencePart {
  text: string;
  tag?: EvidenceTag;
}

export interface EvidenceFrame {
  /** The capture file the frame is in, as named on the command line, and its hop. */
  capture: string;
  hop: string;
  /** Wireshark's frame number in that file. */
  frame: number;
  /** Capture time (ISO 8601, the hop's own clock); null before 1970 or past what a Date holds. */
  time: string | null;
  capturedLength: number;
  originalLength: number;
  parts: EvidencePart[];
}

/** Evidence frames by `evidenceKey(hop, frame)`. */
export type EvidenceFrames = Record<string, EvidenceFrame>;

export function evidenceKey(hop: string, frame: number): string {
  return `${hop}#${frame}`;
}

/** Which parts matter for a finding of this group (the renderer highlights them). */
export const GROUP_TAGS: Readonly<Record<string, readonly EvidenceTag[]>> = {
  checksum: ['checksum'],
  segmentation: ['payload'],
  fragmentation: ['fragment', 'iplen'],
  pmtu: ['icmp', 'iplen'],
  capture: ['framelen'],
  nat: ['flow'],
};

/** The capture file of each hop (a hop belongs to one capture). */
function captureOfHop(report: Report): Map<string, string> {
  const byHop = new Map<string, string>();
  for (const capture of report.captures) for (const hop of capture.hops) byHop.set(hop, capture.path);
  return byHop;
}

/**
 * Reads every evidence frame the report's findings name from the capture files, one file at a time.
 * Stdin (`-`) cannot be read twice: its frames are left out (the renderer says "not re-read").
 */
export async function readEvidence(report: Report): Promise<EvidenceFrames> {
  const fileOf = captureOfHop(report);
  const wanted = new Map<string, Map<number, string>>();
  for (const finding of report.findings) {
    for (const { hop, frame } of finding.evidence) {
      const path = fileOf.get(hop);
      if (path === undefined || path === '-') continue;
      const frames = wanted.get(path) ?? new Map<number, string>();
      wanted.set(path, frames);
      frames.set(frame, hop);
    }
  }
  const out: EvidenceFrames = {};
  for (const [path, frames] of wanted) {
    const packet = createPacket();
    let left = frames.size;
    const sink: CaptureSink = {
      onInterface() {},
      onProblem() {},
      onFrame(frame: Frame) {
        if (left === 0) return;
        const hop = frames.get(frame.number);
        if (hop === undefined) return;
        left--;
        out[evidenceKey(hop, frame.number)] = formatFrame(path, hop, frame, packet);
      },
    };
    // The evidence is the first occurrences, mostly early in a file: reading stops once every
    // wanted frame is found (the reader then sees a cut file, a problem nobody is told about here).
    const untilFound = pacedFileChunks(path, CHUNK_BYTES, () => left > 0);
    try {
      await readCapture(path, sink, { source: untilFound });
    } catch (error) {
      // The file changed or went away since the analysis: its frames stay unprinted, the report
      // still lists their numbers. Anything else is a bug, not to be taken for a missing file.
      if (!(error instanceof CaptureOpenError)) throw error;
    }
  }
  return out;
}

function pad(value: number, width: number): string {
  return String(value).padStart(width, '0');
}

/**
 * "23:29:10.590123" (UTC, microseconds: tcpdump's default). Counted from the seconds, not through
 * a Date: a capture's time may lie before 1970 or past what a Date holds.
 */
function clockText(timeSec: number, timeNs: number): string {
  const ofDay = ((timeSec % 86400) + 86400) % 86400;
  return `${pad(Math.floor(ofDay / 3600), 2)}:${pad(Math.floor((ofDay % 3600) / 60), 2)}:${pad(ofDay % 60, 2)}.${pad(Math.floor(timeNs / 1000), 6)}`;
}

function tcpFlags(flags: number): string {
  let text = '';
  if (flags & TcpFlag.SYN) text += 'S';
  if (flags & TcpFlag.FIN) text += 'F';
  if (flags & TcpFlag.RST) text += 'R';
  if (flags & TcpFlag.PSH) text += 'P';
  if (flags & TcpFlag.ACK) text += '.';
  return text === '' ? 'none' : text;
}

const CARRIER_NAMES: Readonly<Record<number, string>> = {
  [Carrier.VXLAN]: 'VXLAN',
  [Carrier.VXLAN_GPE]: 'VXLAN-GPE',
  [Carrier.GENEVE]: 'Geneve',
  [Carrier.GRE]: 'GRE',
  [Carrier.NVGRE]: 'NVGRE',
  [Carrier.IPIP]: 'IP-in-IP',
};

function hex16(value: number): string {
  return `0x${value.toString(16).padStart(4, '0')}`;
}

/** One frame as a tcpdump-like line: every level outer to inner, checksum classes as hopscope sees them. */
export function formatFrame(capture: string, hop: string, frame: Frame, packet: Packet): EvidenceFrame {
  const data = frame.buffer;
  decodeFrameAt(frame.linkType, data, frame.dataOffset, frame.capturedLength, frame.originalLength, packet);
  const parts: EvidencePart[] = [{ text: clockText(frame.timeSec, frame.timeNs) }];
  const add = (text: string, tag?: EvidenceTag) => parts.push(tag === undefined ? { text } : { text, tag });
  for (let i = 0; i < packet.levelCount; i++) {
    const level = packet.levels[i] as Level;
    if (level.ipVersion === 0) continue;
    if (level.carrier === Carrier.ICMP_QUOTE) {
      add(`[quoted ${addressPair(data, level)}]`);
      continue;
    }
    const carrier = CARRIER_NAMES[level.carrier];
    if (carrier !== undefined) add(`| ${carrier}${level.vni >= 0 ? ` vni ${level.vni}` : ''}:`, 'tunnel');
    add(`${level.ipVersion === 4 ? 'IP' : 'IP6'} ${addressPair(data, level)}:`, 'flow');
    add(`len ${level.ipTotalLength}`, 'iplen');
    if (level.ipVersion === 4 && level.carrier !== Carrier.REASSEMBLED) {
      const cls = classifyIpv4Header(data, level.ipOffset, level.ipHeaderLength, packet.capturedEnd);
      if (cls !== 'good' && cls !== 'unverifiable')
        add(`ip cksum ${hex16(level.ipChecksum)} (${cls})`, 'checksum');
    }
    if (level.isFragment) {
      add(
        `frag (id ${level.ipId}, offset ${level.fragmentOffset}${level.moreFragments ? ', MF' : ''}${level.dontFragment ? ', DF' : ''})`,
        'fragment',
      );
      // What the fragment carries is decoded from the first fragment only, as tcpdump does.
      if (level.fragmentOffset > 0) break;
    } else if (level.dontFragment) {
      add('DF', 'fragment');
    }
    if (level.l4Offset < 0) continue;
    if (level.protocol === IpProto.TCP) {
      const end = (level.tcpSeq + level.payloadLength) >>> 0;
      add(
        `Flags [${tcpFlags(level.tcpFlags)}], seq ${level.tcpSeq}${level.payloadLength > 0 ? `:${end}` : ''}`,
      );
      if (level.tcpFlags & TcpFlag.ACK) add(`ack ${level.tcpAck}`);
      if (level.tcpMss >= 0) add(`mss ${level.tcpMss}`, 'payload');
      add(`length ${level.payloadLength}`, 'payload');
    } else if (level.protocol === IpProto.UDP) {
      add(`UDP, length ${level.payloadLength}`, 'payload');
    } else if (level.protocol === IpProto.ICMP || level.protocol === IpProto.ICMPV6) {
      add(
        `ICMP${level.protocol === IpProto.ICMPV6 ? '6' : ''} type ${level.icmpType} code ${level.icmpCode}`,
      );
      if (level.icmpMtu >= 0)
        add(
          level.protocol === IpProto.ICMP
            ? `need to frag (mtu ${level.icmpMtu})`
            : `packet too big (mtu ${level.icmpMtu})`,
          'icmp',
        );
    }
    if (level.l4Checksum >= 0 && level.protocol !== IpProto.ICMP) {
      const cls = classifyTransport(packet, data, i);
      if (cls !== null) add(`cksum ${hex16(level.l4Checksum)} (${cls})`, 'checksum');
    }
  }
  if (parts.length === 1) add(`link type ${frame.linkType}, not decoded`);
  add(`frame ${frame.capturedLength}/${frame.originalLength} bytes`, 'framelen');
  return {
    capture,
    hop,
    frame: frame.number,
    time: isoTime(frame.timeSec + Math.floor(frame.timeNs / 1e6) / 1000),
    capturedLength: frame.capturedLength,
    originalLength: frame.originalLength,
    parts,
  };
}

function addressPair(data: Uint8Array, level: Level): string {
  if (level.srcOffset < 0 || level.dstOffset < 0) return '?';
  const src = formatAddress(data, level.srcOffset, level.ipVersion);
  const dst = formatAddress(data, level.dstOffset, level.ipVersion);
  if (level.srcPort < 0) return `${src} > ${dst}`;
  return `${src}.${level.srcPort} > ${dst}.${level.dstPort}`;
}
