/**
 * IP-in-IP: an IPv4 (IP protocol 4, RFC 2003) or IPv6 (IP protocol 41, RFC 2473 / 4213) packet
 * straight after the outer IP header. Linux ipip (Calico's IPIP mode), sit and ip6tnl devices.
 *
 * There is no tunnel header: the next level starts where the outer transport would. The outer
 * level records it as its payload; the inner level's carrierOffset is the inner IP header and its
 * carrierLength 0. Overhead against the underlay MTU: the outer IP header only (20 over IPv4, 40
 * over IPv6), no inner Ethernet.
 */
import { announceNext, type Cursor, EtherType } from './common.js';
import { Carrier, IpProto, type Level, type Packet } from './packet.js';

export function decodeIpip(
  _data: Uint8Array,
  offset: number,
  end: number,
  _packet: Packet,
  level: Level,
  c: Cursor,
): number {
  level.payloadOffset = offset;
  level.payloadLength = level.l4Length;
  const etherType = level.protocol === IpProto.IPV6_IN_IP ? EtherType.IPV6 : EtherType.IPV4;
  return announceNext(c, Carrier.IPIP, offset, 0, null, etherType, end, -1, 0, 0);
}
