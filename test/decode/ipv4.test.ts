import { describe, expect, test } from 'vitest';
import { DecodeStatus } from '../../src/decode/packet.js';
import { eth, hex, ipv4, lvl, run, tcp, udp } from './helpers.js';

const ETH = 1;
const seg = (n = 100) => tcp(40000, 5201, hex('0101080a 00000001 00000002'), new Uint8Array(n));

describe('ipv4', () => {
  test('fields of a plain datagram', () => {
    const ip = ipv4({ proto: 6, payload: seg(), df: true, id: 0xabcd });
    const p = run(ETH, eth(0x0800, ip));
    const l = lvl(p, 0);
    expect(p.status).toBe(DecodeStatus.OK);
    expect(l.ipVersion).toBe(4);
    expect(l.ipHeaderLength).toBe(20);
    expect(l.ipTotalLength).toBe(ip.length);
    expect(l.ipId).toBe(0xabcd);
    expect(l.dontFragment).toBe(true);
    expect(l.isFragment).toBe(false);
    expect(l.ttl).toBe(64);
    expect(l.ipChecksum).toBe(0xbeef);
    expect(l.srcOffset).toBe(26);
    expect(l.dstOffset).toBe(30);
    expect(l.protocol).toBe(6);
    expect(l.l4Offset).toBe(34);
    expect(l.l4Length).toBe(ip.length - 20);
  });

  test('options are skipped by IHL', () => {
    const p = run(
      ETH,
      eth(0x0800, ipv4({ proto: 6, payload: seg(), options: hex('01 01 01 00 94 04 00 00') })),
    );
    expect(p.status).toBe(DecodeStatus.OK);
    expect(lvl(p, 0).ipHeaderLength).toBe(28);
    expect(lvl(p, 0).l4Offset).toBe(14 + 28);
    expect(lvl(p, 0).dstPort).toBe(5201);
  });

  test('Ethernet padding after a short datagram is ignored', () => {
    const ip = ipv4({ proto: 17, payload: udp(1, 2, new Uint8Array(2)) });
    const p = run(ETH, eth(0x0800, hex(Buffer.from(ip).toString('hex') + '00'.repeat(16))));
    expect(p.status).toBe(DecodeStatus.OK);
    expect(lvl(p, 0).payloadLength).toBe(2);
  });

  test.each([
    ['IHL below 5', { ihl: 4 }, /IHL/],
    ['version 5', { version: 5 }, /version/],
    ['total length below IHL*4', { total: 19 }, /total length/],
    ['total length beyond the frame', { total: 1400 }, /exceeds/],
    ['total length 0 without TCP or UDP', { total: 0, proto: 1 }, /total length/],
  ])('%s -> MALFORMED', (_n, o, re) => {
    const p = run(ETH, eth(0x0800, ipv4({ proto: 6, payload: seg(), ...o })));
    expect(p.status).toBe(DecodeStatus.MALFORMED);
    expect(p.problem).toMatch(re);
  });

  test('header (or options) cut by the snap length -> TRUNCATED', () => {
    const f = eth(0x0800, ipv4({ proto: 6, payload: seg(), options: hex('01010100 01010100') }));
    expect(run(ETH, f, { snap: 30 }).status).toBe(DecodeStatus.TRUNCATED);
    expect(run(ETH, f, { snap: 38 }).status).toBe(DecodeStatus.TRUNCATED);
    // the datagram claims more than the frame, but the frame is cut: the length is believable
    const p = run(ETH, f, { snap: 100 });
    expect(p.status).toBe(DecodeStatus.OK);
    expect(lvl(p, 0).ipTotalLength).toBe(f.length - 14);
  });

  test('BIG TCP: total length 0 with TCP -> length from the original frame length', () => {
    const f = eth(0x0800, ipv4({ proto: 6, payload: seg(200), total: 0 }));
    const orig = 14 + 70000;
    const p = run(ETH, f, { snap: 128, orig });
    const l = lvl(p, 0);
    expect(p.status).toBe(DecodeStatus.OK);
    expect(l.bigTcp).toBe(true);
    expect(l.ipTotalLength).toBe(70000);
    expect(l.l4Length).toBe(70000 - 20);
    expect(l.payloadLength).toBe(70000 - 20 - 32);
  });

  test('first fragment has a transport header, later ones do not', () => {
    const first = run(
      ETH,
      eth(0x0800, ipv4({ proto: 17, mf: true, payload: udp(1, 2, new Uint8Array(40), 1000) })),
    );
    expect(first.status).toBe(DecodeStatus.OK);
    let l = lvl(first, 0);
    expect(l.isFragment).toBe(true);
    expect(l.moreFragments).toBe(true);
    expect(l.fragmentOffset).toBe(0);
    expect(l.l4Offset).toBe(34);
    expect(l.udpLength).toBe(1000); // longer than this fragment: not a lie
    const later = run(ETH, eth(0x0800, ipv4({ proto: 17, fragOffset: 1376, payload: new Uint8Array(64) })));
    l = lvl(later, 0);
    expect(later.status).toBe(DecodeStatus.OK);
    expect(l.isFragment).toBe(true);
    expect(l.moreFragments).toBe(false);
    expect(l.fragmentOffset).toBe(1376);
    expect(l.l4Offset).toBe(-1);
    expect(l.srcPort).toBe(-1);
  });

  test('unknown protocol: l4Offset -1, OK', () => {
    const p = run(ETH, eth(0x0800, ipv4({ proto: 132, payload: new Uint8Array(20) })));
    expect(p.status).toBe(DecodeStatus.OK);
    expect(lvl(p, 0).protocol).toBe(132);
    expect(lvl(p, 0).l4Offset).toBe(-1);
  });
});
