/**
 * A flow as structured data, the same at every hop and in every output: protocol, IP version,
 * both endpoints in the direction meant, and the tunnel id it was seen in (null outside a
 * tunnel). Findings and paths carry it; only reports turn it into words.
 */

export interface FlowKey {
  /** IP protocol number (6 TCP, 17 UDP, 1 ICMP, 58 ICMPv6). */
  protocol: number;
  ipVersion: 4 | 6;
  src: string;
  dst: string;
  /** -1 for protocols without ports. */
  srcPort: number;
  dstPort: number;
  /** VXLAN VNI / Geneve VNI / GRE key the flow was carried in at this hop, or null. */
  vni: number | null;
}

const PROTOCOL_NAMES: Readonly<Record<number, string>> = { 1: 'ICMP', 6: 'TCP', 17: 'UDP', 58: 'ICMPv6' };

export function protocolName(protocol: number): string {
  return PROTOCOL_NAMES[protocol] ?? `IP proto ${protocol}`;
}

export function endpointText(address: string, version: number, port: number): string {
  if (port < 0) return address;
  return version === 6 ? `[${address}]:${port}` : `${address}:${port}`;
}

/** "TCP 10.97.0.150:41234 -> 10.97.0.103:5201 (VNI 97)". */
export function formatFlow(key: FlowKey, withVni = true): string {
  const src = endpointText(key.src, key.ipVersion, key.srcPort);
  const dst = endpointText(key.dst, key.ipVersion, key.dstPort);
  const vni = withVni && key.vni !== null ? ` (VNI ${key.vni})` : '';
  return `${protocolName(key.protocol)} ${src} -> ${dst}${vni}`;
}

/** The same conversation in the same direction, whatever tunnel carried it at each hop. */
export function sameFlow(a: FlowKey, b: FlowKey): boolean {
  return (
    a.protocol === b.protocol &&
    a.ipVersion === b.ipVersion &&
    a.src === b.src &&
    a.dst === b.dst &&
    a.srcPort === b.srcPort &&
    a.dstPort === b.dstPort
  );
}

export function reverseFlow(key: FlowKey): FlowKey {
  return { ...key, src: key.dst, dst: key.src, srcPort: key.dstPort, dstPort: key.srcPort };
}
