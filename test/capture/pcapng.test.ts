// The incremental pcapng parser: what editcap wrote from a lab capture gives the same frames as
// the classic parser on the original, whole and in random chunks; hand-built files cover two
// sections in different byte orders, IDB options (if_name, if_description, if_tsresol in both
// forms, if_tsoffset), EPB/SPB/PB, skipped NRB/ISB/DSB/custom/unknown blocks, direction flags,
// comments, lying block lengths and packets naming undeclared interfaces.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createPcapParser } from '../../src/capture/pcap.js';
import { createPcapngParser } from '../../src/capture/pcapng.js';
import { collect, frameDifference, pcapngWriter, prng, pushChunked, root } from './helpers.js';

function parseNg(bytes: Uint8Array, chunk?: () => number) {
  const c = collect();
  const parser = createPcapngParser(c.sink);
  if (chunk) pushChunked(parser, bytes, chunk);
  else {
    parser.push(bytes);
    parser.end();
  }
  return { ...c, parser };
}

describe('pcapng parser', () => {
  it('reads what editcap wrote exactly as the classic parser reads the original', () => {
    const ng = readFileSync(join(root, 'test/fixtures/pmtu-guest1-eth0.pcapng'));
    const classic = collect();
    const p = createPcapParser(classic.sink);
    p.push(readFileSync(join(root, 'samples/pmtu-underlay/guest1-eth0.pcap')));
    p.end();
    const r = parseNg(ng);
    expect(r.problems).toEqual([]);
    expect(r.parser.sections).toBe(1);
    expect(r.interfaces).toHaveLength(1);
    expect(r.interfaces[0]).toMatchObject({ interfaceId: 0, linkType: 1 });
    expect(r.frames.length).toBe(classic.frames.length);
    const strip = (f: (typeof r.frames)[number]) => ({ ...f, fileOffset: 0 });
    expect(frameDifference(r.frames.map(strip), classic.frames.map(strip))).toBeNull();
    const random = prng(42);
    for (const sizes of [() => 1, () => 1 + Math.floor(random() * 300), () => 4096]) {
      expect(frameDifference(parseNg(ng, sizes).frames, r.frames)).toBeNull();
    }
  });

  function twoSections(): Buffer {
    const a = pcapngWriter(true);
    const b = pcapngWriter(false);
    return Buffer.concat([
      a.shb([a.opt(4, Buffer.from('hand-built'))]),
      a.idb(1, [
        a.opt(2, Buffer.from('host1-phy0')),
        a.opt(3, Buffer.from('underlay NIC\0\0')),
        a.opt(9, Buffer.from([9])), // nanoseconds
      ]),
      a.block(4, Buffer.concat([Buffer.from([1, 0, 4, 0, 10, 0, 0, 1]), Buffer.alloc(4)])), // NRB
      a.epb(0, 1_700_000_000_123_456_789n, Buffer.from([1, 2, 3, 4, 5]), [
        a.opt(2, a.u32(2)),
        a.opt(1, Buffer.from('outbound super-frame')),
      ]),
      a.block(5, Buffer.concat([a.u32(0), a.u32(0), a.u32(0)])), // ISB
      a.block(10, Buffer.concat([a.u32(0x544c534b), a.u32(4), Buffer.from('keys')])), // DSB
      a.block(0x00000bad, Buffer.concat([a.u32(32473), Buffer.alloc(8, 1)])), // custom
      a.block(0x0badcafe, Buffer.alloc(16)), // unknown
      b.shb(), // big-endian second section: interface ids start again at 0
      b.idb(276, [
        b.opt(2, Buffer.from('any')),
        b.opt(9, Buffer.from([0x80 | 10])), // 2^-10 s
        b.opt(14, b.i64(10n)),
      ]),
      b.idb(113, [b.opt(9, Buffer.from([3])), b.opt(14, b.i64(-5n))], 64), // ms, 64-byte snaplen
      b.epb(0, 3n * 1024n + 512n, Buffer.from([9, 9]), [b.opt(2, b.u32(1))]),
      b.pb(1, 7_250n, Buffer.from([6, 6, 6]), [b.opt(2, b.u32(3))]),
      b.spb(5, Buffer.from([7, 7, 7, 7, 7])),
      b.spb(300, Buffer.alloc(300, 8)), // within the 262144-byte snaplen of this section's interface 0
    ]);
  }

  it.each([
    ['whole', undefined],
    ['1-byte chunks', () => 1],
    ['7-byte chunks', () => 7],
  ])('hand-built file with two sections in both byte orders (%s)', (_n, chunk) => {
    const r = parseNg(twoSections(), chunk);
    expect(r.problems).toEqual([]);
    expect(r.parser.sections).toBe(2);
    expect(r.interfaces).toEqual([
      { interfaceId: 0, linkType: 1, snaplen: 262144, name: 'host1-phy0', description: 'underlay NIC' },
      { interfaceId: 1, linkType: 276, snaplen: 262144, name: 'any', description: null },
      { interfaceId: 2, linkType: 113, snaplen: 64, name: null, description: null },
    ]);
    expect(
      r.frames.map((f) => [
        f.number,
        f.interfaceId,
        f.linkType,
        f.direction,
        f.capturedLength,
        f.originalLength,
      ]),
    ).toEqual([
      // the custom block takes number 2, as in Wireshark
      [1, 0, 1, 2, 5, 15],
      [3, 1, 276, 1, 2, 12],
      [4, 2, 113, 0, 3, 13],
      [5, 1, 276, 0, 5, 5],
      [6, 1, 276, 0, 300, 300],
    ]);
    expect(r.frames.map((f) => [f.timeSec, f.timeNs])).toEqual([
      [1_700_000_000, 123_456_789],
      [13, 500_000_000], // 3.5 s in 2^-10 units, plus if_tsoffset 10 s
      [2, 250_000_000], // 7.25 s in ms, if_tsoffset -5 s
      [0, 0],
      [0, 0],
    ]);
    expect(r.frames.map((f) => f.comment)).toEqual(['outbound super-frame', null, null, null, null]);
    expect(r.frames.map((f) => [...f.data.subarray(0, 5)])).toEqual([
      [1, 2, 3, 4, 5],
      [9, 9],
      [6, 6, 6],
      [7, 7, 7, 7, 7],
      [8, 8, 8, 8, 8],
    ]);
  });

  it('cuts simple packets to the snaplen of interface 0', () => {
    const w = pcapngWriter(true);
    const r = parseNg(Buffer.concat([w.shb(), w.idb(1, [], 4), w.spb(10, Buffer.alloc(10, 1))]));
    expect(r.frames.map((f) => [f.capturedLength, f.originalLength, f.data.length])).toEqual([[4, 10, 4]]);
  });

  const w = pcapngWriter(true);
  const head = Buffer.concat([w.shb(), w.idb(1, [])]); // 28 + 20 bytes

  it.each([
    ['a length beyond the end of its block', 4000, /claims a length 4036 that runs past the end of the file/],
    ['a length that is not a multiple of 4', 2, /impossible length 38/],
    ['a length below 12', -30, /impossible length 6/],
    ['a length above the cap', 0x7fff0000, /impossible length/],
  ])('resynchronises after %s: the damaged block alone is lost, in one line', (_n, lie, message) => {
    const file = Buffer.concat([
      head,
      w.epb(0, 1n, Buffer.from([1])),
      w.epb(0, 2n, Buffer.from([2]), [], lie),
      w.epb(0, 3n, Buffer.from([3])),
    ]);
    for (const chunk of [undefined, () => 5]) {
      const r = parseNg(file, chunk);
      expect(r.frames.map((f) => f.data[0])).toEqual([1, 3]);
      expect(r.problems).toEqual([
        expect.objectContaining({ code: 'capture.malformed', frame: 2, offset: 48 + 36 }),
      ]);
      expect(r.problems[0]?.message).toMatch(message);
      expect(r.problems[0]?.message).toMatch(/skipped 36 bytes, reading resumes at offset 120/);
    }
  });

  it('reports a last block cut off by the end of the file as truncated, not as a lie', () => {
    const file = Buffer.concat([head, w.epb(0, 1n, Buffer.from([1])), w.epb(0, 2n, Buffer.alloc(100, 2))]);
    const r = parseNg(file.subarray(0, file.length - 20));
    expect(r.frames).toHaveLength(1);
    expect(r.problems).toEqual([expect.objectContaining({ code: 'capture.truncated-file', offset: 84 })]);
  });

  it('resynchronises after a trailer that does not repeat the length', () => {
    const bad = w.epb(0, 2n, Buffer.from([2]));
    bad.writeUInt32LE(40, bad.length - 4);
    const r = parseNg(
      Buffer.concat([head, w.epb(0, 1n, Buffer.from([1])), bad, w.epb(0, 3n, Buffer.from([3]))]),
    );
    expect(r.frames.map((f) => f.data[0])).toEqual([1, 3]);
    expect(r.problems[0]?.message).toMatch(/length 36 at the start does not match the 40 at the end/);
  });

  it('skips a packet naming an interface nobody described, and goes on', () => {
    const r = parseNg(Buffer.concat([head, w.epb(3, 1n, Buffer.from([1])), w.epb(0, 2n, Buffer.from([2]))]));
    expect(r.frames.map((f) => [f.number, f.data[0]])).toEqual([[1, 2]]);
    expect(r.problems).toEqual([
      expect.objectContaining({ code: 'capture.malformed', frame: 1, offset: 48 }),
    ]);
    expect(r.problems[0]?.message).toMatch(/interface 3/);
  });

  it('skips a packet whose captured length runs past its block', () => {
    const bad = w.epb(0, 1n, Buffer.from([1, 1, 1, 1]));
    bad.writeUInt32LE(400, 20);
    const r = parseNg(Buffer.concat([head, bad, w.epb(0, 2n, Buffer.from([2]))]));
    expect(r.frames.map((f) => f.data[0])).toEqual([2]);
    expect(r.problems[0]?.message).toMatch(/captured length 400 runs past its 36-byte block/);
  });

  it('reports a block cut off by the end of the file', () => {
    const file = Buffer.concat([head, w.epb(0, 1n, Buffer.from([1])), w.epb(0, 2n, Buffer.from([2]))]);
    const r = parseNg(file.subarray(0, file.length - 3), () => 10);
    expect(r.frames).toHaveLength(1);
    expect(r.problems).toEqual([
      expect.objectContaining({ code: 'capture.truncated-file', frame: 2, offset: 84 }),
    ]);
  });

  it('refuses a stream that does not start with a section header', () => {
    const r = parseNg(Buffer.concat([w.idb(1, []), w.epb(0, 1n, Buffer.from([1]))]));
    expect(r.frames).toHaveLength(0);
    expect(r.problems[0]?.message).toMatch(/no section header block first/);
  });
});
