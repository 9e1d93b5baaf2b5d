// Interface statistics blocks: the counters dumpcap writes when it stops (isb_ifrecv, isb_ifdrop,
// isb_osdrop) reach a sink that asks for them, in both byte orders and when the block comes in
// pieces; a block naming an undeclared interface is reported, not believed. A session turns drops
// into the capture.dropped finding of that hop.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { CaptureStatistics } from '../../src/capture/frame.js';
import { createPcapngParser } from '../../src/capture/pcapng.js';
import type { Logger } from '../../src/log.js';
import { analyzeCaptures } from '../../src/pipeline/analyze.js';
import { emptyOverrides, MAX_HOPS_PER_CAPTURE } from '../../src/pipeline/hops.js';
import { createSession } from '../../src/pipeline/session.js';
import { buildReport } from '../../src/report/model.js';
import { collect, pcapngWriter, pushChunked } from './helpers.js';

function isbFile(le: boolean, counters: Array<[number, bigint]>, ifId = 0) {
  const w = pcapngWriter(le);
  const isb = w.block(
    5,
    Buffer.concat([
      w.u32(ifId),
      w.u32(1),
      w.u32(2),
      ...counters.map(([code, value]) => w.opt(code, w.i64(value))),
      w.opt(1, Buffer.from('Counters provided by dumpcap')),
      Buffer.alloc(4),
    ]),
  );
  return Buffer.concat([
    w.shb(),
    w.idb(1, [w.opt(2, Buffer.from('phy0'))]),
    w.epb(0, 1_000_000n, Buffer.alloc(60, 1)),
    isb,
  ]);
}

function statsOf(bytes: Uint8Array, chunk?: () => number) {
  const c = collect();
  const stats: CaptureStatistics[] = [];
  const parser = createPcapngParser({ ...c.sink, onStatistics: (s) => stats.push({ ...s }) });
  if (chunk) pushChunked(parser, bytes, chunk);
  else {
    parser.push(bytes);
    parser.end();
  }
  return { stats, problems: c.problems, frames: c.frames };
}

