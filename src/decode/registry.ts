/**
 * Which protocol feeds which: every dispatch table of the decoder, in one place (Zeek's
 * packet-protocols idea). Adding a protocol is one decoder file plus one line here.
 *
 * Tables are flat arrays indexed by the number on the wire (link type, EtherType, IP protocol,
 * UDP destination port): one bounds-checked array read per dispatch, no Map, no allocation.
 */
import type { Decoder } from './common.js';
import { decodeEthernet } from './ethernet.js';
import { decodeGeneve } from './geneve.js';
import { decodeGre } from './gre.js';
import { decodeIcmp4 } from './icmp4.js';
import { decodeIcmp6 } from './icmp6.js';
import { decodeIpip } from './ipip.js';
import { decodeIpv4 } from './ipv4.js';
import { decodeIpv6 } from './ipv6.js';
import { decodeNull } from './null.js';
import { decodeRaw, decodeRawIpv4, decodeRawIpv6 } from './raw.js';
import { decodeSll } from './sll.js';
import { decodeSll2 } from './sll2.js';
import { decodeTcp } from './tcp.js';
import { decodeUdp } from './udp.js';
import { decodeVxlan } from './vxlan.js';
import { decodeVxlanGpe } from './vxlan-gpe.js';

function table(size: number): Array<Decoder | undefined> {
  return new Array<Decoder | undefined>(size).fill(undefined);
}

/** LINKTYPE_* -> link decoder (sets level.etherType and the network offset). */
export const linkDecoders = table(512);
linkDecoders[0] = decodeNull; // LINKTYPE_NULL
linkDecoders[1] = decodeEthernet; // LINKTYPE_ETHERNET
linkDecoders[101] = decodeRaw; // LINKTYPE_RAW
linkDecoders[108] = decodeNull; // LINKTYPE_LOOP
linkDecoders[113] = decodeSll; // LINKTYPE_LINUX_SLL
linkDecoders[228] = decodeRawIpv4; // LINKTYPE_IPV4
linkDecoders[229] = decodeRawIpv6; // LINKTYPE_IPV6
linkDecoders[276] = decodeSll2; // LINKTYPE_LINUX_SLL2

/** EtherType -> network decoder (fills the level's IP fields and a candidate l4Offset). */
export const networkDecoders = table(65536);
networkDecoders[0x0800] = decodeIpv4;
networkDecoders[0x86dd] = decodeIpv6;

/** IP protocol -> transport decoder (may announce a next level: GRE payload, ICMP quote). */
export const transportDecoders = table(256);
transportDecoders[1] = decodeIcmp4;
transportDecoders[4] = decodeIpip; // IPv4 in IP (ipip, Calico IPIP mode)
transportDecoders[6] = decodeTcp;
transportDecoders[17] = decodeUdp;
transportDecoders[41] = decodeIpip; // IPv6 in IP (sit, ip6tnl)
transportDecoders[47] = decodeGre;
transportDecoders[58] = decodeIcmp6;

/** UDP destination port -> tunnel decoder (announces the next level). */
export const udpPortDecoders = table(65536);

/** The tunnel ports known without configuration. */
export const DEFAULT_VXLAN_PORTS: readonly number[] = [4789, 8472]; // IANA; Linux's default before IANA
export const DEFAULT_GENEVE_PORTS: readonly number[] = [6081];
export const DEFAULT_VXLAN_GPE_PORTS: readonly number[] = [4790];

/** Extra UDP ports to decode as tunnels (`--vxlan-port`, `--geneve-port`), on top of the defaults. */
export interface TunnelPorts {
  vxlan?: readonly number[];
  geneve?: readonly number[];
}

function isPort(p: number): boolean {
  return Number.isInteger(p) && p > 0 && p < 65536;
}

/**
 * Sets the UDP port table: the defaults plus `ports`. Called once before reading (a module-level
 * table: the decoder's hot path reads it without a lookup through options). A port given for both
 * VXLAN and Geneve ends up Geneve; a custom port replaces a default one's decoder.
 * Invalid ports are ignored (the CLI validates them).
 */
export function setTunnelPorts(ports: TunnelPorts = {}): void {
  udpPortDecoders.fill(undefined);
  for (const p of DEFAULT_VXLAN_PORTS) udpPortDecoders[p] = decodeVxlan;
  for (const p of DEFAULT_GENEVE_PORTS) udpPortDecoders[p] = decodeGeneve;
  for (const p of DEFAULT_VXLAN_GPE_PORTS) udpPortDecoders[p] = decodeVxlanGpe;
  for (const p of ports.vxlan ?? []) if (isPort(p)) udpPortDecoders[p] = decodeVxlan;
  for (const p of ports.geneve ?? []) if (isPort(p)) udpPortDecoders[p] = decodeGeneve;
}

setTunnelPorts();

export function lookup(t: Array<Decoder | undefined>, key: number): Decoder | undefined {
  return key >= 0 && key < t.length ? t[key] : undefined;
}
