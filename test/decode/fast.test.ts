// The fast path (src/decode/fast.ts) is held to the layer-by-layer driver: for every frame it
// takes, the Packet it makes must be the driver's, field by field; every frame it declines is the
// driver's anyway. Checked on every capture under samples/ and in the shared corpus, streaming
// (one reused Packet per path, as the pipeline decodes), and on thousands of damaged variants of
// frames it takes: each one cut short, each header byte changed, lengths that lie.
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Frame } from '../../src/capture/frame.js';
import { readCapture } from '../../src/capture/read.js';
import {
  decodeFrameAt,
  decodeFrameByLayersAt,
  decodeIpAt,
  decodeIpByLayersAt,
} from '../../src/decode/decode.js';
import { decodeCommonDatagram, decodeCommonFrame } from '../../src/decode/fast.js';
import { Carrier, createPacket, type Packet } from '../../src/decode/packet.js';
import {
  be16,
  be32,
  cat,
  eth,
  geneve,
  hex,
  ipv4,
  ipv6,
  readPcap,
  SAMPLES,
  tcp,
  udp,
  vxlan,
} from './helpers.js';

const CORPUS = join(import.meta.dirname, '..', '..', '..', 'shared', 'corpus');

function captures(): string[] {
  const out: string[] = [];
  for (const scenario of readdirSync(SAMPLES)) {
    const d = join(SAMPLES, scenario);
    for (const f of readdirSync(d)) if (/\.pcap(ng)?$/.test(f)) out.push(join(d, f));
  }
  if (existsSync(CORPUS))
    for (const f of readdirSync(CORPUS)) if (/\.pcap(ng)?(\.gz)?$/.test(f)) out.push(join(CORPUS, f));
  return out.sort();
}

/** Every field of the packet and of its decoded levels, except the serial (it counts decodes). */
function decoded(p: Packet): Record<string, unknown> {
  const { levels, serial: _serial, ...rest } = p;
  return { ...rest, levels: levels.slice(0, p.levelCount).map((level) => ({ ...level })) };
}

interface Tally {
  frames: number;
  fast: number;
}

/** Decodes one frame both ways; returns whether the fast path took it. */
function compareOne(
  linkType: number,
  data: Uint8Array,
  start: number,
  capturedLength: number,
  originalLength: number,
  viaFast: Packet,
  viaLayers: Packet,
  where: string,
): boolean {
  decodeFrameAt(linkType, data, start, capturedLength, originalLength, viaFast);
  decodeFrameByLayersAt(linkType, data, start, capturedLength, originalLength, viaLayers);
  const a = decoded(viaFast);
  const b = decoded(viaLayers);
  if (JSON.stringify(a) !== JSON.stringify(b)) expect(a, where).toEqual(b);
  // Asked again on a scratch packet: did the fast path take it?
  return decodeCommonFrame(linkType, data, start, capturedLength, originalLength, createPacket());
}

/** Each of the first `limit` bytes of `original` set, one at a time, to eight values that matter to a decoder. */
function eachHeaderByteChanged(
  original: Uint8Array,
  limit: number,
  check: (bytes: Uint8Array, what: string) => void,
): void {
  for (let at = 0; at < Math.min(original.length, limit); at++) {
    const was = original[at] as number;
    for (const value of [
      0x00,
      0xff,
      was ^ 0x01,
      was ^ 0x08,
      was ^ 0x10,
      was ^ 0x40,
      was ^ 0x80,
      (was + 1) & 0xff,
    ]) {
      const bytes = new Uint8Array(original);
      bytes[at] = value;
      check(bytes, `byte ${at} = ${value}`);
    }
  }
}

/** A packet as fragments.ts hands it to decodeIpAt for a rebuilt datagram: capture fields set, no level yet. */
function forDatagram(p: Packet, end: number): Packet {
  p.status = 0;
  p.problem = null;
  p.problemOffset = -1;
  p.linkType = 1;
  p.capturedLength = end;
  p.capturedEnd = end;
  p.originalLength = end;
  p.direction = 0;
  p.ifIndex = -1;
  p.etherType = 0x0800;
  p.levelCount = 0;
  return p;
}

/** Decodes one IP datagram (data[offset, end)) both ways, as decodeIpAt does a rebuilt one; returns whether the fast path took it. */
function compareDatagram(
  data: Uint8Array,
  offset: number,
  end: number,
  viaFast: Packet,
  viaLayers: Packet,
  where: string,
): boolean {
  decodeIpAt(data, offset, end, forDatagram(viaFast, end), Carrier.REASSEMBLED);
  decodeIpByLayersAt(data, offset, end, forDatagram(viaLayers, end), Carrier.REASSEMBLED);
  const a = decoded(viaFast);
  const b = decoded(viaLayers);
  if (JSON.stringify(a) !== JSON.stringify(b)) expect(a, where).toEqual(b);
  return decodeCommonDatagram(data, offset, end, forDatagram(createPacket(), end), Carrier.REASSEMBLED);
}

