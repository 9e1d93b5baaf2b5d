// The report's context: sizes and SHA-256 read from the files (checked against node:crypto over
// the whole file), time ranges from the hops, offloads from a topology that lists them, and what
// a live session without files gets (no size, no hash, no evidence) still renders.
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/log.js';
import { analyzeCaptures } from '../../src/pipeline/analyze.js';
import { buildOverrides } from '../../src/pipeline/hops.js';
import { buildContext, OFFLOAD_FEATURES, topologyOffloads } from '../../src/report/context.js';
import { renderHtml } from '../../src/report/html.js';
import { renderMarkdown } from '../../src/report/markdown.js';
import { buildReport } from '../../src/report/model.js';
import { pcapngWriter } from '../capture/helpers.js';
import { parsePcap } from '../helpers/parse-pcap.js';

const dir = join(import.meta.dirname, '..', '..', 'samples', 'pmtu-underlay');
const topology = join(dir, 'topology.json');
const files = (JSON.parse(readFileSync(topology, 'utf8')) as { path: Array<{ file: string }> }).path.map(
  (p) => join(dir, p.file),
);

async function report() {
  const result = await analyzeCaptures(files, {
    overrides: buildOverrides([], [], topology),
    logger: createLogger('silent'),
    jobs: 1,
  });
  return buildReport(result, 'test');
}

describe('report context', () => {
  it('hashes and measures each capture, and takes its time range from its hops', async () => {
    const r = await report();
    const context = await buildContext(r, { version: 'test', commandLine: ['report'], generatedAt: null });
    expect(context.captures.map((c) => c.path)).toEqual(files);
    for (const capture of context.captures) {
      const bytes = readFileSync(capture.path);
      expect(capture.bytes).toBe(statSync(capture.path).size);
      expect(capture.sha256).toBe(createHash('sha256').update(bytes).digest('hex'));
      const hops = r.hops.filter((h) => capture.hops.includes(h.name));
      expect(capture.firstSeen).toBe(hops.map((h) => h.firstSeen).sort()[0]);
      expect(
        capture.firstSeen !== null && capture.lastSeen !== null && capture.firstSeen <= capture.lastSeen,
      ).toBe(true);
    }
    // Every evidence frame of every finding was found again in its file.
    const wanted = new Set(r.findings.flatMap((f) => f.evidence.map((e) => `${e.hop}#${e.frame}`)));
    expect(new Set(Object.keys(context.evidence))).toEqual(wanted);
  });

  it('reads the offload features a topology lists, by hop', () => {
    const offloads = topologyOffloads(topology);
    const listed = JSON.parse(readFileSync(topology, 'utf8')) as {
      path: Array<{ file: string; offloads?: Record<string, string> }>;
    };
    for (const entry of listed.path) {
      const hop = entry.file.replace(/\.pcap$/, '');
      for (const [feature] of OFFLOAD_FEATURES)
        expect(offloads[hop]?.[feature]).toBe(entry.offloads?.[feature]);
    }
    expect(topologyOffloads(undefined)).toEqual({});
    expect(topologyOffloads(join(dir, 'no-such-topology.json'))).toEqual({});
  });

  it('renders for a live session: no files to hash, no evidence re-read', async () => {
    const r = await report();
    const live = { ...r, captures: r.captures.map((c) => ({ ...c, path: c.hop ?? 'eth0' })) };
    const context = await buildContext(live, { version: 'test', commandLine: ['live'], evidence: false });
    expect(context.captures.every((c) => c.sha256 === null && c.bytes === null)).toBe(true);
    expect(context.evidence).toEqual({});
    const html = renderHtml(live, context);
    expect(html).toContain('not re-read');
    expect(renderMarkdown(live, context)).toContain('## Verdict');
  });
});

