import { describe, expect, test } from 'vitest';
import { DecodeStatus } from '../../src/decode/packet.js';
import { be16, be32, cat, hex, ipv4, ipv6, lvl, run, udp } from './helpers.js';

const v4 = () => ipv4({ proto: 17, payload: udp(1000, 53, new Uint8Array(4)) });
const v6 = () => ipv6(17, udp(1000, 53, new Uint8Array(4)));

function sll(packetType: number, protocol: number): Uint8Array {
  return cat(be16(packetType), be16(1), be16(6), hex('020000000001 0000'), be16(protocol));
}

function sll2(protocol: number, ifIndex: number, packetType: number): Uint8Array {
  return cat(
    be16(protocol),
    be16(0),
    be32(ifIndex),
    be16(1),
    new Uint8Array([packetType, 6]),
    hex('020000000001 0000'),
  );
}

describe('Linux cooked v1 (113)', () => {
  test.each([
    [0, 1],
    [1, 1],
    [2, 1],
    [3, 1],
    [4, 2],
    [7, 0],
  ])('packet type %i -> direction %i', (type, dir) => {
    const p = run(113, cat(sll(type, 0x0800), v4()));
    expect(p.status).toBe(DecodeStatus.OK);
    expect(p.direction).toBe(dir);
    expect(lvl(p, 0).ipOffset).toBe(16);
    expect(lvl(p, 0).ethOffset).toBe(-1);
    expect(lvl(p, 0).dstPort).toBe(53);
  });

  test('VLAN tag after the cooked header, IPv6, truncation', () => {
    const p = run(113, cat(sll(4, 0x8100), be16(42), be16(0x86dd), v6()));
    expect(p.status).toBe(DecodeStatus.OK);
    expect(lvl(p, 0).vlanOuter).toBe(42);
    expect(lvl(p, 0).ipVersion).toBe(6);
    expect(run(113, cat(sll(0, 0x0800), v4()), { snap: 12 }).status).toBe(DecodeStatus.TRUNCATED);
  });
});

describe('Linux cooked v2 (276)', () => {
  test('protocol, interface index, packet type', () => {
    const p = run(276, cat(sll2(0x86dd, 7, 4), v6()));
    expect(p.status).toBe(DecodeStatus.OK);
    expect(p.ifIndex).toBe(7);
    expect(p.direction).toBe(2);
    expect(p.etherType).toBe(0x86dd);
    expect(lvl(p, 0).ipOffset).toBe(20);
    const q = run(276, cat(sll2(0x0800, 3, 0), v4()));
    expect(q.direction).toBe(1);
    expect(q.ifIndex).toBe(3);
    expect(run(276, sll2(0x0800, 3, 0).subarray(0, 19)).status).toBe(DecodeStatus.MALFORMED);
  });
});

describe('BSD null / loop (0, 108)', () => {
  test.each([
    ['host order AF_INET', hex('02000000'), 0x0800],
    ['network order AF_INET', hex('00000002'), 0x0800],
    ['AF_INET6 24', hex('18000000'), 0x86dd],
    ['AF_INET6 28 network order', hex('0000001c'), 0x86dd],
    ['AF_INET6 30', hex('1e000000'), 0x86dd],
  ])('%s', (_name, hdr, et) => {
    for (const lt of [0, 108]) {
      const p = run(lt, cat(hdr, et === 0x0800 ? v4() : v6()));
      expect(p.status).toBe(DecodeStatus.OK);
      expect(p.etherType).toBe(et);
      expect(lvl(p, 0).ipOffset).toBe(4);
      expect(lvl(p, 0).dstPort).toBe(53);
    }
  });

  test('unknown family: OK, not IP', () => {
    const p = run(0, cat(hex('07000000'), new Uint8Array(20)));
    expect(p.status).toBe(DecodeStatus.OK);
    expect(p.levelCount).toBe(0);
  });
});

describe('raw IP (101, 228, 229) and unknown link types', () => {
  test('raw picks the version from the first nibble', () => {
    expect(lvl(run(101, v4()), 0).ipVersion).toBe(4);
    expect(lvl(run(101, v6()), 0).ipVersion).toBe(6);
    expect(run(101, hex('50 00')).status).toBe(DecodeStatus.MALFORMED);
    expect(lvl(run(228, v4()), 0).ipOffset).toBe(0);
    expect(lvl(run(229, v6()), 0).ipVersion).toBe(6);
    expect(run(229, v4()).status).toBe(DecodeStatus.MALFORMED);
  });

  test('unsupported link type', () => {
    const p = run(147, v4());
    expect(p.status).toBe(DecodeStatus.UNSUPPORTED);
    expect(p.levelCount).toBe(0);
  });
});
