import { describe, expect, test } from 'vitest';
import { DecodeStatus } from '../../src/decode/packet.js';
import { eth, hex, ipv4, lvl, run, tcp } from './helpers.js';

const ETH = 1;
const seg = () => ipv4({ proto: 6, payload: tcp(40000, 5201, new Uint8Array(0), new Uint8Array(10)) });

describe('ethernet', () => {
  test('plain Ethernet II + IPv4', () => {
    const p = run(ETH, eth(0x0800, seg()));
    expect(p.status).toBe(DecodeStatus.OK);
    expect(p.etherType).toBe(0x0800);
    expect(p.levelCount).toBe(1);
    const l = lvl(p, 0);
    expect(l.ethOffset).toBe(0);
    expect(l.vlanCount).toBe(0);
    expect(l.ipOffset).toBe(14);
    expect(l.l4Offset).toBe(34);
  });

  test('stacked 802.1ad + 802.1Q tags, and an old 0x9100 third tag', () => {
    const p = run(
      ETH,
      eth(0x0800, seg(), [
        [0x88a8, 0x0064],
        [0x8100, 0x20c8],
        [0x9100, 0x0005],
      ]),
    );
    expect(p.status).toBe(DecodeStatus.OK);
    const l = lvl(p, 0);
    expect(l.vlanCount).toBe(3);
    expect(l.vlanOuter).toBe(100);
    expect(l.vlanInner).toBe(200); // PCP bits masked off
    expect(l.ipOffset).toBe(26);
    expect(p.etherType).toBe(0x0800);
  });

  test('ARP is OK with no level and etherType set', () => {
    const arp = hex('0001 0800 0604 0001 020000000001 0a000001 000000000000 0a000002');
    const p = run(ETH, eth(0x0806, arp));
    expect(p.status).toBe(DecodeStatus.OK);
    expect(p.levelCount).toBe(0);
    expect(p.etherType).toBe(0x0806);
  });

  test('802.3 length field is not an EtherType', () => {
    const p = run(ETH, eth(0x0026, new Uint8Array(38)));
    expect(p.status).toBe(DecodeStatus.OK);
    expect(p.levelCount).toBe(0);
    expect(p.etherType).toBe(0);
  });

  test('header cut by the snap length -> TRUNCATED; a frame that is just short -> MALFORMED', () => {
    const f = eth(0x0800, seg());
    expect(run(ETH, f, { snap: 10 }).status).toBe(DecodeStatus.TRUNCATED);
    expect(run(ETH, f.subarray(0, 10)).status).toBe(DecodeStatus.MALFORMED);
    const tagged = eth(0x0800, seg(), [[0x8100, 7]]);
    const p = run(ETH, tagged, { snap: 16 });
    expect(p.status).toBe(DecodeStatus.TRUNCATED);
    expect(p.problem).toMatch(/VLAN/);
  });
});
