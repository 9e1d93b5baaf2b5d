import { describe, expect, test } from 'vitest';
import { Carrier, DecodeStatus } from '../../src/decode/packet.js';
import { be16, be32, cat, eth, hex, ipv4, ipv6, lvl, run, tcp, udp, vxlan } from './helpers.js';

const ETH = 1;

/** An ICMPv4 error quoting `quoted` (cut to `keep` bytes), whose 2nd word is `word`. */
function icmp4(type: number, code: number, word: Uint8Array, quoted: Uint8Array, keep: number): Uint8Array {
  return eth(
    0x0800,
    ipv4({
      proto: 1,
      payload: cat(new Uint8Array([type, code, 0, 0]), word, quoted.subarray(0, keep)),
    }),
  );
}

const bigSegment = ipv4({
  proto: 6,
  total: 7292,
  payload: tcp(60776, 5201, hex('0101080a 00000001 00000002'), new Uint8Array(100)),
});

describe('icmpv4', () => {
  test('fragmentation needed: MTU and the quoted TCP level', () => {
    const p = run(ETH, icmp4(3, 4, cat(be16(0), be16(1350)), bigSegment, 100));
    expect(p.status).toBe(DecodeStatus.OK);
    expect(p.levelCount).toBe(2);
    const o = lvl(p, 0);
    expect(o.icmpType).toBe(3);
    expect(o.icmpCode).toBe(4);
    expect(o.icmpMtu).toBe(1350);
    expect(o.payloadOffset).toBe(42);
    const q = lvl(p, 1);
    expect(q.carrier).toBe(Carrier.ICMP_QUOTE);
    expect(q.carrierOffset).toBe(34);
    expect(q.carrierLength).toBe(8);
    expect(q.ipOffset).toBe(42);
    expect(q.ipTotalLength).toBe(7292); // the quoted datagram's own claim, not a lie
    expect(q.protocol).toBe(6);
    expect(q.dstPort).toBe(5201);
    expect(q.tcpHasTimestamps).toBe(true);
  });

  test('quote cut after 8 transport bytes (by the quote, or by the snap length) is normal', () => {
    let p = run(ETH, icmp4(3, 4, cat(be16(0), be16(1350)), bigSegment, 28));
    expect(p.status).toBe(DecodeStatus.OK);
    expect(lvl(p, 1).srcPort).toBe(60776);
    expect(lvl(p, 1).tcpSeq).toBe(1000);
    p = run(ETH, icmp4(3, 4, cat(be16(0), be16(1350)), bigSegment, 100), { snap: 14 + 20 + 8 + 20 + 12 });
    expect(p.status).toBe(DecodeStatus.OK);
    expect(lvl(p, 1).dstPort).toBe(5201);
    // cut inside the quoted IP header by the snap length: that is a truncated header
    p = run(ETH, icmp4(3, 4, cat(be16(0), be16(1350)), bigSegment, 100), { snap: 14 + 20 + 8 + 10 });
    expect(p.status).toBe(DecodeStatus.TRUNCATED);
  });

  test('time exceeded quoting UDP; echo has no quote', () => {
    const quoted = ipv4({ proto: 17, payload: udp(33434, 33435, new Uint8Array(32)) });
    let p = run(ETH, icmp4(11, 0, be32(0), quoted, 28));
    expect(p.status).toBe(DecodeStatus.OK);
    expect(lvl(p, 1).dstPort).toBe(33435);
    expect(lvl(p, 0).icmpMtu).toBe(-1);
    p = run(ETH, icmp4(8, 0, be32(0x00010001), new Uint8Array(16), 16));
    expect(p.status).toBe(DecodeStatus.OK);
    expect(p.levelCount).toBe(1);
    expect(lvl(p, 0).icmpType).toBe(8);
  });

  test('a quoted VXLAN packet is decoded as deep as the quote goes', () => {
    const inner = eth(
      0x0800,
      ipv4({ proto: 6, payload: tcp(1, 5201, new Uint8Array(0), new Uint8Array(8)) }),
    );
    const quoted = ipv4({ proto: 17, total: 1450, payload: udp(4000, 4789, vxlan(97, inner), 1430) });
    const p = run(ETH, icmp4(3, 4, cat(be16(0), be16(1400)), quoted, quoted.length));
    expect(p.status).toBe(DecodeStatus.OK);
    expect(p.levelCount).toBe(3);
    expect(lvl(p, 2).carrier).toBe(Carrier.VXLAN);
    expect(lvl(p, 2).dstPort).toBe(5201);
  });

  test('ICMP header truncated / short', () => {
    const f = icmp4(3, 4, cat(be16(0), be16(1350)), bigSegment, 28);
    expect(run(ETH, f, { snap: 38 }).status).toBe(DecodeStatus.TRUNCATED);
    expect(run(ETH, eth(0x0800, ipv4({ proto: 1, payload: hex('0304 0000') }))).status).toBe(
      DecodeStatus.MALFORMED,
    );
  });
});

describe('icmpv6', () => {
  const quoted = ipv6(17, udp(5000, 4789, new Uint8Array(1400)));
  const icmp6 = (type: number, word: Uint8Array, keep: number) =>
    eth(0x86dd, ipv6(58, cat(new Uint8Array([type, 0, 0x12, 0x34]), word, quoted.subarray(0, keep))));

  test('packet too big: 32-bit MTU and the quoted level', () => {
    const p = run(ETH, icmp6(2, be32(1280), 48));
    expect(p.status).toBe(DecodeStatus.OK);
    expect(lvl(p, 0).icmpType).toBe(2);
    expect(lvl(p, 0).icmpMtu).toBe(1280);
    expect(lvl(p, 0).l4Checksum).toBe(0x1234);
    expect(p.levelCount).toBe(2);
    const q = lvl(p, 1);
    expect(q.carrier).toBe(Carrier.ICMP_QUOTE);
    expect(q.ipVersion).toBe(6);
    expect(q.dstPort).toBe(4789);
    expect(q.udpLength).toBe(1408);
  });

  test('destination unreachable quotes; neighbor solicitation does not', () => {
    expect(run(ETH, icmp6(1, be32(0), 48)).levelCount).toBe(2);
    const p = run(ETH, eth(0x86dd, ipv6(58, hex('8700 0000 00000000 fe80000000000000 0000000000000001'))));
    expect(p.status).toBe(DecodeStatus.OK);
    expect(p.levelCount).toBe(1);
    expect(lvl(p, 0).icmpType).toBe(135);
  });
});
