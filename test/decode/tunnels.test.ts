import { describe, expect, test } from 'vitest';
import { Carrier, DecodeStatus, MAX_LEVELS } from '../../src/decode/packet.js';
import { cat, eth, geneve, gre, hex, ipv4, ipv6, lvl, run, tcp, udp, vxlan } from './helpers.js';

const ETH = 1;
const innerSeg = () => ipv4({ proto: 6, payload: tcp(60000, 5201, new Uint8Array(0), new Uint8Array(1448)) });
const innerFrame = () => eth(0x0800, innerSeg());

describe('vxlan', () => {
  test.each([4789, 8472])('outer IPv4 UDP %i -> inner Ethernet/IPv4/TCP', (port) => {
    const f = eth(0x0800, ipv4({ proto: 17, payload: udp(40000, port, vxlan(97, innerFrame())) }));
    const p = run(ETH, f, { snap: 256 });
    expect(p.status).toBe(DecodeStatus.OK);
    expect(p.levelCount).toBe(2);
    const i = lvl(p, 1);
    expect(i.carrier).toBe(Carrier.VXLAN);
    expect(i.carrierOffset).toBe(42);
    expect(i.carrierLength).toBe(8);
    expect(i.vni).toBe(97);
    expect(i.tunnelPort).toBe(port);
    expect(i.ethOffset).toBe(50);
    expect(i.ipOffset).toBe(64);
    expect(i.dstPort).toBe(5201);
    expect(i.payloadLength).toBe(1448);
  });

  test('over an IPv6 underlay', () => {
    const p = run(ETH, eth(0x86dd, ipv6(17, udp(40000, 4789, vxlan(0xabcdef, innerFrame())))), { snap: 256 });
    expect(p.status).toBe(DecodeStatus.OK);
    expect(lvl(p, 1).vni).toBe(0xabcdef);
    expect(lvl(p, 1).ipVersion).toBe(4);
  });

  test('I flag clear -> MALFORMED; header cut -> TRUNCATED; inner cut -> TRUNCATED', () => {
    const bad = eth(0x0800, ipv4({ proto: 17, payload: udp(1, 4789, vxlan(97, innerFrame(), 0)) }));
    expect(run(ETH, bad).status).toBe(DecodeStatus.MALFORMED);
    const f = eth(0x0800, ipv4({ proto: 17, payload: udp(1, 4789, vxlan(97, innerFrame())) }));
    expect(run(ETH, f, { snap: 46 }).status).toBe(DecodeStatus.TRUNCATED);
    const p = run(ETH, f, { snap: 70 });
    expect(p.status).toBe(DecodeStatus.TRUNCATED);
    expect(p.levelCount).toBe(2);
    expect(lvl(p, 1).vni).toBe(97);
  });

  test('inner ARP: the inner level exists, not IP', () => {
    const arp = eth(0x0806, new Uint8Array(28));
    const p = run(ETH, eth(0x0800, ipv4({ proto: 17, payload: udp(1, 4789, vxlan(5, arp)) })));
    expect(p.status).toBe(DecodeStatus.OK);
    expect(p.levelCount).toBe(2);
    expect(lvl(p, 1).etherType).toBe(0x0806);
    expect(lvl(p, 1).ipVersion).toBe(0);
  });

  test('first IP fragment: inner decoded as far as the fragment goes, nothing malformed', () => {
    const vx = udp(40000, 4789, vxlan(97, innerFrame()));
    const firstPart = vx.subarray(0, 1376);
    const f = eth(0x0800, ipv4({ proto: 17, mf: true, payload: firstPart }));
    const p = run(ETH, f);
    expect(p.status).toBe(DecodeStatus.OK);
    expect(p.levelCount).toBe(2);
    expect(lvl(p, 0).udpLength).toBe(vx.length);
    expect(lvl(p, 1).dstPort).toBe(5201);
    expect(lvl(p, 1).ipTotalLength).toBe(innerSeg().length);
    // A tiny first fragment that ends inside the inner Ethernet header: still OK.
    const tiny = eth(0x0800, ipv4({ proto: 17, mf: true, payload: vx.subarray(0, 24) }));
    const q = run(ETH, tiny);
    expect(q.status).toBe(DecodeStatus.OK);
    expect(q.levelCount).toBe(2);
    expect(lvl(q, 1).ethOffset).toBe(-1);
  });

  test(`nesting deeper than ${MAX_LEVELS} levels -> UNSUPPORTED`, () => {
    let f = innerFrame();
    for (let i = 0; i < MAX_LEVELS; i++)
      f = eth(0x0800, ipv4({ proto: 17, payload: udp(1, 4789, vxlan(i, f)) }));
    const p = run(ETH, f);
    expect(p.status).toBe(DecodeStatus.UNSUPPORTED);
    expect(p.problem).toBe('nesting too deep');
    expect(p.levelCount).toBe(MAX_LEVELS);
    // exactly MAX_LEVELS levels is fine
    let g = innerFrame();
    for (let i = 0; i < MAX_LEVELS - 1; i++)
      g = eth(0x0800, ipv4({ proto: 17, payload: udp(1, 4789, vxlan(i, g)) }));
    const q = run(ETH, g);
    expect(q.status).toBe(DecodeStatus.OK);
    expect(q.levelCount).toBe(MAX_LEVELS);
    expect(lvl(q, MAX_LEVELS - 1).dstPort).toBe(5201);
  });
});

