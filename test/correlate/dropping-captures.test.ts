// Captures that drop frames under load (test/fixtures/dropping-captures: a lab run with whole
// frames where every one of the ten tcpdumps lost frames): the report must not call the missing
// frames lost, nor the bridges' places wrong. Before, this window said "Data lost between
// host2-brq97 and host2-tap0" and that the topology file contradicted the captures.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { analyzeJson } from '../analyze/helpers.js';

const dir = join(import.meta.dirname, '..', 'fixtures', 'dropping-captures');
const topology = JSON.parse(readFileSync(join(dir, 'topology.json'), 'utf8')) as {
  path: Array<{ file: string }>;
};
const names = topology.path.map((p) => p.file.replace(/\.pcap$/, ''));
const files = topology.path.map((p) => join(dir, p.file));

describe('captures that dropped frames', () => {
  it('are ordered by the evidence alone as the topology says, each bridge on its own host', async () => {
    const { report } = await analyzeJson([...files].reverse());
    const path = report.paths[0];
    expect(path?.orderedBy).toBe('evidence');
    expect(path?.hops.map((h) => h.hop)).toEqual(names);
    // ... and say that an order from captures this incomplete may be wrong, naming them.
    const doubt = report.findings.find((f) => f.code === 'capture.order-uncertain' && f.flow === path?.flow);
    expect(doubt?.severity).toBe('warn');
    const carried = Math.max(...(path?.hops.map((h) => h.bytes) ?? []));
    const lossy = (path?.gaps ?? []).filter((g) => g.bytes >= carried / 10).map((g) => g.hop);
    expect(lossy.length).toBeGreaterThan(0);
    expect(doubt?.facts.hops).toEqual([...new Set(lossy)]);
    expect(doubt?.fix).toContain('--topology');
  });

  it('show gaps at the capture points, no loss and no contradicted order', async () => {
    const { report } = await analyzeJson(['--topology', join(dir, 'topology.json'), ...files]);
    const codes = report.findings.map((f) => f.code);
    expect(codes).not.toContain('loss.between-hops');
    expect(codes).not.toContain('capture.order-contradicted');
    // The order was given: no doubt about it.
    expect(codes).not.toContain('capture.order-uncertain');
    const path = report.paths[0];
    expect(path?.lostAt).toBeNull();
    // Most capture points dropped some of this flow's data (the first has nothing to be compared with).
    const gapped = new Set(path?.gaps.map((g) => g.hop));
    expect(gapped.size).toBeGreaterThanOrEqual(6);
    expect(gapped.has(names[0] as string)).toBe(false);
    const proofs = new Set(
      report.findings.filter((f) => f.code === 'capture.gap').map((f) => f.facts.proof as string),
    );
    expect(proofs).toEqual(new Set(['later-hop', 'acknowledged']));
  });

  it('given an order, are not said to contradict it: waits from captures this incomplete cannot', async () => {
    // On complete captures a swapped --path is called out (paths.test.ts); here the ACK waits are
    // stretched by the ACKs the captures missed, and the given order is the better evidence.
    const given = [...names];
    [given[2], given[3]] = [given[3] as string, given[2] as string];
    const { report } = await analyzeJson(['--path', given.join(','), ...files]);
    const path = report.paths[0];
    expect(path?.orderedBy).toBe('path');
    expect(path?.hops.map((h) => h.hop)).toEqual(given);
    expect(report.findings.map((f) => f.code)).not.toContain('capture.order-contradicted');
  });
});
