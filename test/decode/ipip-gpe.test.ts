import { afterEach, describe, expect, test } from 'vitest';
import { Carrier, DecodeStatus } from '../../src/decode/packet.js';
import { setTunnelPorts } from '../../src/decode/registry.js';
import { be16, be32, cat, eth, gre, ipv4, ipv6, lvl, run, tcp, udp, vxlan } from './helpers.js';

const ETH = 1;
const RAW = 101;
const innerSeg = () => ipv4({ proto: 6, payload: tcp(60000, 5201, new Uint8Array(0), new Uint8Array(1448)) });
const innerV6Seg = () => ipv6(6, tcp(60000, 5201, new Uint8Array(0), new Uint8Array(1440)));

/** VXLAN-GPE header: flags (P set unless nextProto is null), next protocol, VNI. */
function gpe(vni: number, nextProto: number | null, inner: Uint8Array, version = 0): Uint8Array {
  const flags = 0x08 | (version << 4) | (nextProto === null ? 0 : 0x04);
  return cat(new Uint8Array([flags, 0, 0, nextProto ?? 0]), be32(vni << 8), inner);
}

describe('IP-in-IP (protocols 4 and 41)', () => {
  test('IPv4 in IPv4 (ipip, Calico IPIP): the inner TCP flow is the next level, 20 bytes of overhead', () => {
    const inner = innerSeg();
    const p = run(ETH, eth(0x0800, ipv4({ proto: 4, payload: inner })), { snap: 256 });
    expect(p.status).toBe(DecodeStatus.OK);
    expect(p.levelCount).toBe(2);
    const o = lvl(p, 0);
    const i = lvl(p, 1);
    expect(i.carrier).toBe(Carrier.IPIP);
    expect(i.carrier >= Carrier.VXLAN && i.carrier <= Carrier.NVGRE).toBe(true);
    expect(i.carrierOffset).toBe(34);
    expect(i.carrierLength).toBe(0);
    expect(i.ipOffset).toBe(34);
    expect(i.ethOffset).toBe(-1);
    expect(i.vni).toBe(-1);
    expect(i.dstPort).toBe(5201);
    expect(i.payloadLength).toBe(1448);
    expect(o.ipTotalLength - i.ipTotalLength).toBe(20);
  });

  test('IPv6 in IPv4 (sit), IPv6 in IPv6 and IPv4 in IPv6 (ip6tnl): 20 or 40 bytes of overhead', () => {
    const sit = run(ETH, eth(0x0800, ipv4({ proto: 41, payload: innerV6Seg() })), { snap: 256 });
    expect(sit.status).toBe(DecodeStatus.OK);
    expect(lvl(sit, 1).carrier).toBe(Carrier.IPIP);
    expect(lvl(sit, 1).ipVersion).toBe(6);
    expect(lvl(sit, 0).ipTotalLength - lvl(sit, 1).ipTotalLength).toBe(20);
    const six = run(ETH, eth(0x86dd, ipv6(41, innerV6Seg())), { snap: 256 });
    expect(six.status).toBe(DecodeStatus.OK);
    expect(lvl(six, 1).ipVersion).toBe(6);
    expect(lvl(six, 0).ipTotalLength - lvl(six, 1).ipTotalLength).toBe(40);
    const four = run(RAW, ipv6(4, innerSeg()), { snap: 256 });
    expect(four.status).toBe(DecodeStatus.OK);
    expect(lvl(four, 1).ipVersion).toBe(4);
    expect(lvl(four, 1).dstPort).toBe(5201);
  });

  test('cut by the snap length inside the inner header: TRUNCATED; wrong inner version: MALFORMED', () => {
    const f = eth(0x0800, ipv4({ proto: 4, payload: innerSeg() }));
    expect(run(ETH, f, { snap: 40 }).status).toBe(DecodeStatus.TRUNCATED);
    const wrong = eth(0x0800, ipv4({ proto: 4, payload: innerV6Seg() }));
    expect(run(ETH, wrong).status).toBe(DecodeStatus.MALFORMED);
  });

  test('the first fragment of an outer IP-in-IP packet decodes its inner headers without a problem', () => {
    const inner = innerSeg();
    const first = eth(0x0800, ipv4({ proto: 4, payload: inner.subarray(0, 1376), mf: true, total: 1396 }));
    const p = run(ETH, first, { snap: 256 });
    expect(p.status).toBe(DecodeStatus.OK);
    expect(lvl(p, 1).carrier).toBe(Carrier.IPIP);
    expect(lvl(p, 1).dstPort).toBe(5201);
  });
});

