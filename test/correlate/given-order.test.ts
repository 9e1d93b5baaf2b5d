// An order given by --path or a topology names the hops of both directions at once; a flow whose
// data runs the other way (a download, iperf3 -R) must be drawn in its data's direction, so a
// split never turns into a merge. A lab recording with its path given backwards.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { analyzeJson } from '../analyze/helpers.js';

const root = join(import.meta.dirname, '..', '..');

describe('an order given against the data', () => {
  it('is followed in the direction the data runs', async () => {
    const dir = join(root, 'samples', 'jumbo-underlay');
    const topology = JSON.parse(readFileSync(join(dir, 'topology.json'), 'utf8')) as {
      path: Array<{ file: string }>;
    };
    const names = topology.path.map((p) => p.file.replace(/\.pcap$/, ''));
    const files = topology.path.map((p) => join(dir, p.file));
    const forward = await analyzeJson(['--path', names.join(','), ...files]);
    const backward = await analyzeJson(['--path', [...names].reverse().join(','), ...files]);
    const f = forward.report.paths[0];
    const b = backward.report.paths[0];
    expect(b?.orderedBy).toBe('path');
    expect(b?.hops.map((h) => h.hop)).toEqual(names);
    expect(b?.splitAt).toEqual(f?.splitAt);
    expect(b?.mergedAt).toEqual(f?.mergedAt);
    expect(b?.splitAt).toMatchObject({ from: 'host1-vxlan-97', to: 'host1-phy0' });
  });
});
