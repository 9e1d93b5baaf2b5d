// `analyze [--json] [--verbose] FILE...` is parsed without yargs (version.ts plainAnalyzeArgs, to
// save loading yargs); every other command line goes through yargs. The two must not differ: the
// same command line made to go through yargs (by adding `--log-level warn`, the default) gives the
// same output, errors and exit code. And the bundle's plain entry must really leave yargs out.
import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { plainAnalyzeArgs } from '../../src/cli/version.js';
import { runCli } from '../analyze/helpers.js';

const root = join(import.meta.dirname, '..', '..');
const recorder = pathToFileURL(join(import.meta.dirname, 'fixtures', 'record-imports.mjs')).href;

const dir = join(import.meta.dirname, '..', '..', 'samples', 'jumbo-underlay');
const guest = join(dir, 'guest1-eth0.pcap');
const tap = join(dir, 'host1-tap0.pcap');
const missing = join(dir, 'no-such-capture.pcap');

describe('plainAnalyzeArgs', () => {
  it('takes analyze with plain file names, --json and --verbose in any order', () => {
    expect(plainAnalyzeArgs(['analyze', guest])).toEqual({
      captures: [guest],
      json: false,
      verbose: false,
    });
    expect(plainAnalyzeArgs(['analyze', guest, '--verbose', tap, '--json'])).toEqual({
      captures: [guest, tap],
      json: true,
      verbose: true,
    });
  });

  it('leaves everything else to yargs', () => {
    const others = [
      [],
      ['--help'],
      ['analyze'],
      ['analyze', '--json'],
      ['analyze', '--help', guest],
      ['analyze', '-', guest],
      ['analyze', '--', guest],
      ['analyze', '-x.pcap'],
      ['analyze', ''],
      ['analyze', '--json', '--json', guest],
      ['analyze', '--json=false', guest],
      ['analyze', '--no-json', guest],
      ['analyze', '--jobs', '2', guest],
      ['analyse', guest],
      [guest],
    ];
    for (const argv of others) expect(plainAnalyzeArgs(argv), argv.join(' ')).toBeNull();
  });
});

describe('the plain path answers as yargs does', () => {
  const cases = [
    ['--json', guest],
    [guest, '--verbose'],
    [guest, tap, '--json'],
    [guest, missing],
    [missing],
  ];
  for (const args of cases) {
    it(`analyze ${args.map((a) => a.split('/').pop()).join(' ')}`, async () => {
      expect(plainAnalyzeArgs(['analyze', ...args])).not.toBeNull();
      const plain = await runCli(['analyze', ...args]);
      const viaYargs = await runCli(['analyze', '--log-level', 'warn', ...args]);
      expect(plain.stdout.length + plain.stderr.length).toBeGreaterThan(0);
      expect(plain).toEqual(viaYargs);
    });
  }
});

describe('the bundled plain entry', () => {
  const scratch = mkdtempSync(join(tmpdir(), 'hopscope-plain-'));
  afterAll(() => rmSync(scratch, { recursive: true, force: true }));

  it('analyses without loading yargs and writes what the yargs path writes', () => {
    // The package as npm run build leaves it: tsc's dist/, then the bundles over dist/cli/.
    const pkg = join(scratch, 'pkg');
    cpSync(join(root, 'dist'), join(pkg, 'dist'), { recursive: true });
    cpSync(join(root, 'bin'), join(pkg, 'bin'), { recursive: true });
    cpSync(join(root, 'package.json'), join(pkg, 'package.json'));
    symlinkSync(join(root, 'node_modules'), join(pkg, 'node_modules'), 'dir');
    execFileSync(process.execPath, [
      join(root, 'scripts', 'bundle.mjs'),
      '--outdir',
      join(pkg, 'dist', 'cli'),
    ]);
    const run = (args: string[], n: number) => {
      const record = join(scratch, `imports-${n}.txt`);
      const child = spawnSync(
        process.execPath,
        ['--import', recorder, join(pkg, 'bin', 'hopscope.js'), ...args],
        {
          encoding: 'utf8',
          env: { ...process.env, NO_COLOR: '1', HOPSCOPE_RECORD_IMPORTS: record },
        },
      );
      const loaded = readFileSync(record, 'utf8').split('\n');
      return { code: child.status, stdout: child.stdout, stderr: child.stderr, loaded };
    };
    const plain = run(['analyze', '--json', guest, tap], 0);
    const viaYargs = run(['analyze', '--json', '--log-level', 'warn', guest, tap], 1);
    expect(plain.code).toBe(0);
    expect(plain.stdout).toBe(viaYargs.stdout);
    expect(plain.loaded.some((url) => url.endsWith('/dist/cli/plain.js'))).toBe(true);
    expect(plain.loaded.filter((url) => url.includes('/dist/cli/main.js') || url.includes('yargs'))).toEqual(
      [],
    );
    // No file the plain run loads holds yargs' code (bundled, yargs' class is YargsInstance); the
    // yargs path loads it, so the check can fail.
    const bundled = (urls: string[]) =>
      urls
        .filter((url) => url.startsWith('file:') && url.includes('/dist/cli/'))
        .map((url) => readFileSync(new URL(url), 'utf8'));
    expect(bundled(plain.loaded).some((code) => code.includes('runAnalyze'))).toBe(true);
    expect(bundled(plain.loaded).filter((code) => code.includes('YargsInstance'))).toEqual([]);
    expect(bundled(viaYargs.loaded).some((code) => code.includes('YargsInstance'))).toBe(true);
  });
});