describe('pcapng interface statistics', () => {
  it('hands isb_ifrecv, isb_ifdrop and isb_osdrop to the sink, in either byte order, whole or in pieces', () => {
    for (const le of [true, false]) {
      const file = isbFile(le, [
        [4, 271234n],
        [5, 7n],
        [7, 1500n],
      ]);
      for (const chunk of [undefined, () => 3]) {
        const { stats, problems, frames } = statsOf(file, chunk);
        expect(problems).toEqual([]);
        expect(frames).toHaveLength(1);
        expect(stats).toEqual([{ interfaceId: 0, received: 271234, dropped: 1500, ifDropped: 7 }]);
      }
    }
  });

  it('says null for counters the writer left out, and reports a block about an undeclared interface', () => {
    expect(statsOf(isbFile(true, [[4, 6n]])).stats).toEqual([
      { interfaceId: 0, received: 6, dropped: null, ifDropped: null },
    ]);
    const { stats, problems } = statsOf(isbFile(true, [[5, 1n]], 3));
    expect(stats).toEqual([]);
    expect(problems[0]?.message).toMatch(/statistics block names interface 3/);
  });

  it('a session reports the drops as a hop finding, and none when nothing was dropped', async () => {
    const silent: Logger = { child: () => silent, error() {}, warn() {}, info() {}, debug() {} };
    const session = createSession({ overrides: emptyOverrides(), logger: silent });
    const feed = session.addSource('phy0-live');
    const parser = createPcapngParser(feed);
    parser.push(
      isbFile(true, [
        [4, 1000n],
        [7, 40n],
        [5, 2n],
      ]),
    );
    parser.end();
    feed.end();
    const finding = session.snapshot('test').findings.find((f) => f.code === 'capture.dropped');
    expect(finding).toMatchObject({ hop: 'phy0', severity: 'warn', count: 42 });
    expect(finding?.explanation).toMatch(
      /lost 42 frames \(40 in the kernel’s capture buffer, 2 at the interface; the interface received 1000\)/,
    );
    const clean = createSession({ overrides: emptyOverrides(), logger: silent });
    const cleanFeed = clean.addSource('clean');
    const p2 = createPcapngParser(cleanFeed);
    p2.push(
      isbFile(true, [
        [4, 1000n],
        [7, 0n],
        [5, 0n],
      ]),
    );
    p2.end();
    cleanFeed.end();
    expect(clean.snapshot('test').findings.some((f) => f.code === 'capture.dropped')).toBe(false);
  });

  it('analyze of a saved pcapng reports the drops its statistics block counted', async () => {
    // What dumpcap writes when it stops: the file goes through readCapture, not a parser of the test's.
    const dir = mkdtempSync(join(tmpdir(), 'hopscope-isb-'));
    try {
      const path = join(dir, 'host1-phy0.pcapng');
      writeFileSync(
        path,
        isbFile(true, [
          [4, 1000n],
          [7, 40n],
          [5, 2n],
        ]),
      );
      const silent: Logger = { child: () => silent, error() {}, warn() {}, info() {}, debug() {} };
      const report = buildReport(
        await analyzeCaptures([path], { overrides: emptyOverrides(), logger: silent }),
        't',
      );
      const finding = report.findings.find((f) => f.code === 'capture.dropped');
      expect(finding).toMatchObject({ hop: 'phy0', count: 42 });
      expect(finding?.facts).toMatchObject({ osDropped: 40, ifDropped: 2, received: 1000 });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('statistics blocks by the thousand stay bounded: a finding per interface up to the hop limit, one log line each', async () => {
    const w = pcapngWriter(true);
    const isb = (ifId: number, received: bigint, dropped: bigint) =>
      w.block(
        5,
        Buffer.concat([
          w.u32(ifId),
          w.u32(1),
          w.u32(2),
          w.opt(4, w.i64(received)),
          w.opt(5, w.i64(dropped)),
          Buffer.alloc(4),
        ]),
      );
    const many = MAX_HOPS_PER_CAPTURE + 500;
    const declared = [w.shb()];
    for (let i = 0; i < many; i++) declared.push(w.idb(1, []));
    declared.push(w.epb(0, 1_000_000n, Buffer.alloc(60, 1)));
    for (let i = 0; i < many; i++) declared.push(isb(i, 1000n, 2n));
    // One interface whose counters a writer reported again and again, growing.
    const periodic = [w.shb(), w.idb(1, []), w.epb(0, 1_000_000n, Buffer.alloc(60, 1))];
    for (let i = 1; i <= 3000; i++) periodic.push(isb(0, BigInt(1000 + i), BigInt(i)));
    const dir = mkdtempSync(join(tmpdir(), 'hopscope-isb-'));
    try {
      for (const [name, blocks, findings, lastCount] of [
        ['many.pcapng', declared, MAX_HOPS_PER_CAPTURE, 2],
        ['periodic.pcapng', periodic, 1, 3000],
      ] as const) {
        const path = join(dir, name);
        writeFileSync(path, Buffer.concat(blocks));
        let warnings = 0;
        const counting: Logger = {
          child: () => counting,
          error() {},
          warn() {
            warnings++;
          },
          info() {},
          debug() {},
        };
        const result = await analyzeCaptures([path], { overrides: emptyOverrides(), logger: counting });
        const dropped = buildReport(result, 't').findings.filter((f) => f.code === 'capture.dropped');
        expect(dropped).toHaveLength(findings);
        expect(dropped.at(-1)?.count).toBe(lastCount);
        expect(warnings).toBe(findings);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a file of two interfaces says the drops of each at its own hop, in this thread and in a worker', async () => {
    // dumpcap -i tap0 -i phy0 -w both.pcapng: one file, two hops, a statistics block for each.
    const w = pcapngWriter(true);
    const isb = (ifId: number, dropped: bigint) =>
      w.block(
        5,
        Buffer.concat([
          w.u32(ifId),
          w.u32(1),
          w.u32(2),
          w.opt(4, w.i64(500n)),
          w.opt(5, w.i64(dropped)),
          Buffer.alloc(4),
        ]),
      );
    const file = Buffer.concat([
      w.shb(),
      w.idb(1, [w.opt(2, Buffer.from('tap0'))]),
      w.idb(1, [w.opt(2, Buffer.from('phy0'))]),
      w.epb(0, 1_000_000n, Buffer.alloc(60, 1)),
      w.epb(1, 1_000_001n, Buffer.alloc(60, 2)),
      isb(0, 3n),
      isb(1, 9n),
    ]);
    const dir = mkdtempSync(join(tmpdir(), 'hopscope-isb-'));
    try {
      const path = join(dir, 'both.pcapng');
      writeFileSync(path, file);
      const silent: Logger = { child: () => silent, error() {}, warn() {}, info() {}, debug() {} };
      const session = createSession({ overrides: emptyOverrides(), logger: silent });
      await session.readFile(path);
      const here = session.snapshot('t').findings.filter((f) => f.code === 'capture.dropped');
      expect(here.map((f) => [f.hop, f.count])).toEqual([
        ['tap0', 3],
        ['phy0', 9],
      ]);
      // As a worker hands it over: the session's sources as data, adopted by another session.
      const adopting = createSession({ overrides: emptyOverrides(), logger: silent });
      for (const source of structuredClone(session.exportSources())) adopting.adoptSource(source);
      const there = adopting.snapshot('t').findings.filter((f) => f.code === 'capture.dropped');
      expect(there).toEqual(here);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