describe('tunnel overhead against the underlay MTU (outer IP length - inner IP length)', () => {
  test('IP-in-IP 20 / 40, GRE 24, GRETAP 38, VXLAN 50, VXLAN-GPE with inner IP 36', () => {
    const cases: Array<[string, Uint8Array, number]> = [
      ['ipip', eth(0x0800, ipv4({ proto: 4, payload: innerSeg() })), 20],
      ['ip6tnl', eth(0x86dd, ipv6(41, innerV6Seg())), 40],
      ['gre', eth(0x0800, ipv4({ proto: 47, payload: gre(0x0800, innerSeg()) })), 24],
      ['gretap', eth(0x0800, ipv4({ proto: 47, payload: gre(0x6558, eth(0x0800, innerSeg())) })), 38],
      [
        'vxlan',
        eth(0x0800, ipv4({ proto: 17, payload: udp(1, 4789, vxlan(1, eth(0x0800, innerSeg()))) })),
        50,
      ],
      ['vxlan-gpe', eth(0x0800, ipv4({ proto: 17, payload: udp(1, 4790, gpe(1, 1, innerSeg())) })), 36],
    ];
    for (const [name, frame, overhead] of cases) {
      const p = run(ETH, frame, { snap: 256 });
      expect(p.status, name).toBe(DecodeStatus.OK);
      const inner = lvl(p, 1);
      expect(inner.carrier >= Carrier.VXLAN && inner.carrier <= Carrier.NVGRE, name).toBe(true);
      expect(lvl(p, 0).ipTotalLength - inner.ipTotalLength, name).toBe(overhead);
    }
  });
});

describe('VXLAN-GPE (UDP 4790)', () => {
  test.each([
    ['IPv4', 1, innerSeg(), 4],
    ['IPv6', 2, innerV6Seg(), 6],
    ['Ethernet', 3, eth(0x0800, innerSeg()), 4],
  ] as const)('next protocol %s', (_name, next, inner, version) => {
    const f = eth(0x0800, ipv4({ proto: 17, payload: udp(40000, 4790, gpe(0x1234, next, inner)) }));
    const p = run(ETH, f, { snap: 256 });
    expect(p.status).toBe(DecodeStatus.OK);
    expect(p.levelCount).toBe(2);
    const i = lvl(p, 1);
    expect(i.carrier).toBe(Carrier.VXLAN_GPE);
    expect(i.vni).toBe(0x1234);
    expect(i.tunnelPort).toBe(4790);
    expect(i.carrierLength).toBe(8);
    expect(i.ipVersion).toBe(version);
    expect(i.ethOffset >= 0).toBe(next === 3);
    expect(i.dstPort).toBe(5201);
  });

  test('P clear: Ethernet as in VXLAN; NSH: the level ends quietly; version 1: UNSUPPORTED; cut: TRUNCATED', () => {
    const plain = run(
      ETH,
      eth(0x0800, ipv4({ proto: 17, payload: udp(1, 4790, gpe(7, null, eth(0x0800, innerSeg()))) })),
    );
    expect(plain.status).toBe(DecodeStatus.OK);
    expect(lvl(plain, 1).ipVersion).toBe(4);
    const nsh = run(
      ETH,
      eth(0x0800, ipv4({ proto: 17, payload: udp(1, 4790, gpe(7, 4, new Uint8Array(40))) })),
    );
    expect(nsh.status).toBe(DecodeStatus.OK);
    expect(nsh.levelCount).toBe(1);
    const v1 = run(ETH, eth(0x0800, ipv4({ proto: 17, payload: udp(1, 4790, gpe(7, 1, innerSeg(), 1)) })));
    expect(v1.status).toBe(DecodeStatus.UNSUPPORTED);
    const f = eth(0x0800, ipv4({ proto: 17, payload: udp(1, 4790, gpe(7, 1, innerSeg())) }));
    expect(run(ETH, f, { snap: 46 }).status).toBe(DecodeStatus.TRUNCATED);
  });
});

describe('tunnel ports', () => {
  afterEach(() => setTunnelPorts());

  test('custom VXLAN and Geneve ports decode once configured; defaults stay', () => {
    const vx = eth(0x0800, ipv4({ proto: 17, payload: udp(1, 9999, vxlan(42, eth(0x0800, innerSeg()))) }));
    const gen = eth(
      0x0800,
      ipv4({
        proto: 17,
        payload: udp(1, 7777, cat(new Uint8Array([0, 0]), be16(0x0800), be32(43 << 8), innerSeg())),
      }),
    );
    expect(run(ETH, vx).levelCount).toBe(1);
    expect(run(ETH, gen).levelCount).toBe(1);
    setTunnelPorts({ vxlan: [9999], geneve: [7777] });
    const a = run(ETH, vx);
    expect(lvl(a, 1).carrier).toBe(Carrier.VXLAN);
    expect(lvl(a, 1).vni).toBe(42);
    expect(lvl(a, 1).tunnelPort).toBe(9999);
    const b = run(ETH, gen);
    expect(lvl(b, 1).carrier).toBe(Carrier.GENEVE);
    expect(lvl(b, 1).vni).toBe(43);
    const std = eth(0x0800, ipv4({ proto: 17, payload: udp(1, 4789, vxlan(1, eth(0x0800, innerSeg()))) }));
    expect(lvl(run(ETH, std), 1).carrier).toBe(Carrier.VXLAN);
    setTunnelPorts();
    expect(run(ETH, vx).levelCount).toBe(1);
  });
});
