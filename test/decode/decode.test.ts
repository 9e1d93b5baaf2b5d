import { describe, expect, test } from 'vitest';
import { decodeFrame, decodeIpAt } from '../../src/decode/decode.js';
import {
  Carrier,
  createPacket,
  DecodeStatus,
  EMPTY_LEVEL,
  resetLevel,
  resetTcp,
} from '../../src/decode/packet.js';
import { eth, hex, ipv4, ipv6, lvl, tcp, udp, vxlan } from './helpers.js';

describe('driver', () => {
  test('resetLevel, then resetTcp (which decodeTcp starts with), restore exactly the empty level', () => {
    const p = createPacket();
    const l = lvl(p, 0);
    for (const k of Object.keys(l) as Array<keyof typeof l>) {
      const v = l[k];
      (l as unknown as Record<string, unknown>)[k] = typeof v === 'boolean' ? !v : 12345;
    }
    resetLevel(l);
    resetTcp(l);
    expect({ ...l }).toEqual({ ...EMPTY_LEVEL });
  });

  test('a reused packet carries nothing over from the previous frame', () => {
    const p = createPacket();
    const inner = eth(0x0800, ipv4({ proto: 6, payload: tcp(1, 5201, hex('020405b4'), new Uint8Array(4)) }));
    const a = eth(0x0800, ipv4({ proto: 17, payload: udp(1, 4789, vxlan(97, inner)) }));
    decodeFrame(1, a, a.length, a.length, p);
    expect(p.levelCount).toBe(2);
    expect(lvl(p, 1).tcpMss).toBe(1460);
    const b = eth(0x86dd, ipv6(17, udp(1, 53, new Uint8Array(4))));
    decodeFrame(1, b.subarray(0, 20), 20, b.length, p);
    expect(p.status).toBe(DecodeStatus.TRUNCATED);
    expect(p.levelCount).toBe(1);
    expect(lvl(p, 0).l4Offset).toBe(-1);
    expect(lvl(p, 0).vni).toBe(-1);
    decodeFrame(1, a, a.length, a.length, p);
    expect(p.status).toBe(DecodeStatus.OK);
    expect(p.problem).toBeNull();
    expect(lvl(p, 1).tcpMss).toBe(1460);
    // A TCP header without options at the same level: none of the last one's options remain.
    const c = eth(
      0x0800,
      ipv4({
        proto: 17,
        payload: udp(
          1,
          4789,
          vxlan(
            97,
            eth(0x0800, ipv4({ proto: 6, payload: tcp(2, 5201, new Uint8Array(0), new Uint8Array(4)) })),
          ),
        ),
      }),
    );
    decodeFrame(1, c, c.length, c.length, p);
    expect(p.status).toBe(DecodeStatus.OK);
    expect(lvl(p, 1).srcPort).toBe(2);
    expect(lvl(p, 1).tcpMss).toBe(-1);
    expect(lvl(p, 1).tcpHasTimestamps).toBe(false);
  });

  test('capturedLength larger than the data is clamped', () => {
    const p = createPacket();
    const a = eth(0x0800, ipv4({ proto: 17, payload: udp(1, 53, new Uint8Array(4)) }));
    decodeFrame(1, a.subarray(0, 30), 500, 500, p);
    expect(p.capturedLength).toBe(30);
    expect(p.status).toBe(DecodeStatus.TRUNCATED);
  });

  test('decodeIpAt appends a level from a separate buffer (reassembled datagram)', () => {
    const p = createPacket();
    const frag = eth(0x0800, ipv4({ proto: 17, fragOffset: 1376, payload: new Uint8Array(64) }));
    decodeFrame(1, frag, frag.length, frag.length, p);
    expect(p.levelCount).toBe(1);
    const inner = eth(
      0x0800,
      ipv4({ proto: 6, payload: tcp(7, 5201, new Uint8Array(0), new Uint8Array(3000)) }),
    );
    const rebuilt = ipv4({ proto: 17, payload: udp(40000, 4789, vxlan(97, inner)) });
    const buf = new Uint8Array(rebuilt.length + 10);
    buf.set(rebuilt, 10);
    decodeIpAt(buf, 10, buf.length, p, Carrier.REASSEMBLED);
    expect(p.status).toBe(DecodeStatus.OK);
    expect(p.levelCount).toBe(3);
    const r = lvl(p, 1);
    expect(r.carrier).toBe(Carrier.REASSEMBLED);
    expect(r.ipOffset).toBe(10);
    expect(r.dstPort).toBe(4789);
    expect(lvl(p, 2).carrier).toBe(Carrier.VXLAN);
    expect(lvl(p, 2).dstPort).toBe(5201);
    expect(lvl(p, 2).payloadLength).toBe(3000);
    // a rebuilt datagram that lies is MALFORMED (every byte is there)
    const q = createPacket();
    const bad = ipv4({ proto: 17, payload: udp(1, 2, new Uint8Array(4), 80) });
    decodeIpAt(bad, 0, bad.length, q, Carrier.REASSEMBLED);
    expect(q.status).toBe(DecodeStatus.MALFORMED);
    decodeIpAt(bad, 99, bad.length, q, Carrier.REASSEMBLED);
    expect(q.levelCount).toBe(2);
  });
});

describe('decodeIpAt on a rebuilt prefix', () => {
  test('a datagram rebuilt only up to the snap length is not malformed', () => {
    const inner = eth(
      0x0800,
      ipv4({ proto: 6, payload: tcp(7, 5201, new Uint8Array(0), new Uint8Array(3000)) }),
    );
    const whole = ipv4({ proto: 17, payload: udp(40000, 4789, vxlan(97, inner)) });
    const p = createPacket();
    decodeIpAt(whole, 0, 100, p, Carrier.REASSEMBLED);
    expect(p.status).toBe(DecodeStatus.OK);
    expect(p.levelCount).toBe(2);
    expect(lvl(p, 1).dstPort).toBe(5201);
    expect(lvl(p, 0).ipTotalLength).toBe(whole.length);
    const q = createPacket();
    decodeIpAt(whole, 0, 60, q, Carrier.REASSEMBLED);
    expect(q.status).toBe(DecodeStatus.TRUNCATED);
  });
});
