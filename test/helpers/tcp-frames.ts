// Hand-built TCP frames, plain or inside VXLAN, headers only (what tcpdump -s 128 keeps): for
// tests of what hops see of one connection. IPv4 header checksums are right; TCP checksums are 0.

export interface TcpFrameOptions {
  seq: number;
  ack?: number;
  payload: number;
  /** From the server (port 5201) back to the client, instead of client to server. */
  reverse?: boolean;
  /** Wrap in Ethernet/IPv4/UDP 4789/VXLAN with this VNI; plain Ethernet/IPv4/TCP when absent. */
  vni?: number;
}

function ipv4Header(b: Buffer, at: number, total: number, protocol: number, src: number, dst: number): void {
  b[at] = 0x45;
  b.writeUInt16BE(total, at + 2);
  b.writeUInt16BE(0x4000, at + 6);
  b[at + 8] = 64;
  b[at + 9] = protocol;
  b.writeUInt32BE(src, at + 12);
  b.writeUInt32BE(dst, at + 16);
  let sum = 0;
  for (let i = 0; i < 20; i += 2) sum += b.readUInt16BE(at + i);
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  b.writeUInt16BE(~sum & 0xffff, at + 10);
}

/** TCP 10.97.0.150:40000 <-> 10.97.0.103:5201; returns the captured bytes and the wire length. */
export function tcpFrame(o: TcpFrameOptions): { bytes: Buffer; length: number } {
  const outer = o.vni === undefined ? 0 : 14 + 20 + 8 + 8;
  const b = Buffer.alloc(outer + 14 + 20 + 20);
  const inner = 20 + 20 + o.payload;
  if (o.vni !== undefined) {
    b.writeUInt16BE(0x0800, 12);
    ipv4Header(b, 14, 20 + 8 + 8 + 14 + inner, 17, 0x0ac80001, 0x0ac80002);
    b.writeUInt16BE(50000, 34);
    b.writeUInt16BE(4789, 36);
    b.writeUInt16BE(8 + 8 + 14 + inner, 38);
    b[42] = 0x08;
    b.writeUIntBE(o.vni, 46, 3);
  }
  b.writeUInt16BE(0x0800, outer + 12);
  const ip = outer + 14;
  const [src, dst] = o.reverse ? [0x0a610067, 0x0a610096] : [0x0a610096, 0x0a610067];
  ipv4Header(b, ip, inner, 6, src, dst);
  b.writeUInt16BE(o.reverse ? 5201 : 40000, ip + 20);
  b.writeUInt16BE(o.reverse ? 40000 : 5201, ip + 22);
  b.writeUInt32BE(o.seq >>> 0, ip + 24);
  b.writeUInt32BE((o.ack ?? 1) >>> 0, ip + 28);
  b[ip + 32] = 0x50;
  b[ip + 33] = 0x18;
  b.writeUInt16BE(512, ip + 34);
  return { bytes: b, length: outer + 14 + inner };
}
