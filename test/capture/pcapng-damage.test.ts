// pcapng beyond the happy path: frame numbers as Wireshark counts them (checked against tshark on
// a hand-built file with custom, journal, name-resolution, statistics and secrets blocks and two
// sections), one lying block length anywhere (section header, interface, packet) resynchronised
// at the next block whose type, length and trailing length agree, a major version other than 1
// warned about, and sections repeating the same interfaces giving no duplicate hops.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import { createPcapngParser } from '../../src/capture/pcapng.js';
import { analyzeCaptures } from '../../src/pipeline/analyze.js';
import { emptyOverrides } from '../../src/pipeline/hops.js';
import { collect, frameDifference, pcapngWriter, prng, pushChunked, root } from './helpers.js';

const w = pcapngWriter(true);
const dir = mkdtempSync(join(tmpdir(), 'hopscope-ng-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function hasTshark(): boolean {
  try {
    execFileSync('tshark', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** An Ethernet/IPv4 frame of n bytes filled with `fill` (distinct lengths tell frames apart). */
const eth = (n: number, fill: number) => {
  const b = Buffer.alloc(n, fill);
  b.writeUInt16BE(0x0800, 12);
  return b;
};

function parse(bytes: Uint8Array, chunk: () => number = () => bytes.length) {
  const c = collect();
  pushChunked(createPcapngParser(c.sink), bytes, chunk);
  return c;
}

const ifName = (name: string) => w.opt(2, Buffer.from(name));

describe('pcapng frame numbers are Wireshark frame numbers', () => {
  const bytes = Buffer.concat([
    w.shb(),
    w.idb(1, [ifName('eth0')]),
    w.epb(0, 1000n, eth(60, 1)),
    w.block(0xbad, Buffer.concat([w.u32(32473), Buffer.alloc(8, 9)])),
    w.block(0x40000bad, Buffer.concat([w.u32(32473), Buffer.alloc(8, 9)])),
    w.spb(61, eth(61, 2)),
    w.block(4, Buffer.alloc(4)), // name resolution: end of records only
    w.block(5, Buffer.concat([w.u32(0), w.u32(0), w.u32(0)])), // interface statistics
    w.block(10, Buffer.concat([w.u32(0x544c534b), w.u32(4), Buffer.from('abcd')])), // secrets
    w.pb(0, 2000n, eth(62, 3)),
    w.shb(),
    w.idb(1, [ifName('eth1')]),
    w.block(0xbad, Buffer.concat([w.u32(32473), Buffer.alloc(4, 9)])),
    w.epb(0, 3000n, eth(63, 4)),
    w.epb(0, 4000n, eth(64, 5)),
  ]);

  it('counts packet blocks (EPB, SPB, PB) and custom blocks in file order across sections', () => {
    const c = parse(bytes);
    expect(c.problems).toEqual([]);
    // custom blocks take a number each, as Wireshark shows them as frames
    expect(c.frames.map((f) => [f.number, f.capturedLength])).toEqual([
      [1, 60],
      [4, 61],
      [5, 62],
      [7, 63],
      [8, 64],
    ]);
  });

  it.skipIf(!hasTshark())('gives the numbers tshark gives', () => {
    const path = join(dir, 'numbers.pcapng');
    writeFileSync(path, bytes);
    const out = execFileSync(
      'tshark',
      ['-r', path, '-T', 'fields', '-e', 'frame.number', '-e', 'frame.cap_len'],
      {
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'ignore'],
      },
    );
    const theirs = out
      .trim()
      .split('\n')
      .map((line) => line.split('\t').map(Number));
    // every frame of ours is the tshark frame of that number (tshark also lists the custom blocks)
    const ours = parse(bytes).frames.map((f) => [f.number, f.capturedLength]);
    expect(theirs.filter(([n]) => ours.some(([m]) => m === n))).toEqual(ours);
    expect(theirs).toHaveLength(8);
  });
});

describe('a lying pcapng block length', () => {
  const ng = readFileSync(join(root, 'test/fixtures/pmtu-guest1-eth0.pcapng'));
  const whole = parse(ng);

  /** Offsets and types of the file's blocks. */
  const blocks: Array<[number, number]> = [];
  for (let p = 0; p + 12 <= ng.length; p += ng.readUInt32LE(p + 4)) blocks.push([p, ng.readUInt32LE(p)]);

  const lie = (at: number, value: number) => {
    const broken = Buffer.from(ng);
    broken.writeUInt32LE(value, at + 4);
    return broken;
  };

  it('in a packet block costs that block only, and is named in one line with its offset', () => {
    const packets = blocks.filter(([, type]) => type === 6);
    const [at] = packets[Math.floor(packets.length / 2)] as [number, number];
    for (const value of [ng.readUInt32LE(at + 4) + 4, ng.readUInt32LE(at + 4) - 4, 7, 0x7fffffff]) {
      const random = prng(value);
      for (const chunk of [() => ng.length, () => 1 + Math.floor(random() * 500)]) {
        const c = parse(lie(at, value), chunk);
        expect(c.frames.length).toBe(whole.frames.length - 1);
        const renumber = (fs: typeof c.frames) =>
          fs.filter((f) => f.fileOffset !== at).map((f) => ({ ...f, number: 0 }));
        expect(frameDifference(renumber(c.frames), renumber(whole.frames))).toBeNull();
        expect(c.problems).toHaveLength(1);
        expect(c.problems[0]).toMatchObject({ code: 'capture.malformed', offset: at });
        expect(c.problems[0]?.message).toMatch(
          new RegExp(`block at offset ${at} .*reading resumes at offset`),
        );
      }
    }
  });

  it('in the section header or the interface description keeps every frame', () => {
    for (const type of [0x0a0d0d0a, 1]) {
      const [at] = blocks.find(([, t]) => t === type) as [number, number];
      const c = parse(lie(at, ng.readUInt32LE(at + 4) + 8));
      expect(c.frames.length).toBe(whole.frames.length);
      expect(frameDifference(c.frames, whole.frames)).toBeNull();
      expect(c.problems.map((p) => p.offset)).toEqual([at]);
    }
  });
});

describe('pcapng section headers', () => {
  it('a major version other than 1 is warned about once, with the offset; frames read on', () => {
    const shb2 = w.shb();
    shb2.writeUInt16LE(2, 12); // major version 2
    const bytes = Buffer.concat([
      w.shb(),
      w.idb(1),
      w.epb(0, 1n, eth(60, 1)),
      shb2,
      w.idb(1),
      w.epb(0, 2n, eth(61, 2)),
    ]);
    const c = parse(bytes);
    expect(c.frames).toHaveLength(2);
    const at = bytes.indexOf(shb2);
    expect(c.problems).toEqual([
      expect.objectContaining({ code: 'capture.malformed', offset: at + 12, frame: 2 }),
    ]);
    expect(c.problems[0]?.message).toMatch(/version 2\.0/);
  });

  it('sections repeating the same interfaces reuse them: no duplicate interfaces, no empty hops', async () => {
    const section = (t: bigint, fill: number) => [
      w.shb(),
      w.idb(1, [ifName('tap0')]),
      w.idb(1, [ifName('brq97')]),
      w.epb(1, t, eth(60, fill)),
    ];
    const bytes = Buffer.concat([
      ...section(1_000_000n, 1),
      ...section(2_000_000n, 2),
      ...section(3_000_000n, 3),
    ]);
    const c = parse(bytes);
    expect(c.interfaces.map((i) => [i.interfaceId, i.name])).toEqual([
      [0, 'tap0'],
      [1, 'brq97'],
    ]);
    expect(c.frames.map((f) => f.interfaceId)).toEqual([1, 1, 1]);
    const path = join(dir, 'sections.pcapng');
    writeFileSync(path, bytes);
    const result = await analyzeCaptures([path], {
      overrides: emptyOverrides(),
      logger: pino({ level: 'silent' }),
      jobs: 1,
    });
    expect([...(result.captures[0]?.hops ?? [])].sort()).toEqual(['brq97', 'tap0']);
  });
});
