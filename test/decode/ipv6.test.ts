import { describe, expect, test } from 'vitest';
import { DecodeStatus } from '../../src/decode/packet.js';
import { be32, cat, eth, hex, ipv6, lvl, run, tcp, udp } from './helpers.js';

const ETH = 1;
const seg = (n = 50) => tcp(40000, 5201, new Uint8Array(0), new Uint8Array(n));

describe('ipv6', () => {
  test('fixed header', () => {
    const ip = ipv6(6, seg());
    const p = run(ETH, eth(0x86dd, ip));
    const l = lvl(p, 0);
    expect(p.status).toBe(DecodeStatus.OK);
    expect(l.ipVersion).toBe(6);
    expect(l.ipHeaderLength).toBe(40);
    expect(l.ipTotalLength).toBe(ip.length);
    expect(l.srcOffset).toBe(22);
    expect(l.dstOffset).toBe(38);
    expect(l.ttl).toBe(64);
    expect(l.ipChecksum).toBe(-1);
    expect(l.l4Offset).toBe(54);
    expect(l.dstPort).toBe(5201);
  });

  test('hop-by-hop, routing, destination options, AH, then UDP', () => {
    const ext = cat(
      hex('2b 00 05 02 00 00 01 00'), // HBH -> routing; router alert + PadN
      hex('3c 00 00 00 00 00 00 00'), // routing -> dest opts
      hex('33 00 01 04 00 00 00 00'), // dest opts -> AH
      hex('11 01 0000 00000001 00000002'), // AH (len 1 -> 12 bytes) -> UDP
    );
    const ip = ipv6(0, cat(ext, udp(1, 53, new Uint8Array(0))));
    const p = run(ETH, eth(0x86dd, ip));
    expect(p.status).toBe(DecodeStatus.OK);
    const l = lvl(p, 0);
    expect(l.ipHeaderLength).toBe(40 + 36);
    expect(l.protocol).toBe(17);
    expect(l.l4Offset).toBe(14 + 76);
  });

  test('fragment header: first and later fragment', () => {
    const first = ipv6(44, cat(hex('06 00 0001 deadbeef'), seg()));
    let p = run(ETH, eth(0x86dd, first));
    let l = lvl(p, 0);
    expect(p.status).toBe(DecodeStatus.OK);
    expect(l.isFragment).toBe(true);
    expect(l.moreFragments).toBe(true);
    expect(l.fragmentOffset).toBe(0);
    expect(l.ipId).toBe(0xdeadbeef);
    expect(l.ipv6FragmentHeaderOffset).toBe(54);
    expect(l.protocol).toBe(6);
    expect(l.l4Offset).toBe(62);
    const later = ipv6(44, cat(hex('06 00 0578 deadbeef'), new Uint8Array(30)));
    p = run(ETH, eth(0x86dd, later));
    l = lvl(p, 0);
    expect(p.status).toBe(DecodeStatus.OK);
    expect(l.fragmentOffset).toBe(0x578);
    expect(l.moreFragments).toBe(false);
    expect(l.l4Offset).toBe(-1);
    expect(l.protocol).toBe(6);
  });

  test('jumbo option with payload length 0 -> bigTcp', () => {
    const hbh = cat(hex('06 00 c2 04'), be32(100000));
    const ip = ipv6(0, cat(hbh, seg(100)), 0);
    const p = run(ETH, eth(0x86dd, ip), { orig: 14 + 40 + 100000 });
    const l = lvl(p, 0);
    expect(p.status).toBe(DecodeStatus.OK);
    expect(l.bigTcp).toBe(true);
    expect(l.ipTotalLength).toBe(100040);
    expect(l.ipHeaderLength).toBe(48);
    expect(l.l4Length).toBe(100040 - 48);
    expect(l.dstPort).toBe(5201);
    // jumbo with a non-zero payload length lies
    const bad = ipv6(0, cat(hbh, seg(100)));
    expect(run(ETH, eth(0x86dd, bad)).status).toBe(DecodeStatus.MALFORMED);
  });

  test('payload length 0 with TCP and no option: BIG TCP derived from the frame', () => {
    const p = run(ETH, eth(0x86dd, ipv6(6, seg(20), 0)), { snap: 100, orig: 14 + 40 + 90000 });
    expect(p.status).toBe(DecodeStatus.OK);
    expect(lvl(p, 0).bigTcp).toBe(true);
    expect(lvl(p, 0).ipTotalLength).toBe(40 + 90000);
  });

  test('ESP and no-next-header stop the walk', () => {
    let p = run(ETH, eth(0x86dd, ipv6(50, new Uint8Array(24))));
    expect(p.status).toBe(DecodeStatus.OK);
    expect(lvl(p, 0).protocol).toBe(50);
    expect(lvl(p, 0).l4Offset).toBe(-1);
    p = run(ETH, eth(0x86dd, ipv6(59, new Uint8Array(0))));
    expect(p.status).toBe(DecodeStatus.OK);
    expect(lvl(p, 0).l4Offset).toBe(-1);
  });

  test('malformed and truncated', () => {
    const bad = ipv6(6, seg());
    bad[0] = 0x40;
    expect(run(ETH, eth(0x86dd, bad)).status).toBe(DecodeStatus.MALFORMED);
    // extension header longer than the payload
    const lying = ipv6(0, hex('06 05 00 00 00 00 00 00'));
    expect(run(ETH, eth(0x86dd, lying)).status).toBe(DecodeStatus.MALFORMED);
    // payload length beyond the frame
    expect(run(ETH, eth(0x86dd, ipv6(6, seg(), 500))).status).toBe(DecodeStatus.MALFORMED);
    // cut by the snap length in the fixed header and in an extension header
    const ok = ipv6(
      0,
      cat(hex('3c 02 00 00 00 00 00 00'), new Uint8Array(16), hex('06 00 00 00 00 00 00 00'), seg()),
    );
    expect(run(ETH, eth(0x86dd, ok)).status).toBe(DecodeStatus.OK);
    expect(run(ETH, eth(0x86dd, ok), { snap: 40 }).status).toBe(DecodeStatus.TRUNCATED);
    expect(run(ETH, eth(0x86dd, ok), { snap: 70 }).status).toBe(DecodeStatus.TRUNCATED);
  });
});