describe('geneve', () => {
  const opt = hex('ffff 01 01 00000000'); // class 0xffff type 1, 4 bytes of data
  test('inner Ethernet with 8 bytes of options', () => {
    const f = eth(0x0800, ipv4({ proto: 17, payload: udp(1, 6081, geneve(97, 0x6558, opt, innerFrame())) }));
    const p = run(ETH, f, { snap: 256 });
    expect(p.status).toBe(DecodeStatus.OK);
    const i = lvl(p, 1);
    expect(i.carrier).toBe(Carrier.GENEVE);
    expect(i.geneveOptionsLength).toBe(8);
    expect(i.carrierLength).toBe(16);
    expect(i.vni).toBe(97);
    expect(i.tunnelPort).toBe(6081);
    expect(i.ethOffset).toBe(42 + 16);
    expect(i.dstPort).toBe(5201);
  });

  test('inner IPv4 and IPv6 without Ethernet', () => {
    let p = run(
      ETH,
      eth(
        0x0800,
        ipv4({ proto: 17, payload: udp(1, 6081, geneve(3, 0x0800, new Uint8Array(0), innerSeg())) }),
      ),
    );
    expect(p.status).toBe(DecodeStatus.OK);
    expect(lvl(p, 1).ethOffset).toBe(-1);
    expect(lvl(p, 1).ipOffset).toBe(50);
    expect(lvl(p, 1).etherType).toBe(0x0800);
    const v6 = ipv6(17, udp(7, 8, new Uint8Array(4)));
    p = run(ETH, eth(0x86dd, ipv6(17, udp(1, 6081, geneve(3, 0x86dd, opt, v6)))));
    expect(p.status).toBe(DecodeStatus.OK);
    expect(lvl(p, 1).ipVersion).toBe(6);
    expect(lvl(p, 1).dstPort).toBe(8);
  });

  test('option overrunning the option length -> MALFORMED; version 1 -> UNSUPPORTED; cut -> TRUNCATED', () => {
    const badOpt = hex('ffff 01 02 00000000'); // claims 8 bytes of data in 8 bytes total
    let p = run(
      ETH,
      eth(0x0800, ipv4({ proto: 17, payload: udp(1, 6081, geneve(97, 0x6558, badOpt, innerFrame())) })),
    );
    expect(p.status).toBe(DecodeStatus.MALFORMED);
    const g = geneve(97, 0x6558, opt, innerFrame());
    g[0] = 0x42;
    p = run(ETH, eth(0x0800, ipv4({ proto: 17, payload: udp(1, 6081, g) })));
    expect(p.status).toBe(DecodeStatus.UNSUPPORTED);
    const f = eth(0x0800, ipv4({ proto: 17, payload: udp(1, 6081, geneve(97, 0x6558, opt, innerFrame())) }));
    expect(run(ETH, f, { snap: 54 }).status).toBe(DecodeStatus.TRUNCATED);
  });
});

describe('gre / nvgre', () => {
  test('NVGRE: key + 0x6558 -> VSID', () => {
    const f = eth(
      0x0800,
      ipv4({ proto: 47, payload: gre(0x6558, innerFrame(), { key: (0x1234 << 8) | 0x7f }) }),
    );
    const p = run(ETH, f, { snap: 256 });
    expect(p.status).toBe(DecodeStatus.OK);
    const o = lvl(p, 0);
    expect(o.l4Offset).toBe(34);
    expect(o.payloadOffset).toBe(42);
    const i = lvl(p, 1);
    expect(i.carrier).toBe(Carrier.NVGRE);
    expect(i.vni).toBe(0x1234);
    expect(i.carrierLength).toBe(8);
    expect(i.ethOffset).toBe(42);
    expect(i.dstPort).toBe(5201);
  });

  test('GRE with checksum, key and sequence carrying IPv4; gretap without key', () => {
    let p = run(
      ETH,
      eth(
        0x0800,
        ipv4({ proto: 47, payload: gre(0x0800, innerSeg(), { csum: true, key: 0xffffffff, seq: 9 }) }),
      ),
    );
    expect(p.status).toBe(DecodeStatus.OK);
    expect(lvl(p, 1).carrier).toBe(Carrier.GRE);
    expect(lvl(p, 1).carrierLength).toBe(16);
    expect(lvl(p, 1).vni).toBe(0xffffffff);
    expect(lvl(p, 1).ipOffset).toBe(34 + 16);
    p = run(ETH, eth(0x86dd, ipv6(47, gre(0x6558, innerFrame()))));
    expect(p.status).toBe(DecodeStatus.OK);
    expect(lvl(p, 1).carrier).toBe(Carrier.GRE);
    expect(lvl(p, 1).vni).toBe(-1);
    expect(lvl(p, 1).ethOffset).toBe(54 + 4);
  });

  test('version 1 -> UNSUPPORTED, cut -> TRUNCATED, other payload -> OK single level', () => {
    const g = gre(0x880b, new Uint8Array(20));
    g[1] = 0x01;
    expect(run(ETH, eth(0x0800, ipv4({ proto: 47, payload: g }))).status).toBe(DecodeStatus.UNSUPPORTED);
    const f = eth(0x0800, ipv4({ proto: 47, payload: gre(0x0800, innerSeg(), { key: 1, seq: 2 }) }));
    expect(run(ETH, f, { snap: 40 }).status).toBe(DecodeStatus.TRUNCATED);
    const p = run(ETH, eth(0x0800, ipv4({ proto: 47, payload: cat(gre(0x88be, new Uint8Array(20))) })));
    expect(p.status).toBe(DecodeStatus.OK);
    expect(p.levelCount).toBe(1);
  });
});
