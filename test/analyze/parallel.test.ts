// analyze reading capture files in worker threads reports exactly what it reports reading them one
// after the other: the real binary (the compiled worker exists only in dist/), on two lab scenarios
// with fragments, PMTU messages, GSO and GRO.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Report } from '../../src/report/model.js';

const root = join(import.meta.dirname, '..', '..');
const bin = join(root, 'bin', 'hopscope.js');

function run(scenario: string, jobs: number): { report: Report; stderr: string } {
  const dir = join('samples', scenario);
  const topology = JSON.parse(readFileSync(join(root, dir, 'topology.json'), 'utf8')) as {
    path: Array<{ file: string }>;
  };
  const files = topology.path.map((p) => join(dir, p.file));
  const out = spawnSync(
    process.execPath,
    [
      bin,
      'analyze',
      '--json',
      '--log-level',
      'debug',
      '--jobs',
      String(jobs),
      '--topology',
      join(dir, 'topology.json'),
      ...files,
    ],
    { cwd: root, encoding: 'utf8' },
  );
  expect(out.status, out.stderr).toBe(0);
  return { report: JSON.parse(out.stdout) as Report, stderr: out.stderr };
}

describe('analyze in worker threads', () => {
  it.each(['fragmenting-underlay', 'pmtu-underlay'])('%s: the same report as one thread', (scenario) => {
    const one = run(scenario, 0);
    const two = run(scenario, 2);
    expect(one.stderr).not.toMatch(/worker threads/);
    expect(two.stderr).toMatch(/"threads":2.*reading the captures in worker threads/);
    expect(two.report.findings.length).toBeGreaterThan(0);
    expect(two.report.paths.length).toBeGreaterThan(0);
    expect(JSON.stringify(two.report)).toBe(JSON.stringify(one.report));
  });
});
