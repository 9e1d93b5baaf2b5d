/**
 * What one packet's text says, read off a tcpdump record (one or more lines) or a Wireshark/tshark
 * packet-list line: only facts that the text prints, nothing guessed. A field the text does not
 * hold is null; the classifier (classify.ts) then says which flag would have printed it.
 */

export type Dialect = 'tcpdump' | 'tshark';

/** A printed checksum: the stored field, and what tcpdump says it should be (null: it said correct). */
export interface TextChecksum {
  /** -1 when tcpdump said it is correct without printing it ("udp sum ok"). */
  stored: number;
  correct: number | null;
}

export type TunnelName = 'vxlan' | 'vxlan-gpe' | 'geneve' | 'ipip';

/** One IP layer of the packet, outer first (tunnels and ICMP quotes add more). */
export interface TextLayer {
  ipVersion: 4 | 6 | 0;
  /** Addresses as printed (numeric with -n; null when names or absent). */
  src: string | null;
  dst: string | null;
  /** IPv4 total length or IPv6 payload length, from -v's header (null without -v). */
  ipLength: number | null;
  /** IPv4 header bytes (20 unless options were printed: then null). IPv6: 40. */
  ipHeaderLength: number | null;
  protocol: number | null;
  /**
   * IPv4 header checksum, from -v's header: tcpdump prints it only when it is wrong ("bad cksum
   * e7eb (->e6ea)!"), so null means not printed (correct, or no -v).
   */
  ipChecksum: TextChecksum | null;
  /** IPv4 fragment offset (bytes) and more-fragments flag, from -v's header. */
  fragmentOffset: number | null;
  moreFragments: boolean;
  /** tcpdump's "truncated-ip - N bytes missing!" on this layer. */
  missing: number | null;
  transport: 'tcp' | 'udp' | 'icmp' | 'icmp6' | null;
  srcPort: number | null;
  dstPort: number | null;
  checksum: TextChecksum | null;
  /** TCP payload ("length N", tshark Len=) or UDP payload ("UDP, length N"). */
  payload: number | null;
  /** TCP header bytes from the printed options (padded), null when options are unknown. */
  tcpHeaderLength: number | null;
  syn: boolean;
  mss: number | null;
  /** The tunnel this layer's transport carries (the next layer is its inner packet). */
  tunnel: TunnelName | null;
  /** Geneve option bytes, as printed (len of each option). */
  tunnelOptions: number;
  /** Inside an ICMP error message: a quoted header, not a packet of its own. */
  quote: boolean;
  /** ICMP "fragmentation needed" / ICMPv6 "packet too big", with the MTU when printed. */
  icmpTooBig: { mtu: number | null } | null;
}

export interface TextRecord {
  dialect: Dialect;
  /** Frame number: tshark's No. column, tcpdump's -# number, or the count of records read. */
  frame: number;
  lines: string[];
  /** tcpdump -i any: the interface and the direction printed (In / Out). */
  iface: string | null;
  direction: 'in' | 'out' | null;
  /** tcpdump printed the IP header (-v). */
  verbose: boolean;
  /** tcpdump -q form ("tcp 1448"). */
  quiet: boolean;
  /** Addresses or ports printed as names (no -n / -nn). */
  named: boolean;
  layers: TextLayer[];
  /** tshark's list only. */
  tshark: TsharkFacts | null;
}

export interface TsharkFacts {
  protocol: string;
  frameLength: number;
  info: string;
  checksumIncorrect: boolean;
  previousNotCaptured: boolean;
  /** "Fragmented IP protocol (proto=UDP 17, off=1376, ID=b67f)" */
  fragment: { protocol: number; offset: number } | null;
}

export function emptyLayer(): TextLayer {
  return {
    ipVersion: 0,
    src: null,
    dst: null,
    ipLength: null,
    ipHeaderLength: null,
    protocol: null,
    ipChecksum: null,
    fragmentOffset: null,
    moreFragments: false,
    missing: null,
    transport: null,
    srcPort: null,
    dstPort: null,
    checksum: null,
    payload: null,
    tcpHeaderLength: null,
    syn: false,
    mss: null,
    tunnel: null,
    tunnelOptions: 0,
    quote: false,
    icmpTooBig: null,
  };
}

/** IANA protocol numbers by the names tcpdump and Wireshark print. */
export const PROTO = { ICMP: 1, IPIP: 4, TCP: 6, UDP: 17, IPV6: 41, ICMPV6: 58 } as const;

/**
 * TCP header bytes from tcpdump's printed options ("[nop,nop,TS val 1 ecr 2]"): 20 plus each
 * option's size, padded to 4; null when an option's size is not known from its name.
 */
export function tcpHeaderFromOptions(options: string | null): number | null {
  if (options === null) return 20;
  let bytes = 0;
  for (const raw of options.split(',')) {
    const option = raw.trim();
    if (option === '') continue;
    const name = option.split(/\s+/)[0] as string;
    const size = OPTION_SIZES[name];
    if (size !== undefined) {
      bytes += size;
      continue;
    }
    const sack = /^sack (\d+)/.exec(option);
    if (sack) {
      bytes += 2 + 8 * Number(sack[1]);
      continue;
    }
    return null;
  }
  return 20 + Math.ceil(bytes / 4) * 4;
}

const OPTION_SIZES: Readonly<Record<string, number>> = {
  nop: 1,
  eol: 1,
  mss: 4,
  sackOK: 2,
  TS: 10,
  wscale: 3,
  md5: 18,
  uto: 4,
};
