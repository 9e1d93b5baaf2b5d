// The report's context: sizes and SHA-256 read from the files (checked against node:crypto over
// the whole file), time ranges from the hops, offloads from a topology that lists them, and what
// a live session without files gets (no size, no hash, no evidence) still renders.
import { createHash } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createLogger } from '../../src/log.js';
import { analyzeCaptures } from '../../src/pipeline/analyze.js';
import { buildOverrides } from '../../src/pipeline/hops.js';
import { buildContext, OFFLOAD_FEATURES, topologyOffloads } from '../../src/report/context.js';
import { renderHtml } from '../../src/report/html.js';
import { renderMarkdown } from '../../src/report/markdown.js';
import { buildReport } from '../../src/report/model.js';

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
