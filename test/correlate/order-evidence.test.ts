// The order from the evidence alone (no topology, files given backwards) on every recorded scenario,
// the fault recordings included: a segment lost and resent stretches its wait at some hops only, so
// hops are ordered by a vote per segment; in an MTU black hole only a few small segments cross the
// whole path, and their waits still order it.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { analyzeJson } from '../analyze/helpers.js';

const samples = join(import.meta.dirname, '..', '..', 'samples');
const scenarios = readdirSync(samples).filter((s) => existsSync(join(samples, s, 'topology.json')));

describe('hop order from the evidence alone', () => {
  it('covers the loss recordings', () => {
    expect(scenarios).toEqual(
      expect.arrayContaining(['loss-receiving-host', 'loss-in-bridge', 'jumbo-underlay']),
    );
  });

  it.each(scenarios)('%s', async (scenario) => {
    const topology = JSON.parse(readFileSync(join(samples, scenario, 'topology.json'), 'utf8')) as {
      path: Array<{ file: string }>;
    };
    const names = topology.path.map((p) => p.file.replace(/\.pcap$/, ''));
    const files = topology.path.map((p) => join(samples, scenario, p.file)).reverse();
    const { report } = await analyzeJson(files);
    const path = report.paths[0];
    expect(path?.orderedBy).toBe('evidence');
    expect(path?.hops.map((h) => h.hop)).toEqual(names);
    // The verdicts along the path are the ones the topology gives: split, merge, fragments, loss.
    const given = await analyzeJson(['--topology', join(samples, scenario, 'topology.json'), ...files]);
    const withTopology = given.report.paths[0];
    const where = (p: typeof path) => ({
      split: p?.splitAt ? [p.splitAt.from, p.splitAt.to] : null,
      merged: p?.mergedAt ? [p.mergedAt.from, p.mergedAt.to] : null,
      fragmented: p?.fragmentedAt?.hop ?? null,
      lost: p?.lostAt ? [p.lostAt.from, p.lostAt.to] : null,
      gaps: p?.gaps.map((g) => g.hop),
    });
    expect(where(path)).toEqual(where(withTopology));
    if (!scenario.startsWith('loss-')) expect(path?.lostAt, 'no loss invented').toBeNull();
  });
});
