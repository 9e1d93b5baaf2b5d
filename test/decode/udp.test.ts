import { describe, expect, test } from 'vitest';
import { DecodeStatus } from '../../src/decode/packet.js';
import { eth, ipv4, ipv6, lvl, run, udp } from './helpers.js';

const ETH = 1;

describe('udp', () => {
  test('ports, length, checksum, payload', () => {
    const p = run(ETH, eth(0x0800, ipv4({ proto: 17, payload: udp(5353, 53, new Uint8Array(12)) })));
    const l = lvl(p, 0);
    expect(p.status).toBe(DecodeStatus.OK);
    expect(l.srcPort).toBe(5353);
    expect(l.dstPort).toBe(53);
    expect(l.udpLength).toBe(20);
    expect(l.l4Checksum).toBe(0x1111);
    expect(l.l4ChecksumOffset).toBe(40);
    expect(l.payloadOffset).toBe(42);
    expect(l.payloadLength).toBe(12);
  });

  test('length shorter than the IP payload is accepted (trailing bytes)', () => {
    const p = run(ETH, eth(0x86dd, ipv6(17, udp(1, 2, new Uint8Array(12), 10))));
    expect(p.status).toBe(DecodeStatus.OK);
    expect(lvl(p, 0).payloadLength).toBe(2);
  });

  test('length below 8 or above the IP payload -> MALFORMED', () => {
    let p = run(ETH, eth(0x0800, ipv4({ proto: 17, payload: udp(1, 2, new Uint8Array(4), 7) })));
    expect(p.status).toBe(DecodeStatus.MALFORMED);
    p = run(ETH, eth(0x0800, ipv4({ proto: 17, payload: udp(1, 2, new Uint8Array(4), 100) })));
    expect(p.status).toBe(DecodeStatus.MALFORMED);
    expect(p.problem).toMatch(/exceeds/);
  });

  test('header cut by the snap length -> TRUNCATED', () => {
    const f = eth(0x0800, ipv4({ proto: 17, payload: udp(1, 2, new Uint8Array(4)) }));
    const p = run(ETH, f, { snap: 38 });
    expect(p.status).toBe(DecodeStatus.TRUNCATED);
    expect(lvl(p, 0).dstPort).toBe(2);
  });
});
