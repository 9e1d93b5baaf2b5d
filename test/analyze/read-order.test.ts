// analyze reads several regular files largest first (V8 then compiles the hot path for the
// richest frames once) and reports exactly what reading them in the order given reports: the same
// hop names, sources in the given order, and the same findings and paths. Real lab captures, and
// files whose hop names collide (where the names a largest-first read gives must be settled again).
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/log.js';
import { analyzeCaptures } from '../../src/pipeline/analyze.js';
import { buildOverrides, type HopOverrides } from '../../src/pipeline/hops.js';
import { createSession } from '../../src/pipeline/session.js';
import { buildReport } from '../../src/report/model.js';
import { collidingNameFiles } from './colliding-names.js';

const root = join(import.meta.dirname, '..', '..');

/** The report of the files read strictly in the order given, one session, no reordering. */
async function inGivenOrder(files: readonly string[], overrides: HopOverrides): Promise<string> {
  const session = createSession({ overrides, logger: createLogger('silent') });
  for (const file of files) await session.readFile(file);
  return JSON.stringify(buildReport(session.result(), 'test'));
}

/** analyze's report, and the order it read the files in (the first progress call of each). */
async function analyzed(files: readonly string[], overrides: HopOverrides) {
  const readOrder: string[] = [];
  const logger = createLogger('silent');
  const result = await analyzeCaptures(files, {
    overrides,
    logger,
    jobs: 1,
    onProgress: (path) => {
      if (!readOrder.includes(path)) readOrder.push(path);
    },
  });
  return { report: JSON.stringify(buildReport(result, 'test')), readOrder };
}

const bySizeDescending = (files: readonly string[]) =>
  [...files].sort((a, b) => statSync(b).size - statSync(a).size);

describe('analyze reading several files', () => {
  it('reads the lab hops largest first and reports them as read in the order given', async () => {
    const dir = join(root, 'samples', 'fragmenting-underlay');
    const topology = join(dir, 'topology.json');
    const files = (JSON.parse(readFileSync(topology, 'utf8')) as { path: Array<{ file: string }> }).path.map(
      (p) => join(dir, p.file),
    );
    const overrides = buildOverrides([], [], topology);
    const { report, readOrder } = await analyzed(files, overrides);
    // The order really changed: the guest's capture is given first but is not the largest.
    expect(readOrder).toEqual(bySizeDescending(files));
    expect(readOrder[0]).not.toBe(files[0]);
    const parsed = JSON.parse(report) as { captures: Array<{ path: string }>; findings: unknown[] };
    expect(parsed.captures.map((c) => c.path)).toEqual(files);
    expect(parsed.findings.length).toBeGreaterThan(0);
    expect(report).toBe(await inGivenOrder(files, overrides));
  });

  describe('whose hop names collide', () => {
    // Read largest first, the pcapng claims its name first and the small files are named in
    // reading order until the names are settled.
    const tmp = mkdtempSync(join(tmpdir(), 'hopscope-order-'));
    afterAll(() => rmSync(tmp, { recursive: true, force: true }));
    const files = collidingNameFiles(tmp);

    it.each([
      [[], []],
      // A kind and an MTU given for names a largest-first read hands to other files at first.
      [['eth0=tap'], ['big:eth0=1400']],
    ])('names them as the order given does, with --hop %j --mtu %j', async (hops, mtus) => {
      const overrides = buildOverrides(hops, mtus);
      const { report, readOrder } = await analyzed(files, overrides);
      expect(readOrder[0]).toBe(files[1]);
      const parsed = JSON.parse(report) as { captures: Array<{ hops: string[] }> };
      expect(parsed.captures.map((c) => c.hops)).toEqual([['eth0'], ['big:eth0'], ['eth0(2)']]);
      expect(report).toBe(await inGivenOrder(files, overrides));
    });
  });
});
