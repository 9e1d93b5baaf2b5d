// The command line as a user meets it: exit codes, one-line errors naming the file, overrides,
// the JSON document's documented keys, and that a bad capture never stops the others.
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { analyzeJson, runCli } from './helpers.js';

const samples = join(import.meta.dirname, '..', '..', 'samples');
const phy = join(samples, 'fragmenting-underlay', 'host1-phy0.pcap');
const guest = join(samples, 'pmtu-underlay', 'guest1-eth0.pcap');
const scratch = mkdtempSync(join(tmpdir(), 'hopscope-cli-'));

describe('hopscope analyze: usage', () => {
  it('exits 2 with a usage message for an unknown option, a missing capture list or a bad --mtu', async () => {
    for (const args of [
      ['analyze', '--frobnicate', phy],
      ['analyze'],
      [],
      ['analyze', '--mtu', 'host1-phy0=huge', phy],
      ['analyze', '--hop', 'host1-phy0=toaster', phy],
    ]) {
      const run = await runCli(args);
      expect(run.code, args.join(' ')).toBe(2);
      expect(run.stderr).toMatch(/hopscope: .+/);
      expect(run.stdout).toBe('');
    }
  });

  it('prints help and the version', async () => {
    const help = await runCli(['--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('analyze <captures..>');
    const version = await runCli(['--version']);
    expect(version.stdout.trim()).toBe(
      (
        JSON.parse(readFileSync(join(import.meta.dirname, '..', '..', 'package.json'), 'utf8')) as {
          version: string;
        }
      ).version,
    );
  });
});

describe('hopscope analyze: bad input', () => {
  const empty = join(scratch, 'empty.pcap');
  writeFileSync(empty, '');
  const text = join(scratch, 'notes.pcap');
  writeFileSync(text, 'this is not a capture\n');
  const folder = join(scratch, 'a-folder');
  mkdirSync(folder);
  const truncated = join(scratch, 'cut.pcap');
  writeFileSync(truncated, readFileSync(guest).subarray(0, 5000));
  const missing = join(scratch, 'missing.pcap');

  it('reports each unreadable capture in one line naming it, analyses the rest, exits 1', async () => {
    const { report, run } = await analyzeJson([empty, text, folder, missing, guest]);
    expect(run.code).toBe(1);
    const byPath = new Map(report.captures.map((c) => [c.path, c]));
    for (const bad of [empty, text, folder, missing]) {
      const errors = byPath.get(bad)?.errors ?? [];
      expect(errors, bad).toHaveLength(1);
      expect(errors[0]).toContain(bad);
      expect(errors[0]).not.toContain('\n');
      expect(run.stderr).toContain(bad);
    }
    expect(byPath.get(text)?.errors[0]).toMatch(/not a (pcap|capture)/i);
    expect(byPath.get(empty)?.errors[0]).toMatch(/empty/i);
    expect(byPath.get(guest)?.errors).toEqual([]);
    expect(report.hops.map((h) => h.name)).toEqual(['guest1-eth0']);
    expect(report.hops[0]?.frames).toBeGreaterThan(0);
  });

  it('keeps the frames before a cut-off record and says which frame was cut', async () => {
    const { report, run } = await analyzeJson([truncated]);
    expect(run.code).toBe(0);
    const capture = report.captures[0];
    expect(capture?.frames).toBeGreaterThan(0);
    expect(capture?.errors).toHaveLength(1);
    expect(capture?.errors[0]).toContain(truncated);
    expect(capture?.errors[0]).toMatch(new RegExp(`frame ${(capture?.frames ?? 0) + 1}\\b`));
    const finding = report.findings.find((f) => f.code === 'capture.truncated-file');
    expect(finding?.hop).toBe('cut');
  });
});

describe('hopscope analyze: hops', () => {
  it('names a hop after its file and takes kind and MTU from --hop and --mtu', async () => {
    const plain = await analyzeJson([phy]);
    expect(plain.report.hops[0]?.name).toBe('host1-phy0');
    expect(plain.report.hops[0]?.kind).toBe('physical');
    expect(plain.report.hops[0]?.kindSource).toBe('traffic');
    expect(plain.report.hops[0]?.mtuSource).toBe('inferred');
    const given = await analyzeJson(['--hop', 'host1-phy0=bridge', '--mtu', 'host1-phy0=1400', phy]);
    expect(given.report.hops[0]?.kind).toBe('bridge');
    expect(given.report.hops[0]?.mtu).toBe(1400);
    expect(given.report.hops[0]?.mtuSource).toBe('given');
  });

  it('documents the JSON keys the README promises', async () => {
    const { report } = await analyzeJson([guest]);
    expect(Object.keys(report)).toEqual(expect.arrayContaining(['version', 'captures', 'hops', 'findings']));
    expect(Object.keys(report.captures[0] ?? {})).toEqual(
      expect.arrayContaining(['path', 'hop', 'format', 'linkTypes', 'frames', 'snaplen', 'errors']),
    );
    const hop = report.hops[0];
    expect(Object.keys(hop ?? {})).toEqual(
      expect.arrayContaining(['name', 'kind', 'mtu', 'frames', 'checksums', 'superFrames', 'fragments']),
    );
    expect(Object.keys(hop?.checksums ?? {}).sort()).toEqual(
      ['bad', 'good', 'lco', 'partial', 'unverifiable', 'zero'].sort(),
    );
    for (const finding of report.findings) {
      expect(Object.keys(finding)).toEqual(
        expect.arrayContaining([
          'code',
          'severity',
          'hop',
          'flow',
          'title',
          'explanation',
          'fix',
          'count',
          'evidence',
        ]),
      );
      expect(finding.evidence.length).toBeLessThanOrEqual(10);
      expect(finding.evidence.length).toBeGreaterThan(0);
      expect(finding.count).toBeGreaterThanOrEqual(finding.evidence.length);
      expect(`${finding.title} ${finding.explanation} ${finding.fix}`).not.toMatch(/\{\w+\}/);
    }
  });

  it('writes a plain-text summary without colour when stdout is not a terminal', async () => {
    const run = await runCli(['analyze', '--log-level', 'silent', guest]);
    expect(run.code).toBe(0);
    expect(run.stdout).not.toContain('\u001b[');
    expect(run.stdout).toContain('guest1-eth0');
    expect(run.stdout).toMatch(/Fix: /);
    expect(run.stderr).toBe('');
  });
});

describe('hopscope analyze: the real binary', () => {
  const bin = join(import.meta.dirname, '..', '..', 'bin', 'hopscope.js');
  it('keeps stdout pure JSON and writes pino log lines only to stderr', () => {
    const run = spawnSync(
      'node',
      [bin, 'analyze', '--json', '--log-level', 'debug', guest, join(scratch, 'nope.pcap')],
      {
        encoding: 'utf8',
      },
    );
    expect(run.status).toBe(1);
    const report = JSON.parse(run.stdout) as { captures: unknown[] };
    expect(report.captures).toHaveLength(2);
    const logLines = run.stderr
      .split('\n')
      .filter((line) => line.startsWith('{'))
      .map((line) => JSON.parse(line) as { name: string; level: number; msg: string; capture?: string });
    expect(
      logLines.some(
        (l) => l.name === 'hopscope' && l.capture?.endsWith('nope.pcap') && /no such file/.test(l.msg),
      ),
    ).toBe(true);
    expect(run.stderr).toContain(`hopscope: ${join(scratch, 'nope.pcap')}: no such file`);
  });

  it('by default logs nothing but the one-line error', () => {
    const run = spawnSync('node', [bin, 'analyze', guest, join(scratch, 'nope.pcap')], { encoding: 'utf8' });
    expect(run.status).toBe(1);
    expect(run.stderr.trim().split('\n')).toEqual([`hopscope: ${join(scratch, 'nope.pcap')}: no such file`]);
    expect(run.stdout).toContain('guest1-eth0');
  });
});
