import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { expectSoftwareGsoAtNic, hop, loadScenario, segmentSize } from './helpers/lab-signatures.js';
import { max, mode } from './helpers/lab-summary.js';

const samples = join(import.meta.dirname, '..', 'samples');

describe('committed lab samples keep their signatures', () => {
  it('jumbo-underlay: 65,160-byte super-frames up to vxlan, 1,448 on the NIC, GRO on the receiver', () => {
    const dir = join(samples, 'jumbo-underlay');
    expectSoftwareGsoAtNic(dir);
    const { hops } = loadScenario(dir);
    expect(max(hop(hops, 'guest1-guest').dataPayloads)).toBe(65160);
    expect(mode(hop(hops, 'host1-physical').dataPayloads)).toBe(1448);
    expect(max(hop(hops, 'host2-vxlan').dataPayloads)).toBe(65160);
    expect([...hop(hops, 'host1-physical').tunnelPorts]).toEqual([4789]);
  });

  it('fragmenting-underlay: outer packets fragment into 1,396 + 174 bytes', () => {
    const { topology, hops } = loadScenario(join(samples, 'fragmenting-underlay'));
    const phy = hop(hops, 'host1-physical');
    const guest = hop(hops, 'guest1-guest');
    const seg = segmentSize(guest);
    const firsts = phy.fragments.filter(([, off, mf]) => off === 0 && mf);
    const seconds = phy.fragments.filter(([, off]) => off > 0);
    expect(firsts.length).toBeGreaterThan(100);
    expect(seconds.length).toBe(firsts.length);
    // First fragment fills the underlay MTU down to a multiple of 8 payload bytes.
    const mtu = topology.knobs.underlayMtu;
    const firstPayload = Math.floor((mtu - 20) / 8) * 8;
    expect(new Set(firsts.map(([len]) => len))).toEqual(new Set([firstPayload + 20]));
    // Outer IP packet: the inner frame (payload + TCP header with the options the guest's data
    // carries + inner IPv4 20 + inner Ethernet 14) + VXLAN 8 + UDP 8 + outer IPv4 20.
    const innerFrame = seg + 20 + (guest.dataOptionBytes ?? 0) + 20 + 14;
    const outerIp = innerFrame + 8 + 8 + 20;
    expect(new Set(seconds.map(([len, off]) => [len, off].join('/')))).toEqual(
      new Set([`${outerIp - firstPayload}/${firstPayload}`]),
    );
    expect([firstPayload + 20, outerIp - firstPayload]).toEqual([1396, 174]);
    expect(guest.fragNeededMtus).toHaveLength(0);
  });

  it('pmtu-underlay: ICMP need-to-frag (mtu 1350) to the guest, then 1,298-byte segments', () => {
    const { topology, hops } = loadScenario(join(samples, 'pmtu-underlay'));
    const guest = hop(hops, 'guest1-guest');
    const announced = topology.knobs.underlayMtu - 50;
    expect(guest.fragNeededMtus.length).toBeGreaterThan(0);
    expect(new Set(guest.fragNeededMtus)).toEqual(new Set([announced]));
    expect(announced).toBe(1350);
    const phy = hop(hops, 'host1-physical');
    expect(phy.fragments).toHaveLength(0);
    expect(mode(phy.dataPayloads)).toBe(announced - 20 - 20 - (guest.dataOptionBytes ?? 0));
    expect(mode(phy.dataPayloads)).toBe(1298);
  });

  it('guest-tso-off: no super-frames anywhere on the sending side', () => {
    const { hops } = loadScenario(join(samples, 'guest-tso-off'));
    const seg = segmentSize(hop(hops, 'guest1-guest'));
    for (const key of ['guest1-guest', 'host1-tap', 'host1-bridge', 'host1-vxlan', 'host1-physical']) {
      expect(max(hop(hops, key).dataPayloads), key).toBe(seg);
    }
  });

  it('nic-tunnel-tso: the physical capture still shows super-frames', () => {
    const { hops } = loadScenario(join(samples, 'nic-tunnel-tso'));
    const seg = segmentSize(hop(hops, 'guest1-guest'));
    const phy = hop(hops, 'host1-physical');
    expect(phy.tunnelPorts.size).toBeGreaterThan(0);
    expect(max(phy.dataPayloads)).toBeGreaterThan(seg);
  });

  it('geneve-jumbo-underlay: Geneve (UDP 6081) on the wire, split as in scenario 1', () => {
    const dir = join(samples, 'geneve-jumbo-underlay');
    expectSoftwareGsoAtNic(dir);
    expect([...hop(loadScenario(dir).hops, 'host1-physical').tunnelPorts]).toEqual([6081]);
  });

  it('ipv6-jumbo-underlay: VXLAN over IPv6, split as in scenario 1', () => {
    const dir = join(samples, 'ipv6-jumbo-underlay');
    expectSoftwareGsoAtNic(dir);
    expect([...hop(loadScenario(dir).hops, 'host1-physical').tunnelIpVersions]).toEqual([6]);
  });
});
