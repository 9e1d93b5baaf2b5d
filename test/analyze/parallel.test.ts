// analyze reading capture files in worker threads reports exactly what it reports reading them one
// after the other: the real binary (the compiled worker exists only in dist/), on two lab scenarios
// with fragments, PMTU messages, GSO and GRO, and on files whose hop names collide.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { Report } from '../../src/report/model.js';
import { collidingNameFiles } from './colliding-names.js';

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

describe('hop names in worker threads', () => {
  // Files named alike (eth0.pcap of two hosts) and a pcapng interface named like them: the names are
  // made unique in the order the files were given. The largest file (position 1) is read in this
  // thread, the others in a worker, which ends after it: named in that order, position 0 became
  // eth0(2) and position 1 eth0, and a --hop meant for one of them applied to both.
  const tmp = mkdtempSync(join(tmpdir(), 'hopscope-names-'));
  afterAll(() => rmSync(tmp, { recursive: true, force: true }));
  const files = collidingNameFiles(tmp);
  const analyze = (jobs: number, options: string[]) => {
    const out = spawnSync(
      process.execPath,
      [bin, 'analyze', '--json', '--log-level', 'debug', '--jobs', String(jobs), ...options, ...files],
      { cwd: root, encoding: 'utf8' },
    );
    expect(out.status, out.stderr).toBe(0);
    return { report: JSON.parse(out.stdout) as Report, stderr: out.stderr };
  };

  it.each([
    [[], false],
    [['--hop', 'eth0=tap', '--mtu', 'big:eth0=1400'], true],
  ])('are the names of one thread, with options %j', (options, readAgain) => {
    const one = analyze(1, options);
    const two = analyze(2, options);
    expect(two.stderr).toMatch(/reading the captures in worker threads/);
    expect(one.report.captures.map((c) => c.hops)).toEqual([['eth0'], ['big:eth0'], ['eth0(2)']]);
    expect(JSON.stringify(two.report)).toBe(JSON.stringify(one.report));
    // A name that changes what a hop is (a kind or an MTU given for it) has its files read again.
    expect(/reading again in order/.test(two.stderr)).toBe(readAgain);
  });
});
