// Decoding the lab recordings: expectations come from each scenario's topology.json.
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { decodeFrame } from '../../src/decode/decode.js';
import { Carrier, createPacket, DecodeStatus, type Level, type Packet } from '../../src/decode/packet.js';
import { type Capture, FIXTURES, knobs, lvl, readPcap, readPcapng, SAMPLES } from './helpers.js';

const IPERF_PORT = 5201;
const VXLAN_OVERHEAD_V4 = 50; // outer Ethernet-less: IPv4 20 + UDP 8 + VXLAN 8 + inner Ethernet 14

function each(cap: Capture, fn: (p: Packet, index: number) => void): void {
  const p = createPacket();
  cap.records.forEach((r, i) => {
    decodeFrame(cap.linkType, r.data, r.capturedLength, r.originalLength, p);
    fn(p, i);
  });
}

function innerTcpToIperf(p: Packet): Level | null {
  for (let i = 0; i < p.levelCount; i++) {
    const l = lvl(p, i);
    if (l.protocol === 6 && l.l4Offset >= 0 && (l.dstPort === IPERF_PORT || l.srcPort === IPERF_PORT))
      return l;
  }
  return null;
}

describe('lab captures', () => {
  test.each(['jumbo-underlay', 'guest-tso-off', 'nic-tunnel-tso', 'pmtu-underlay'])(
    '%s host1-phy0: every iperf3 frame is outer IPv4/UDP/VXLAN + inner TCP, all OK',
    (scenario) => {
      const k = knobs(scenario);
      const cap = readPcap(join(SAMPLES, scenario, 'host1-phy0.pcap'));
      let data = 0;
      each(cap, (p) => {
        expect(p.status).toBe(DecodeStatus.OK);
        const t = innerTcpToIperf(p);
        if (t === null || t.payloadLength <= 0) return;
        data++;
        expect(p.levelCount).toBe(2);
        const o = lvl(p, 0);
        expect(o.ipVersion).toBe(4);
        expect(o.protocol).toBe(17);
        expect(o.dstPort).toBe(4789);
        const i = lvl(p, 1);
        expect(i).toBe(t);
        expect(i.carrier).toBe(Carrier.VXLAN);
        expect(i.vni).toBe(k.vni);
        expect(i.tunnelPort).toBe(4789);
        expect(i.ethOffset).toBe(o.payloadOffset + 8);
        expect(t.dstPort === IPERF_PORT || t.srcPort === IPERF_PORT).toBe(true);
        // the outer datagram carries the inner one plus the 50-byte VXLAN overhead
        expect(o.ipTotalLength).toBe(i.ipTotalLength + VXLAN_OVERHEAD_V4);
      });
      expect(data).toBeGreaterThan(50);
    },
  );

  test('guest eth0: TSO super-frames decode with their full declared length', () => {
    const cap = readPcap(join(SAMPLES, 'jumbo-underlay', 'guest1-eth0.pcap'));
    const k = knobs('jumbo-underlay');
    let maxPayload = 0;
    each(cap, (p) => {
      expect(p.status).toBe(DecodeStatus.OK);
      const t = innerTcpToIperf(p);
      if (t !== null && t.payloadLength > maxPayload) maxPayload = t.payloadLength;
    });
    // super-frames are larger than the overlay MTU: only the snap length's worth was captured
    expect(maxPayload).toBeGreaterThan(k.overlayMtu);
  });

  test('fragmenting-underlay phy0: first fragments decode VXLAN, later ones have no L4', () => {
    const k = knobs('fragmenting-underlay');
    const cap = readPcap(join(SAMPLES, 'fragmenting-underlay', 'host1-phy0.pcap'));
    let firsts = 0;
    let laters = 0;
    let laterOffset = -1;
    each(cap, (p) => {
      expect(p.status).toBe(DecodeStatus.OK);
      if (p.levelCount === 0) return;
      const o = lvl(p, 0);
      if (!o.isFragment) return;
      if (o.fragmentOffset === 0) {
        firsts++;
        expect(o.moreFragments).toBe(true);
        expect(o.ipTotalLength).toBeLessThanOrEqual(k.underlayMtu);
        expect(o.udpLength).toBeGreaterThan(o.l4Length); // the UDP datagram goes on
        expect(p.levelCount).toBe(2);
        expect(lvl(p, 1).vni).toBe(k.vni);
        expect(lvl(p, 1).ipVersion).toBe(4);
      } else {
        laters++;
        expect(o.l4Offset).toBe(-1);
        expect(p.levelCount).toBe(1);
        laterOffset = o.fragmentOffset;
      }
    });
    expect(firsts).toBeGreaterThan(100);
    expect(laters).toBeGreaterThan(100);
    // the first fragment's payload fills the underlay MTU, rounded down to 8 bytes
    expect(laterOffset).toBe((k.underlayMtu - 20) & ~7);
  });

  test.each([
    [
      'samples/pmtu-underlay/guest1-eth0.pcap',
      () => readPcap(join(SAMPLES, 'pmtu-underlay', 'guest1-eth0.pcap')),
    ],
    ['test/fixtures/pmtu-guest1-eth0.pcapng', () => readPcapng(join(FIXTURES, 'pmtu-guest1-eth0.pcapng'))],
  ])('%s: ICMP need-to-frag with MTU underlayMtu - 50 and a quoted TCP level', (_n, load) => {
    const k = knobs('pmtu-underlay');
    let seen = 0;
    each(load(), (p) => {
      expect(p.status).toBe(DecodeStatus.OK);
      if (p.levelCount === 0) return;
      const o = lvl(p, 0);
      if (o.protocol !== 1 || o.icmpType !== 3) return;
      seen++;
      expect(o.icmpCode).toBe(4);
      expect(o.icmpMtu).toBe(k.underlayMtu - 50);
      expect(p.levelCount).toBe(2);
      const q = lvl(p, 1);
      expect(q.carrier).toBe(Carrier.ICMP_QUOTE);
      expect(q.protocol).toBe(6);
      expect(q.dstPort).toBe(IPERF_PORT);
      expect(q.ipTotalLength).toBeGreaterThan(o.icmpMtu);
    });
    expect(seen).toBeGreaterThan(0);
  });

  test('ipv6-jumbo-underlay phy0: IPv6 outer, VXLAN inner', () => {
    const k = knobs('ipv6-jumbo-underlay');
    expect(k.underlay).toBe('ipv6');
    let n = 0;
    each(readPcap(join(SAMPLES, 'ipv6-jumbo-underlay', 'host1-phy0.pcap')), (p) => {
      expect(p.status).toBe(DecodeStatus.OK);
      const t = innerTcpToIperf(p);
      if (t === null) return;
      n++;
      expect(p.levelCount).toBe(2);
      expect(lvl(p, 0).ipVersion).toBe(6);
      expect(lvl(p, 0).dstPort).toBe(4789);
      expect(lvl(p, 1).vni).toBe(k.vni);
      expect(lvl(p, 0).ipTotalLength).toBe(40 + 8 + 8 + 14 + t.ipTotalLength);
    });
    expect(n).toBeGreaterThan(50);
  });

  test('geneve-jumbo-underlay phy0: Geneve with 8 bytes of options', () => {
    const k = knobs('geneve-jumbo-underlay');
    expect(k.encapsulation).toBe('geneve');
    let n = 0;
    each(readPcap(join(SAMPLES, 'geneve-jumbo-underlay', 'host1-phy0.pcap')), (p) => {
      expect(p.status).toBe(DecodeStatus.OK);
      const t = innerTcpToIperf(p);
      if (t === null) return;
      n++;
      const i = lvl(p, 1);
      expect(i.carrier).toBe(Carrier.GENEVE);
      expect(i.tunnelPort).toBe(6081);
      expect(i.geneveOptionsLength).toBe(8);
      expect(i.vni).toBe(k.vni);
      expect(lvl(p, 0).ipTotalLength).toBe(VXLAN_OVERHEAD_V4 + 8 + t.ipTotalLength);
    });
    expect(n).toBeGreaterThan(50);
  });
});