describe('frame-size histogram', () => {
  it('counts every frame of a hop once, in increasing, non-overlapping ranges', async () => {
    const r = await report();
    for (const hop of r.hops) {
      expect(hop.frameSizes.reduce((sum, b) => sum + b.frames, 0)).toBe(hop.frames);
      for (let i = 1; i < hop.frameSizes.length; i++) {
        const before = hop.frameSizes[i - 1] as { max: number | null };
        expect(before.max).not.toBeNull();
        expect((hop.frameSizes[i] as { min: number }).min).toBeGreaterThan(before.max as number);
      }
    }
  });
});

describe('the verdict lists hops along the path', () => {
  it('whatever order the captures were named in (a shell glob sorts them by name)', async () => {
    const byName = [...files].sort();
    const result = await analyzeCaptures(byName, {
      overrides: buildOverrides([], [], topology),
      logger: createLogger('silent'),
      jobs: 1,
    });
    const r = buildReport(result, 'test');
    const context = await buildContext(r, {
      version: 'test',
      commandLine: ['report'],
      generatedAt: null,
      evidence: false,
    });
    const markdown = renderMarkdown(r, context);
    const fine = /checksums at ([^.]*?) are checksum offload/.exec(markdown)?.[1];
    expect(fine).toBeDefined();
    const listed = (fine ?? '').split(/, | and /);
    const pathOrder = (r.paths[0]?.hops ?? []).map((h) => h.hop).filter((hop) => listed.includes(hop));
    expect(listed.length).toBeGreaterThan(2);
    expect(listed).toEqual(pathOrder);
  });
});

describe('times past what a Date holds (a hostile if_tsoffset)', () => {
  // The same frames on two interfaces of one pcapng, `a` shifted by 2^44 s (year ~557,000; a Date
  // ends at 8.64e12 s): the correlator measures the shift as b's clock offset against a.
  const tmp = mkdtempSync(join(tmpdir(), 'hopscope-far-'));
  afterAll(() => rmSync(tmp, { recursive: true, force: true }));
  function twin(offsetA: bigint): string {
    const pcap = parsePcap(readFileSync(join(dir, 'guest1-eth0.pcap')));
    const w = pcapngWriter(true);
    const iface = (name: string, offset: bigint) =>
      w.idb(pcap.linkType, [w.opt(2, Buffer.from(name)), w.opt(14, w.i64(offset))]);
    const blocks = [w.shb(), iface('a', offsetA), iface('b', 0n)];
    for (const r of pcap.records) {
      const us = r.timeNs / 1000n;
      const data = Buffer.from(r.data);
      blocks.push(w.epb(0, us, data, [], 0, r.originalLength));
      blocks.push(w.epb(1, us + 50n, data, [], 0, r.originalLength));
    }
    const path = join(tmp, `far${offsetA}.pcapng`);
    writeFileSync(path, Buffer.concat(blocks));
    return path;
  }

  it('renders, with no start to the timeline and every evidence frame re-read', async () => {
    for (const offset of [1n << 44n, -(1n << 44n)]) {
      const path = twin(offset);
      const result = await analyzeCaptures([path], {
        overrides: buildOverrides([], [], undefined),
        logger: createLogger('silent'),
        jobs: 1,
      });
      const r = buildReport(result, 'test');
      expect(r.hops.map((h) => h.firstSeen === null)).toEqual([true, false]);
      expect(Math.abs(r.clockOffsets.b ?? 0)).toBeGreaterThan(1e13);
      const context = await buildContext(r, { version: 'test', commandLine: ['report'], generatedAt: null });
      const wanted = new Set(r.findings.flatMap((f) => f.evidence.map((e) => `${e.hop}#${e.frame}`)));
      expect([...wanted].some((key) => key.startsWith('a#'))).toBe(true);
      expect(new Set(Object.keys(context.evidence))).toEqual(wanted);
      for (const frame of Object.values(context.evidence)) {
        expect(frame.time === null).toBe(frame.hop === 'a');
        expect(frame.parts[0]?.text).toMatch(/^\d\d:\d\d:\d\d\.\d{6}$/);
      }
      expect(renderMarkdown(r, context)).toContain('Seconds from ? ');
      expect(renderHtml(r, context)).toContain('in seconds from ?');
    }
  });
});
