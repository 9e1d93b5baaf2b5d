// `hopscope annotate`: the captures of a lab scenario written as one pcapng and read back by
// tshark, the reference reader: as many frames as the inputs hold, one interface per hop named
// after it, frames in time order, and every finding as a comment on its evidence frames. With
// --align, each hop's timestamps move by its estimated clock offset. Expectations come from the
// JSON report of the same captures. Skipped with a printed reason where tshark is absent; CI
// installs it (samples/lab/install-deps.sh) and there a missing tshark fails instead.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { Report } from '../../src/report/model.js';
import { analyzeJson, runCli } from '../analyze/helpers.js';
import { type PcapRecord, parsePcap } from '../helpers/parse-pcap.js';

const root = join(import.meta.dirname, '..', '..');
const hasTshark = spawnSync('tshark', ['--version'], { stdio: 'ignore' }).status === 0;
const inCi = process.env.CI === 'true' || process.env.CI === '1';
if (!hasTshark && !inCi)
  console.log('annotate test skipped: no tshark (apt-get install tshark; CI installs it)');

const scratch = mkdtempSync(join(tmpdir(), 'hopscope-annotate-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

function scenarioArgs(scenario: string): string[] {
  const dir = join(root, 'samples', scenario);
  const topology = JSON.parse(readFileSync(join(dir, 'topology.json'), 'utf8')) as {
    path: Array<{ file: string }>;
  };
  return ['--topology', join(dir, 'topology.json'), ...topology.path.map((p) => join(dir, p.file))];
}

interface Row {
  number: number;
  iface: string;
  time: number;
  comments: string[];
}

/** Every frame of a pcapng as tshark reads it: interface name, epoch time, comments. */
function tsharkRows(file: string): Row[] {
  const out = execFileSync(
    'tshark',
    [
      '-r',
      file,
      '-T',
      'fields',
      '-E',
      'separator=/t',
      '-E',
      'occurrence=a',
      '-E',
      'aggregator=\u0001',
      '-e',
      'frame.number',
      '-e',
      'frame.interface_name',
      '-e',
      'frame.time_epoch',
      '-e',
      'frame.comment',
    ],
    { encoding: 'utf8', maxBuffer: 256 * 1024 * 1024, stdio: ['ignore', 'pipe', 'ignore'] },
  );
  return out
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => {
      const [number, iface, time, comments] = line.split('\t');
      return {
        number: Number(number),
        iface: iface ?? '',
        time: Number(time),
        comments: comments ? comments.split('\u0001') : [],
      };
    });
}

/** A classic pcap (ns, little-endian, LINKTYPE_LINUX_SLL2) of Ethernet frames moved behind SLL2 headers. */
function sll2Pcap(records: ReadonlyArray<PcapRecord & { ifIndex: number }>): Buffer {
  const header = Buffer.alloc(24);
  header.writeUInt32LE(0xa1b23c4d, 0);
  header.writeUInt16LE(2, 4);
  header.writeUInt16LE(4, 6);
  header.writeUInt32LE(262144, 16);
  header.writeUInt32LE(276, 20);
  const parts: Buffer[] = [header];
  for (const r of records) {
    const sll2 = Buffer.alloc(20);
    sll2.writeUInt16BE(Buffer.from(r.data).readUInt16BE(12), 0); // the EtherType
    sll2.writeUInt32BE(r.ifIndex, 4);
    sll2.writeUInt16BE(1, 8); // ARPHRD_ETHER
    sll2[10] = 0; // to us
    sll2[11] = 6;
    Buffer.from(r.data).copy(sll2, 12, 6, 12); // the source MAC
    const data = Buffer.concat([sll2, Buffer.from(r.data).subarray(14)]);
    const rec = Buffer.alloc(16);
    rec.writeUInt32LE(Number(r.timeNs / 1_000_000_000n), 0);
    rec.writeUInt32LE(Number(r.timeNs % 1_000_000_000n), 4);
    rec.writeUInt32LE(data.length, 8);
    rec.writeUInt32LE(r.originalLength - 14 + 20, 12);
    parts.push(rec, data);
  }
  return Buffer.concat(parts);
}

async function annotate(scenario: string, extra: string[]): Promise<{ report: Report; rows: Row[] }> {
  const args = scenarioArgs(scenario);
  const { report } = await analyzeJson(args);
  const out = join(scratch, `${scenario}${extra.join('')}.pcapng`);
  const run = await runCli(['annotate', '--log-level', 'silent', ...extra, ...args, '-o', out]);
  expect(run.stderr).toBe('');
  expect(run.code).toBe(0);
  return { report, rows: tsharkRows(out) };
}

describe.skipIf(!hasTshark && !inCi)('annotate, read back by tshark', () => {
  it('writes every input frame, one interface per hop, the findings as comments on their evidence', async () => {
    const { report, rows } = await annotate('fragmenting-underlay', []);
    const inputFrames = report.captures.reduce((sum, c) => sum + c.frames, 0);
    expect(rows.length).toBe(inputFrames);
    // Frames per interface: each hop's frames, under the hop's name.
    const perInterface = new Map<string, number>();
    for (const row of rows) perInterface.set(row.iface, (perInterface.get(row.iface) ?? 0) + 1);
    expect(new Map([...perInterface].sort())).toEqual(
      new Map(report.captures.map((c) => [c.hop as string, c.frames] as [string, number]).sort()),
    );
    // Merged by time (without --align, the files' own timestamps).
    for (let i = 1; i < rows.length; i++)
      expect(rows[i]?.time).toBeGreaterThanOrEqual(rows[i - 1]?.time as number);
    // Each finding's comment is on each of its evidence frames: find the k-th frame of that hop.
    const byHop = new Map<string, Row[]>();
    for (const row of rows) byHop.set(row.iface, [...(byHop.get(row.iface) ?? []), row]);
    let checked = 0;
    for (const finding of report.findings) {
      const comment = `hopscope ${finding.code}: ${finding.title}`;
      for (const { hop, frame } of finding.evidence) {
        const row = byHop.get(hop)?.[frame - 1];
        expect(row?.comments, `${finding.code} on ${hop} frame ${frame}`).toContain(comment);
        checked++;
      }
    }
    expect(checked).toBeGreaterThan(0);
    // And no comment where no finding put one.
    const commented = rows.filter((r) => r.comments.length > 0).length;
    const evidenceFrames = new Set(
      report.findings.flatMap((f) => f.evidence.map((e) => `${e.hop}#${e.frame}`)),
    );
    expect(commented).toBe(evidenceFrames.size);
  }, 60_000);

  it('splits a tcpdump -i any capture (Linux cooked v2) into its hops, as the analysis does', async () => {
    // Two lab captures of one host's interfaces, rewritten as one `-i any` capture: each frame's
    // Ethernet header replaced by an SLL2 header with its interface index, merged by time.
    const dir = join(root, 'samples', 'jumbo-underlay');
    const records = [
      { file: 'host1-tap0.pcap', ifIndex: 7 },
      { file: 'host1-brq97.pcap', ifIndex: 9 },
    ].flatMap(({ file, ifIndex }) =>
      parsePcap(readFileSync(join(dir, file)), file).records.map((r) => ({ ...r, ifIndex })),
    );
    records.sort((a, b) => (a.timeNs < b.timeNs ? -1 : a.timeNs > b.timeNs ? 1 : 0));
    const any = join(scratch, 'host1-any.pcap');
    writeFileSync(any, sll2Pcap(records));
    const out = join(scratch, 'host1-any.pcapng');
    const { report } = await analyzeJson([any]);
    const run = await runCli(['annotate', '--log-level', 'silent', any, '-o', out]);
    expect(run.code).toBe(0);
    const rows = tsharkRows(out);
    expect(rows.length).toBe(records.length);
    const perInterface = new Map<string, number>();
    for (const row of rows) perInterface.set(row.iface, (perInterface.get(row.iface) ?? 0) + 1);
    expect(report.hops.length).toBe(2);
    expect(new Map([...perInterface].sort())).toEqual(
      new Map(report.hops.map((h) => [h.name, h.frames] as [string, number]).sort()),
    );
  }, 60_000);

  it('with --align moves each hop by its clock offset', async () => {
    const plain = await annotate('loss-in-bridge', []);
    const aligned = await annotate('loss-in-bridge', ['--align']);
    const offsets = plain.report.clockOffsets;
    const moved = Object.entries(offsets).filter(([, s]) => s !== null && Math.abs(s) >= 1e-6);
    expect(moved.length).toBeGreaterThan(0);
    const firstOf = (rows: Row[], hop: string) => rows.find((r) => r.iface === hop)?.time as number;
    for (const [hop, seconds] of moved) {
      const shift = firstOf(plain.rows, hop) - firstOf(aligned.rows, hop);
      expect(shift).toBeCloseTo(seconds as number, 6);
    }
    expect(aligned.rows.length).toBe(plain.rows.length);
  }, 60_000);
});

// Constant memory: annotate holds at most one read chunk of frames per file, so ten times the
// frames must not mean more frames held at once. Counted, not timed: the merge reports the most
// frames it held (in-process, no tshark needed).
describe('annotate in bounded memory', () => {
  it('holds no more frames at once for a capture ten times as long', async () => {
    const { createWriteStream } = await import('node:fs');
    const { writeSyntheticStream } = await import('../helpers/synthetic-stream.js');
    const { analyzeCaptures } = await import('../../src/pipeline/analyze.js');
    const { emptyOverrides } = await import('../../src/pipeline/hops.js');
    const { buildReport } = await import('../../src/report/model.js');
    const { annotateCaptures } = await import('../../src/report/annotate.js');
    const { createLogger } = await import('../../src/log.js');
    const held: number[] = [];
    for (const frames of [20_000, 200_000]) {
      const file = join(scratch, `synthetic-${frames}.pcap`);
      const out = createWriteStream(file);
      const stats = await writeSyntheticStream(out, { frames, seed: 7 });
      await new Promise<void>((resolve) => out.end(resolve));
      const result = await analyzeCaptures([file], {
        overrides: emptyOverrides(),
        logger: createLogger('silent'),
        jobs: 1,
      });
      const report = buildReport(result, 'test');
      let bytes = 0;
      const summary = await annotateCaptures(report, [file], {
        align: false,
        write: (chunk) => {
          bytes += chunk.length;
          return undefined;
        },
      });
      expect(summary.frames).toBe(stats.frames);
      expect(summary.problems).toEqual([]);
      // Every frame's bytes went out: at least the input's records, in larger pcapng blocks.
      expect(bytes).toBeGreaterThan(stats.bytes);
      held.push(summary.maxHeldFrames);
    }
    const [short = 0, long = 0] = held;
    expect(short).toBeGreaterThan(0);
    expect(long).toBeLessThanOrEqual(short * 1.1);
    // And far below the input: a chunk's worth of frames, not the capture.
    expect(long).toBeLessThan(200_000 / 20);
  }, 120_000);
});

// A hostile pcapng: interface a's times 2^44 s from 1970 (an if_tsoffset), b's 2^40 s before it,
// and one frame of a 2^40 s after the others. Each written at its time, not wrapped around 2^64
// nanoseconds into a plausible-looking one; the frame no pcapng timestamp can place beside its
// hop's first is said, once, with its file and frame. Read back with hopscope's own reader.
describe('annotate with times past 1970 + 584 years', () => {
  it('keeps every time a pcapng timestamp can hold, and names the frame it cannot', async () => {
    const { pcapngWriter, collect, pushChunked } = await import('../capture/helpers.js');
    const { createPcapngParser } = await import('../../src/capture/pcapng.js');
    const pcap = parsePcap(readFileSync(join(root, 'samples', 'pmtu-underlay', 'guest1-eth0.pcap')));
    const w = pcapngWriter(true);
    const iface = (name: string, offset: bigint) =>
      w.idb(pcap.linkType, [w.opt(2, Buffer.from(name)), w.opt(14, w.i64(offset))]);
    const blocks = [w.shb(), iface('a', 1n << 44n), iface('b', -(1n << 40n))];
    const records = pcap.records.slice(0, 40);
    for (const [i, r] of records.entries()) {
      const us = r.timeNs / 1000n + (i === 20 ? (1n << 40n) * 1_000_000n : 0n);
      blocks.push(w.epb(i % 2, us, Buffer.from(r.data), [], 0, r.originalLength));
    }
    const input = join(scratch, 'far.pcapng');
    writeFileSync(input, Buffer.concat(blocks));
    const out = join(scratch, 'far-annotated.pcapng');
    const run = await runCli(['annotate', '--log-level', 'silent', input, '-o', out]);
    expect(run.code).toBe(0);
    const lines = run.stderr.split('\n').filter((l) => l !== '');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(new RegExp(`^hopscope: ${input}: frame 21: .*584 years.* hop a\\b`));
    const read = (bytes: Buffer) => {
      const c = collect();
      pushChunked(createPcapngParser(c.sink), bytes, () => bytes.length);
      expect(c.problems).toEqual([]);
      const byName = new Map<string, Array<[number, number]>>();
      for (const f of c.frames) {
        const name = c.interfaces[f.interfaceId]?.name ?? '?';
        byName.set(name, [...(byName.get(name) ?? []), [f.timeSec, f.timeNs]]);
      }
      return byName;
    };
    const before = read(readFileSync(input));
    const after = read(readFileSync(out));
    expect(after.get('b')).toEqual(before.get('b'));
    // a: every frame at its time but frame 21, at the last instant a's timestamps hold (they count
    // from 292 years before a's first frame)
    const a = before.get('a') ?? [];
    const first = a[0]?.[0] as number;
    expect(after.get('a')).toEqual(a.map((t, i) => (i === 10 ? [first + 9_223_372_037, 709_551_615] : t)));
  });
});

describe('annotate past the hops one capture makes', () => {
  it('puts the frames of every interface past 4,096 in the one hop the analysis counts them in', async () => {
    const { pcapngWriter, collect, pushChunked } = await import('../capture/helpers.js');
    const { createPcapngParser } = await import('../../src/capture/pcapng.js');
    const w = pcapngWriter(true);
    const blocks = [w.shb(), w.idb(276)];
    for (let i = 0; i < 4200; i++) {
      const sll2 = Buffer.alloc(20 + 20);
      sll2.writeUInt16BE(0x0800, 0);
      sll2.writeUInt32BE(i + 1, 4); // a new interface index in every frame
      sll2.writeUInt16BE(1, 8);
      sll2[11] = 6;
      sll2[20] = 0x45;
      blocks.push(w.epb(0, BigInt(1_700_000_000_000_000 + i), sll2));
    }
    const input = join(scratch, 'every-frame-an-index.pcapng');
    writeFileSync(input, Buffer.concat(blocks));
    const { report } = await analyzeJson([input]);
    const out = join(scratch, 'every-frame-an-index-annotated.pcapng');
    const run = await runCli(['annotate', '--log-level', 'silent', input, '-o', out]);
    expect(run.code).toBe(0);
    const c = collect();
    const bytes = readFileSync(out);
    pushChunked(createPcapngParser(c.sink), bytes, () => bytes.length);
    const names = c.interfaces.map((i) => i.name);
    expect(names).toEqual(report.hops.map((h) => h.name));
    expect(names).toHaveLength(4097);
    const counts = new Map<string, number>();
    for (const f of c.frames) {
      const name = names[f.interfaceId] as string;
      counts.set(name, (counts.get(name) ?? 0) + 1);
    }
    expect(Object.fromEntries(counts)).toEqual(
      Object.fromEntries(report.hops.map((h) => [h.name, h.frames])),
    );
  });
});
