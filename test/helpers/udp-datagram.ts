// A QUIC-like UDP datagram (10.1.0.1 / 2001:db8::1 port 4433 -> 10.2.0.2 / 2001:db8::2 port
// 50000) as captured with headers only: what the UDP GSO tests of analyze and explain build.

/** Ethernet/IP/UDP 4433 -> 50000 with `payload` bytes, headers captured only (checksum 0 over IPv4). */
export function datagram(version: 4 | 6, payload: number, id: number): { bytes: Buffer; length: number } {
  const ip = version === 4 ? 20 : 40;
  const b = Buffer.alloc(14 + ip + 8 + 16);
  b.writeUInt16BE(version === 4 ? 0x0800 : 0x86dd, 12);
  if (version === 4) {
    b[14] = 0x45;
    b.writeUInt16BE(20 + 8 + payload, 16);
    b.writeUInt16BE(id & 0xffff, 18);
    b.writeUInt16BE(0x4000, 20);
    b[22] = 64;
    b[23] = 17;
    b.writeUInt32BE(0x0a010001, 26);
    b.writeUInt32BE(0x0a020002, 30);
    let sum = 0;
    for (let i = 14; i < 34; i += 2) sum += b.readUInt16BE(i);
    while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
    b.writeUInt16BE(~sum & 0xffff, 24);
  } else {
    b[14] = 0x60;
    b.writeUInt16BE(8 + payload, 18);
    b[20] = 17;
    b[21] = 64;
    b.writeUInt16BE(0x2001, 22);
    b.writeUInt16BE(0x0db8, 24);
    b[37] = 1;
    b.writeUInt16BE(0x2001, 38);
    b.writeUInt16BE(0x0db8, 40);
    b[53] = 2;
    // IPv6 needs a UDP checksum: any non-zero value (the payload is not captured: unverifiable).
    b.writeUInt16BE(0x1234, 14 + ip + 6);
  }
  b.writeUInt16BE(4433, 14 + ip);
  b.writeUInt16BE(50000, 14 + ip + 2);
  b.writeUInt16BE(8 + payload, 14 + ip + 4);
  return { bytes: b, length: 14 + ip + 8 + payload };
}
