// Seeded fuzzing: mutated lab frames and random bytes for every link type. The decoder must
// never throw, never report more than MAX_LEVELS levels, and never point outside the data.
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { decodeFrame, decodeIpAt } from '../../src/decode/decode.js';
import { Carrier, createPacket, MAX_LEVELS, type Packet } from '../../src/decode/packet.js';
import { hex, readPcap, rng, SAMPLES } from './helpers.js';

const OFFSET_FIELDS = [
  'carrierOffset',
  'ethOffset',
  'ipOffset',
  'srcOffset',
  'dstOffset',
  'ipv6FragmentHeaderOffset',
  'l4Offset',
  'l4ChecksumOffset',
  'payloadOffset',
] as const;

function check(p: Packet, what: string): void {
  if (p.levelCount < 0 || p.levelCount > MAX_LEVELS) throw new Error(`${what}: levelCount ${p.levelCount}`);
  if (p.status < 0 || p.status > 3) throw new Error(`${what}: status ${p.status}`);
  if (p.status !== 0 && p.problem === null) throw new Error(`${what}: status without problem`);
  if (p.problemOffset < -1 || p.problemOffset > p.capturedLength) {
    throw new Error(`${what}: problemOffset ${p.problemOffset} / ${p.capturedLength}`);
  }
  for (let i = 0; i < p.levelCount; i++) {
    const l = p.levels[i];
    if (l === undefined) throw new Error('missing level');
    for (const f of OFFSET_FIELDS) {
      const v = l[f];
      if (!Number.isInteger(v) || v < -1 || v > p.capturedLength) {
        throw new Error(`${what}: level ${i} ${f} = ${v} (captured ${p.capturedLength})`);
      }
    }
  }
}

function labFrames(): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (const [scenario, file] of [
    ['fragmenting-underlay', 'host1-phy0.pcap'],
    ['geneve-jumbo-underlay', 'host1-phy0.pcap'],
    ['ipv6-jumbo-underlay', 'host1-phy0.pcap'],
    ['pmtu-underlay', 'guest1-eth0.pcap'],
    ['pmtu-underlay', 'host1-phy0.pcap'],
    ['jumbo-underlay', 'guest1-eth0.pcap'],
  ] as const) {
    const recs = readPcap(join(SAMPLES, scenario, file)).records;
    for (let i = 0; i < recs.length; i += Math.max(1, Math.floor(recs.length / 60))) {
      const r = recs[i];
      if (r !== undefined) out.push(r.data);
    }
  }
  // a few hand-made seeds reaching GRE/NVGRE, IPv6 ext headers and SLL
  out.push(
    hex(
      '020000000002 020000000001 0800 4500 0060 0001 0000 402f 0000 0a000001 0a000002 2000 6558 00123400' +
        '020000000002 020000000001 86dd 6000 0000 0030 0040 fd000000000000000000000000000001 fd000000000000000000000000000002' +
        '2c00 0001 deadbeef 1100 0000 00000001 0001 0002 0010 0000 00000000 00000000',
    ),
  );
  return out;
}

const LINK_TYPES = [0, 1, 101, 108, 113, 228, 229, 276, 9999];

describe('fuzz', () => {
  test('mutated lab frames', () => {
    const next = rng(0x5eed);
    const p = createPacket();
    const seeds = labFrames();
    const buf = new Uint8Array(512);
    let n = 0;
    for (let round = 0; round < 6000; round++) {
      const seed = seeds[Math.floor(next() * seeds.length)] as Uint8Array;
      buf.fill(0);
      buf.set(seed.subarray(0, 512));
      let len = Math.min(seed.length, 512);
      const flips = 1 + Math.floor(next() * 6);
      for (let i = 0; i < flips; i++) {
        const at = Math.floor(next() * len);
        const mode = next();
        if (mode < 0.5) buf[at] = Math.floor(next() * 256);
        else if (mode < 0.8) buf[at] = (buf[at] as number) ^ (1 << Math.floor(next() * 8));
        else buf[at] = next() < 0.5 ? 0 : 0xff;
      }
      if (next() < 0.3) len = Math.floor(next() * (len + 1));
      const orig = next() < 0.2 ? Math.floor(next() * 70000) : len + Math.floor(next() * 2000);
      const lt = next() < 0.9 ? 1 : (LINK_TYPES[Math.floor(next() * LINK_TYPES.length)] as number);
      const view = buf.subarray(0, len);
      try {
        decodeFrame(lt, view, len, orig, p);
      } catch (e) {
        throw new Error(`round ${round}: threw ${(e as Error).message}`);
      }
      check(p, `round ${round}`);
      n++;
    }
    expect(n).toBe(6000);
  });

  test('random bytes for every link type', () => {
    const next = rng(42);
    const p = createPacket();
    const buf = new Uint8Array(300);
    for (let round = 0; round < 4000; round++) {
      const len = Math.floor(next() * 300);
      for (let i = 0; i < len; i++) buf[i] = Math.floor(next() * 256);
      // bias towards IP-looking starts so deeper decoders get exercised
      const lt = LINK_TYPES[round % LINK_TYPES.length] as number;
      if (len > 0 && next() < 0.5) buf[0] = next() < 0.5 ? 0x45 : 0x60;
      const cap = next() < 0.1 ? len + 50 : len; // a capturedLength that lies is clamped
      decodeFrame(lt, buf.subarray(0, len), cap, Math.floor(next() * 1000), p);
      check(p, `random ${round} lt ${lt}`);
    }
  });

  test('decodeIpAt on random and mutated datagrams', () => {
    const next = rng(7);
    const p = createPacket();
    const buf = new Uint8Array(400);
    for (let round = 0; round < 3000; round++) {
      const len = Math.floor(next() * 400);
      for (let i = 0; i < len; i++) buf[i] = Math.floor(next() * 256);
      if (len > 0) buf[0] = next() < 0.5 ? 0x45 : 0x60;
      if (len > 4 && next() < 0.5) {
        buf[2] = (len >> 8) & 0xff;
        buf[3] = len & 0xff;
      }
      // a fresh scratch packet, as the fragment observer prepares one
      p.status = 0;
      p.problem = null;
      p.problemOffset = -1;
      const full = next() < 0.2;
      p.levelCount = full ? MAX_LEVELS : 0;
      const end = Math.floor(next() * (len + 1));
      decodeIpAt(buf, 0, end, p, Carrier.REASSEMBLED);
      if (full) {
        expect(p.levelCount).toBe(MAX_LEVELS);
        expect(p.problem).toBe('nesting too deep');
        continue;
      }
      p.capturedLength = end;
      check(p, `ipAt ${round}`);
    }
  });
});
