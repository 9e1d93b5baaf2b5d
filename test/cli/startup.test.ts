// Start-up: each command loads only what it needs. `--version` is answered without yargs or any of
// the analysis, `--help` without the analysis; analyze loads both. Checked on the built binary
// (dist/, built by test/global-setup.ts) through an ESM loader hook that records every module
// loaded, so a static import creeping back in fails here (no timings: they are not tests).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.js';

const root = join(import.meta.dirname, '..', '..');
const rootUrl = pathToFileURL(`${root}/`).href;
const bin = join(root, 'bin', 'hopscope.js');
const recorder = join(import.meta.dirname, 'fixtures', 'record-imports.mjs');
const sample = join(root, 'samples', 'jumbo-underlay', 'guest1-eth0.pcap');
const scratch = mkdtempSync(join(tmpdir(), 'hopscope-startup-'));
const version = (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string }).version;
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

let seq = 0;
/** Runs bin/hopscope.js; returns its output and the project files it loaded, relative to the root. */
function run(args: string[]): { code: number | null; stdout: string; stderr: string; loaded: string[] } {
  const record = join(scratch, `imports-${seq++}.txt`);
  const child = spawnSync(process.execPath, ['--import', pathToFileURL(recorder).href, bin, ...args], {
    encoding: 'utf8',
    env: { ...process.env, HOPSCOPE_RECORD_IMPORTS: record, NO_COLOR: '1' },
  });
  const loaded = readFileSync(record, 'utf8')
    .split('\n')
    .filter((url) => url.startsWith(rootUrl))
    .map((url) => url.slice(rootUrl.length));
  return { code: child.status, stdout: child.stdout, stderr: child.stderr, loaded };
}

const ANALYSIS = /^dist\/(pipeline|report|capture|decode|observe|correlate|findings)\//;

describe('start-up: each command loads only what it needs', () => {
  it('answers --version and -V from package.json alone: no yargs, no analysis', () => {
    for (const flag of ['--version', '-V']) {
      const r = run([flag]);
      expect(r.code, flag).toBe(0);
      expect(r.stdout, flag).toBe(`${version}\n`);
      expect(
        r.loaded.filter((path) => !path.startsWith('test/')),
        flag,
      ).toEqual(['bin/hopscope.js', 'dist/cli/version.js']);
    }
  });

  it('prints --help with yargs but without the analysis modules', () => {
    const r = run(['--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('analyze <captures..>');
    expect(r.loaded).toContain('node_modules/yargs/index.mjs');
    expect(r.loaded.filter((path) => ANALYSIS.test(path))).toEqual([]);
  });

  it('rejects a usage error without loading the analysis', () => {
    const r = run(['analyze', '--frobnicate', 'yes', sample]);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/^hopscope: Unknown argument: frobnicate/);
    expect(r.loaded.filter((path) => ANALYSIS.test(path))).toEqual([]);
  });

  it('loads explain only for explain, and explain loads no capture reading or analysis pipeline', () => {
    const help = run(['--help']);
    expect(help.loaded.filter((path) => path.startsWith('dist/explain/'))).toEqual([]);
    const text = join(scratch, 'lines.txt');
    writeFileSync(
      text,
      '    20.0.0.150.56230 > 20.0.0.103.5001: Flags [.], cksum 0x2ecb (incorrect -> 0xc064), seq 1:1449, ack 1, win 229, options [nop,nop,TS val 7353870 ecr 564507], length 1448\n',
    );
    const r = run(['explain', text]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('Transmit checksum offload; not an error');
    expect(r.loaded).toContain('dist/explain/explain.js');
    expect(
      r.loaded.filter((path) => /^dist\/(pipeline|report|capture|decode|correlate)\//.test(path)),
    ).toEqual([]);
  });

  it('loads the analysis for analyze (the recorder sees dynamic imports too)', () => {
    const r = run(['analyze', '--json', sample]);
    expect(r.code).toBe(0);
    expect((JSON.parse(r.stdout) as { hops: { name: string }[] }).hops.map((h) => h.name)).toEqual([
      'guest1-eth0',
    ]);
    expect(r.loaded).toContain('dist/pipeline/analyze.js');
    expect(r.loaded).toContain('dist/report/text.js');
  });
});

describe('--version through yargs', () => {
  it('prints the same as the fast path for --version and -V when main() parses them', async () => {
    for (const flag of ['--version', '-V']) {
      const chunks: string[] = [];
      const stdout = new Writable({
        write(chunk, _enc, done) {
          chunks.push(String(chunk));
          done();
        },
      });
      const code = await main([flag], { stdout, stderr: stdout });
      expect(code, flag).toBe(0);
      expect(chunks.join(''), flag).toBe(`${version}\n`);
    }
  });
});

describe("yargs' help cache (main.ts skips it)", () => {
  it('is still where main.ts switches it off, so a yargs upgrade that moves it is noticed', async () => {
    const { default: yargs } = await import('yargs');
    const parser = yargs([]) as unknown as {
      getInternalMethods: () => { getUsageInstance: () => { cacheHelpMessage: unknown } };
    };
    expect(typeof parser.getInternalMethods().getUsageInstance().cacheHelpMessage).toBe('function');
  });
});