describe('the fast path decodes as the layer-by-layer driver does', () => {
  it('on every frame of every capture under samples/ and in the corpus', async () => {
    const tally: Tally = { frames: 0, fast: 0 };
    const taken: string[] = [];
    for (const path of captures()) {
      const viaFast = createPacket();
      const viaLayers = createPacket();
      let fastHere = 0;
      await readCapture(path, {
        onInterface() {},
        onProblem() {},
        onFrame(frame: Frame) {
          tally.frames++;
          const fast = compareOne(
            frame.linkType,
            frame.buffer,
            frame.dataOffset,
            frame.capturedLength,
            frame.originalLength,
            viaFast,
            viaLayers,
            `${path} frame ${frame.number}`,
          );
          if (fast) fastHere++;
        },
      });
      tally.fast += fastHere;
      if (fastHere > 0) taken.push(path);
    }
    // It bites: most lab frames take the fast path, and so do frames of several captures.
    expect(tally.frames).toBeGreaterThan(20_000);
    expect(tally.fast).toBeGreaterThan(tally.frames / 2);
    expect(taken.length).toBeGreaterThan(20);
  });

  it('on the lab frames as tcpdump -i any records them (Linux cooked v2 instead of Ethernet)', () => {
    // The lab's Ethernet frames with their link header swapped for a cooked v2 one: real tunnelled
    // and guest traffic through the cooked-header entry of both decoders.
    let taken = 0;
    let frames = 0;
    for (const scenario of ['jumbo-underlay', 'geneve-jumbo-underlay', 'ipv6-jumbo-underlay']) {
      for (const file of ['host1-phy0.pcap', 'guest1-eth0.pcap']) {
        const cap = readPcap(join(SAMPLES, scenario, file));
        const viaFast = createPacket();
        const viaLayers = createPacket();
        cap.records.forEach((r, i) => {
          if (r.capturedLength < 14) return;
          const protocol = ((r.data[12] as number) << 8) | (r.data[13] as number);
          const cooked = cat(
            be16(protocol),
            be16(0),
            be32(3 + (i % 2)),
            be16(1),
            new Uint8Array([i % 5, 6]),
            r.data.subarray(6, 12),
            new Uint8Array(2),
            r.data.subarray(14, r.capturedLength),
          );
          frames++;
          const wire = r.originalLength + 6;
          if (
            compareOne(
              276,
              cooked,
              0,
              cooked.length,
              wire,
              viaFast,
              viaLayers,
              `${scenario}/${file} #${i + 1}`,
            )
          )
            taken++;
        });
      }
    }
    expect(frames).toBeGreaterThan(3000);
    expect(taken).toBeGreaterThan(frames / 2);
  });

  // Frames the fast path takes: VXLAN with inner TCP (timestamps) and inner UDP, plain TCP without
  // options and with a handshake's or a loss's options, plain UDP to a port that is no tunnel's.
  const timestamps = hex('01 01 08 0a 00 00 00 7b 00 00 01 c8');
  // Linux's SYN: MSS 1460, SACK permitted, timestamps, NOP, window scale 7.
  const synOptions = hex('02 04 05 b4 04 02 08 0a 00 00 00 7b 00 00 00 00 01 03 03 07');
  // An ACK after a loss: NOP, NOP, timestamps, NOP, NOP, two SACK blocks.
  const sackOptions = hex(
    '01 01 08 0a 00 00 00 7b 00 00 01 c8 01 01 05 12 00 00 10 00 00 00 20 00 00 00 30 00 00 00 40 00',
  );
  const innerTcp = eth(0x0800, ipv4({ proto: 6, payload: tcp(41234, 5201, timestamps, new Uint8Array(40)) }));
  const innerUdp = eth(0x0800, ipv4({ proto: 17, payload: udp(5353, 5353, new Uint8Array(30)) }));
  const overVxlan = (inner: Uint8Array) =>
    eth(0x0800, ipv4({ proto: 17, payload: udp(50000, 4789, vxlan(97, inner)) }));
  // Linux cooked v2 (tcpdump -i any): protocol, reserved, interface index, ARPHRD, packet type, address.
  const sll2 = (payload: Uint8Array) =>
    cat(
      be16(0x0800),
      be16(0),
      be32(0x80000007),
      be16(1),
      new Uint8Array([4, 6]),
      hex('020000000001 0000'),
      payload,
    );
  // Geneve as OVN sends it: one 8-byte option (class 0x0102, type 0x80, 4 bytes of data).
  const ovnOption = hex('0102 80 01 00 01 00 02');
  const plainTcp = ipv4({ proto: 6, df: true, payload: tcp(1, 2, new Uint8Array(0), new Uint8Array(9)) });
  const frames: Array<[string, number, Uint8Array]> = [
    ['VXLAN, inner TCP', 1, overVxlan(innerTcp)],
    ['VXLAN, inner UDP', 1, overVxlan(innerUdp)],
    [
      'Geneve with an option, inner TCP',
      1,
      eth(0x0800, ipv4({ proto: 17, payload: udp(50000, 6081, geneve(5, 0x6558, ovnOption, innerTcp)) })),
    ],
    ['TCP', 1, eth(0x0800, plainTcp)],
    ['TCP in an 802.1Q tag', 1, eth(0x0800, plainTcp, [[0x8100, 0x0123]])],
    [
      'VXLAN in 802.1ad Q-in-Q tags',
      1,
      eth(0x0800, ipv4({ proto: 17, payload: udp(50000, 4789, vxlan(97, innerTcp)) }), [
        [0x88a8, 0x0064],
        [0x8100, 0x0123],
      ]),
    ],
    [
      // The first fragment of a VXLAN datagram: its UDP header, and the inner IP header, say the
      // whole datagram's length, longer than the fragment (the driver's soft end).
      'first IPv4 fragment of a VXLAN datagram',
      1,
      eth(
        0x0800,
        ipv4({
          proto: 17,
          mf: true,
          id: 0x4242,
          payload: udp(
            50000,
            4789,
            vxlan(
              97,
              eth(0x0800, ipv4({ proto: 6, payload: tcp(41234, 5201, timestamps, new Uint8Array(1400)) })),
            ),
          ).subarray(0, 104),
        }),
      ),
    ],
    [
      'a later IPv4 fragment',
      1,
      eth(0x0800, ipv4({ proto: 17, fragOffset: 1480, id: 0x4242, payload: new Uint8Array(64) })),
    ],
    [
      'TCP under three stacked tags (0x9100, 0x88a8, 0x8100)',
      1,
      eth(0x0800, plainTcp, [
        [0x9100, 0x0001],
        [0x88a8, 0x0064],
        [0x8100, 0x0123],
      ]),
    ],
    [
      'TCP handshake options',
      1,
      eth(0x0800, ipv4({ proto: 6, df: true, payload: tcp(41234, 5201, synOptions, new Uint8Array(0)) })),
    ],
    [
      'VXLAN, inner TCP with SACK blocks',
      1,
      overVxlan(eth(0x0800, ipv4({ proto: 6, payload: tcp(5201, 41234, sackOptions, new Uint8Array(0)) }))),
    ],
    ['UDP', 1, eth(0x0800, ipv4({ proto: 17, payload: udp(1000, 2000, new Uint8Array(12)) }))],
    ['Linux cooked v2, TCP', 276, sll2(plainTcp)],
    ['IPv6, TCP with timestamps', 1, eth(0x86dd, ipv6(6, tcp(443, 50123, timestamps, new Uint8Array(20))))],
    [
      'IPv6 underlay, VXLAN, inner IPv6 UDP',
      1,
      eth(
        0x86dd,
        ipv6(17, udp(50000, 4789, vxlan(7, eth(0x86dd, ipv6(17, udp(53, 53, new Uint8Array(16))))))),
      ),
    ],
    [
      'Linux cooked v2, VXLAN',
      276,
      sll2(ipv4({ proto: 17, payload: udp(50000, 4789, vxlan(97, innerTcp)) })),
    ],
  ];

  it.each(frames)(
    '%s: cut short at every length, every header byte changed, lying lengths',
    (_name, linkType, frame) => {
      const viaFast = createPacket();
      const viaLayers = createPacket();
      const original = new Uint8Array(frame);
      expect(decodeCommonFrame(linkType, original, 0, original.length, original.length, createPacket())).toBe(
        true,
      );
      let taken = 0;
      let declined = 0;
      const check = (bytes: Uint8Array, start: number, captured: number, wire: number, what: string) => {
        if (compareOne(linkType, bytes, start, captured, wire, viaFast, viaLayers, what)) taken++;
        else declined++;
      };
      // Cut by the snap length at every length (wire length whole), and frames shorter on the wire.
      for (let cut = 0; cut <= original.length; cut++) {
        check(original, 0, cut, original.length, `cut at ${cut}`);
        check(original.subarray(0, cut), 0, cut, cut, `${cut} bytes on the wire`);
      }
      // Every byte of the headers, to values that matter to a decoder.
      eachHeaderByteChanged(original, 140, (bytes, what) =>
        check(bytes, 0, bytes.length, bytes.length, what),
      );
      // Inside a larger buffer (the reader's chunk), with a wire length that differs from the bytes.
      const chunk = cat(new Uint8Array(7), original, new Uint8Array(5));
      for (const wire of [0, original.length - 1, original.length + 100, 65_535])
        check(chunk, 7, original.length, wire, `in a chunk, wire length ${wire}`);
      // Both kinds occur: the comparison covers what the fast path takes and what it declines.
      expect(taken).toBeGreaterThan(100);
      expect(declined).toBeGreaterThan(100);
    },
  );

  it('on the IP datagram of every Ethernet frame of the samples and the corpus, as a rebuilt datagram', async () => {
    // decodeIpAt decodes a datagram rebuilt from fragments: the same shapes without a link layer.
    let datagrams = 0;
    let taken = 0;
    const viaFast = createPacket();
    const viaLayers = createPacket();
    const probe = createPacket();
    for (const path of captures()) {
      await readCapture(path, {
        onInterface() {},
        onProblem() {},
        onFrame(frame: Frame) {
          decodeFrameByLayersAt(
            frame.linkType,
            frame.buffer,
            frame.dataOffset,
            frame.capturedLength,
            frame.originalLength,
            probe,
          );
          const level = probe.levels[0];
          if (probe.levelCount === 0 || level === undefined || level.ipVersion === 0 || level.ipOffset < 0)
            return;
          const end = frame.dataOffset + frame.capturedLength;
          if (level.ipOffset >= end) return;
          datagrams++;
          if (
            compareDatagram(
              frame.buffer,
              level.ipOffset,
              end,
              viaFast,
              viaLayers,
              `${path} frame ${frame.number}`,
            )
          )
            taken++;
        },
      });
    }
    expect(datagrams).toBeGreaterThan(20_000);
    expect(taken).toBeGreaterThan(datagrams / 2);
  });

  it('leaves a datagram appended after the levels a packet already holds to the driver', () => {
    // decodeIpAt appends: the fast path makes only a packet's first levels.
    const [, , frame] = frames[0] as [string, number, Uint8Array];
    const viaFast = createPacket();
    const viaLayers = createPacket();
    for (const p of [viaFast, viaLayers]) decodeFrameByLayersAt(1, frame, 0, frame.length, frame.length, p);
    const ip = (viaFast.levels[0] as { ipOffset: number }).ipOffset;
    const before = viaFast.levelCount;
    decodeIpAt(frame, ip, frame.length, viaFast, Carrier.REASSEMBLED);
    decodeIpByLayersAt(frame, ip, frame.length, viaLayers, Carrier.REASSEMBLED);
    expect(viaFast.levelCount).toBeGreaterThan(before);
    expect(decoded(viaFast)).toEqual(decoded(viaLayers));
  });

  it.each(frames.filter(([, linkType]) => linkType === 1))(
    '%s, as a rebuilt datagram: cut short at every length, every header byte changed',
    (_name, _linkType, frame) => {
      // The frame's IP datagram alone (after Ethernet and any VLAN tags), as the reassembler hands it on.
      const probe = createPacket();
      decodeFrameByLayersAt(1, frame, 0, frame.length, frame.length, probe);
      const original = frame.slice((probe.levels[0] as { ipOffset: number }).ipOffset);
      const viaFast = createPacket();
      const viaLayers = createPacket();
      let taken = 0;
      let declined = 0;
      const check = (bytes: Uint8Array, offset: number, end: number, what: string) => {
        if (compareDatagram(bytes, offset, end, viaFast, viaLayers, what)) taken++;
        else declined++;
      };
      // A prefix, as a datagram rebuilt from snap-cut fragments is (its length field says more).
      for (let cut = 0; cut <= original.length; cut++) check(original, 0, cut, `prefix of ${cut}`);
      eachHeaderByteChanged(original, 120, (bytes, what) => check(bytes, 0, bytes.length, what));
      // Inside a larger buffer, and with bytes past its end that are not its own.
      const chunk = cat(new Uint8Array(9), original, new Uint8Array(6));
      check(chunk, 9, 9 + original.length, 'in a chunk');
      check(chunk, 9, chunk.length, 'with trailing bytes');
      expect(taken).toBeGreaterThan(20);
      expect(declined).toBeGreaterThan(20);
    },
  );
});
