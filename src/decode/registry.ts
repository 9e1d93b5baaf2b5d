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
import { decodeIpv4 } from './ipv4.js';
import { decodeIpv6 } from './ipv6.js';
import { decodeNull } from './null.js';
import { decodeRaw, decodeRawIpv4, decodeRawIpv6 } from './raw.js';
import { decodeSll } from './sll.js';
import { decodeSll2 } from './sll2.js';
import { decodeTcp } from './tcp.js';
import { decodeUdp } from './udp.js';
import { decodeVxlan } from './vxlan.js';

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
transportDecoders[6] = decodeTcp;
transportDecoders[17] = decodeUdp;
transportDecoders[47] = decodeGre;
transportDecoders[58] = decodeIcmp6;

/** UDP destination port -> tunnel decoder (announces the next level). */
export const udpPortDecoders = table(65536);
udpPortDecoders[4789] = decodeVxlan; // IANA VXLAN
udpPortDecoders[8472] = decodeVxlan; // Linux vxlan default before IANA
udpPortDecoders[6081] = decodeGeneve;

export function lookup(t: Array<Decoder | undefined>, key: number): Decoder | undefined {
  return key >= 0 && key < t.length ? t[key] : undefined;
}
