// Memory bounded by what a capture carries, not by what it declares: hops are light until their
// first fragment (a reassembler holds ~2 MB of tables). The real binary on hand-built files, peak
// RSS read by the benchmark's preload (process.resourceUsage().maxRSS at exit).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import type { Report } from '../../src/report/model.js';
import { pcapngWriter } from '../capture/helpers.js';

const root = join(import.meta.dirname, '..', '..');
const dir = mkdtempSync(join(tmpdir(), 'hopscope-bounded-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function analyze(file: string): { report: Report; peakMiB: number } {
  const rssFile = join(dir, 'rss');
  const out = spawnSync(
    process.execPath,
    [
      '--import',
      pathToFileURL(join(root, 'bench', 'peak-rss.mjs')).href,
      join(root, 'bin', 'hopscope.js'),
      'analyze',
      '--json',
      file,
    ],
    {
      encoding: 'utf8',
      env: { ...process.env, HOPSCOPE_BENCH_RSS_FILE: rssFile },
      maxBuffer: 256 * 1024 * 1024,
    },
  );
  expect(out.status, out.stderr).toBe(0);
  return { report: JSON.parse(out.stdout) as Report, peakMiB: Number(readFileSync(rssFile, 'utf8')) / 1024 };
}

/** An Ethernet/IPv4/UDP frame (checksums not the point here). */
function frame(id: number): Buffer {
  const b = Buffer.alloc(14 + 20 + 8 + 4);
  b.writeUInt16BE(0x0800, 12);
  b[14] = 0x45;
  b.writeUInt16BE(20 + 8 + 4, 16);
  b.writeUInt16BE(id & 0xffff, 18);
  b[22] = 64;
  b[23] = 17;
  b.writeUInt32BE(0x0a000001, 26);
  b.writeUInt32BE(0x0a000002, 30);
  b.writeUInt16BE(1000 + (id % 1000), 34);
  b.writeUInt16BE(53, 36);
  b.writeUInt16BE(12, 38);
  return b;
}

describe('memory bounded by what the capture carries', () => {
  it('a pcapng declaring 4,000 interfaces, one of them carrying packets', () => {
    const w = pcapngWriter(true);
    const blocks = [w.shb()];
    for (let i = 0; i < 4000; i++) blocks.push(w.idb(1, [w.opt(2, Buffer.from(`if${i}\0`))]));
    for (let i = 0; i < 100; i++) blocks.push(w.epb(7, BigInt(1_700_000_000_000_000 + i), frame(i)));
    const file = join(dir, 'many-interfaces.pcapng');
    writeFileSync(file, Buffer.concat(blocks));
    const { report, peakMiB } = analyze(file);
    expect(report.hops).toHaveLength(4000);
    expect(report.hops.find((h) => h.name === 'if7')?.frames).toBe(100);
    // About 2 MB a hop before (8 GB here); a light hop is a few KB.
    expect(peakMiB).toBeLessThan(200);
  });

  /** An Ethernet frame as tcpdump -i any records it: a Linux cooked v2 header naming `ifIndex`. */
  const sll2Frame = (ifIndex: number, ethernet: Buffer): Buffer => {
    // Protocol, reserved, interface index, ARPHRD, packet type, address length, address.
    const sll2 = Buffer.alloc(20);
    sll2.writeUInt16BE(0x0800, 0);
    sll2.writeUInt32BE(ifIndex, 4);
    sll2.writeUInt16BE(1, 8);
    sll2[10] = 4;
    sll2[11] = 6;
    return Buffer.concat([sll2, ethernet.subarray(14)]);
  };

  it('a tcpdump -i any capture of a hypervisor with 2,000 interface indexes', () => {
    const w = pcapngWriter(true);
    const blocks = [w.shb(), w.idb(276)];
    for (let i = 0; i < 2000; i++) {
      blocks.push(w.epb(0, BigInt(1_700_000_000_000_000 + i), sll2Frame(i + 1, frame(i))));
    }
    const file = join(dir, 'any.pcapng');
    writeFileSync(file, Buffer.concat(blocks));
    const { report, peakMiB } = analyze(file);
    expect(report.hops).toHaveLength(2000);
    expect(report.hops.every((h) => h.frames === 1)).toBe(true);
    expect(peakMiB).toBeLessThan(200);
  });

  // A hostile capture naming a new interface in every frame: 100,000 of them (17 MB) took 2.4 GB
  // and a few times more ran the heap out. Past 4,096 hops, one more holds every further interface.
  it.each(['interface indexes', 'interface blocks'])('20,000 %s, one frame each', (what) => {
    const w = pcapngWriter(true);
    const blocks = [w.shb()];
    const n = 20_000;
    for (let i = 0; i < n; i++) {
      const time = BigInt(1_700_000_000_000_000 + i);
      if (what === 'interface indexes') {
        if (i === 0) blocks.push(w.idb(276));
        blocks.push(w.epb(0, time, sll2Frame(i + 1, frame(i))));
      } else blocks.push(w.idb(1), w.epb(i, time, frame(i)));
    }
    const file = join(dir, `every-frame-${what.replace(' ', '-')}.pcapng`);
    writeFileSync(file, Buffer.concat(blocks));
    const { report, peakMiB } = analyze(file);
    expect(report.hops).toHaveLength(4097);
    const more = report.hops[4096];
    expect(more?.name).toMatch(/@more$/);
    expect(more?.frames).toBe(n - 4096);
    expect(report.hops.reduce((sum, h) => sum + h.frames, 0)).toBe(n);
    expect(report.captures[0]?.errors).toEqual([
      expect.stringMatching(
        new RegExp(
          `^${file}: frame 4097 at offset \\d+: interface (index 4097|4096)\\b.* past the 4096 hops .* hop ${more?.name}$`,
        ),
      ),
    ]);
    expect(peakMiB).toBeLessThan(300);
  });
});
