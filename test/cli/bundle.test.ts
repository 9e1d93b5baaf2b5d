// The bundled CLI (scripts/bundle.mjs, the second step of npm run build) behaves like tsc's build:
// same help, translated help, report and usage errors; it loads no module of node_modules and the
// analysis only for analyze; and an internal error still shows its stack in src/*.ts. The tests'
// global set-up builds dist/ with tsc alone, so this bundles a copy of it into a scratch folder.
import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const root = join(import.meta.dirname, '..', '..');
const sample = join(root, 'samples', 'jumbo-underlay', 'guest1-eth0.pcap');
const recorder = pathToFileURL(join(import.meta.dirname, 'fixtures', 'record-imports.mjs')).href;
const brokenStdout = pathToFileURL(join(import.meta.dirname, 'fixtures', 'broken-stdout.mjs')).href;
const scratch = mkdtempSync(join(tmpdir(), 'hopscope-bundle-'));
const bundled = join(scratch, 'pkg');

beforeAll(() => {
  // The package as npm run build leaves it: tsc's dist/, then the bundle over dist/cli/main.js.
  cpSync(join(root, 'dist'), join(bundled, 'dist'), { recursive: true });
  cpSync(join(root, 'bin'), join(bundled, 'bin'), { recursive: true });
  cpSync(join(root, 'package.json'), join(bundled, 'package.json'));
  symlinkSync(join(root, 'node_modules'), join(bundled, 'node_modules'), 'dir');
  execFileSync(
    process.execPath,
    [join(root, 'scripts', 'bundle.mjs'), '--outdir', join(bundled, 'dist', 'cli')],
    {
      stdio: 'inherit',
    },
  );
});
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

let seq = 0;
interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
  /** Files loaded from the package, relative to it. */
  loaded: string[];
}
function run(pkg: string, args: string[], env: Record<string, string> = {}, preload = recorder): Run {
  const record = join(scratch, `imports-${seq++}.txt`);
  const child = spawnSync(process.execPath, ['--import', preload, join(pkg, 'bin', 'hopscope.js'), ...args], {
    encoding: 'utf8',
    env: { ...process.env, NO_COLOR: '1', HOPSCOPE_RECORD_IMPORTS: record, ...env },
  });
  const prefix = pathToFileURL(`${pkg}/`).href;
  let loaded: string[] = [];
  try {
    loaded = readFileSync(record, 'utf8')
      .split('\n')
      .filter((url) => url.startsWith(prefix))
      .map((url) => url.slice(prefix.length));
  } catch {}
  return { code: child.status, stdout: child.stdout, stderr: child.stderr, loaded };
}

describe('the bundled CLI', () => {
  it('prints the same help as the tsc build, loading one file and its shared chunk, nothing else', () => {
    const ours = run(bundled, ['--help']);
    expect(ours.code).toBe(0);
    expect(ours.stdout).toBe(run(root, ['--help']).stdout);
    expect(ours.loaded.filter((path) => !/^dist\/cli\/chunk-[A-Z0-9]+\.js$/.test(path))).toEqual([
      'bin/hopscope.js',
      'dist/cli/version.js',
      'dist/cli/main.js',
    ]);
  });

  it("lays out translated help like the tsc build: yargs' locales found, wide characters measured", () => {
    // Japanese help has double-width characters: string-width's (lazily built) segmenter at work.
    for (const [locale, word] of [
      ['de_DE.UTF-8', 'Möglichkeiten'],
      ['ja_JP.UTF-8', '必須'],
    ] as const) {
      const env = { LC_ALL: locale, LANG: locale };
      const ours = run(bundled, ['analyze', '--help'], env);
      expect(ours.stdout, locale).toContain(word);
      expect(ours.stdout, locale).toBe(run(root, ['analyze', '--help'], env).stdout);
    }
  });

  it('writes the same report as the tsc build and loads the analysis chunk only for analyze', () => {
    const ours = run(bundled, ['analyze', '--json', sample]);
    expect(ours.code).toBe(0);
    expect(ours.stdout).toBe(run(root, ['analyze', '--json', sample]).stdout);
    expect(ours.loaded.some((path) => /^dist\/cli\/analysis-[A-Z0-9]+\.js$/.test(path))).toBe(true);
    expect(
      ours.loaded.filter((path) => path.startsWith('node_modules/') || !path.startsWith('dist/cli/')),
    ).toEqual(['bin/hopscope.js']);
  });

  it('answers a usage error like the tsc build, without the analysis chunk', () => {
    const ours = run(bundled, ['analyze', '--frobnicate', 'yes', sample]);
    expect(ours.code).toBe(2);
    expect(ours.stderr).toBe(run(root, ['analyze', '--frobnicate', 'yes', sample]).stderr);
    expect(ours.loaded.some((path) => path.includes('analysis'))).toBe(false);
  });

  it('loads the service of live (prom-client, a CommonJS package left out of the bundle) like the tsc build', () => {
    // A listen address beyond loopback without a token: refused once the service's modules loaded.
    const args = ['live', '-i', 'lo', '--listen', '0.0.0.0:0'];
    const ours = run(bundled, args);
    expect(ours.stderr).toMatch(/reachable from other hosts/);
    expect(ours.code).toBe(2);
    expect(ours.stderr).toBe(run(root, args).stderr);
    expect(ours.loaded.some((path) => path.includes('live-service'))).toBe(true);
  });

  it('reports an internal error with its stack mapped to src/*.ts, in both builds', () => {
    for (const pkg of [bundled, root]) {
      const broken = run(pkg, ['analyze', sample], {}, brokenStdout);
      expect(broken.code, pkg).toBe(70);
      expect(broken.stderr, pkg).toMatch(/^hopscope: internal error: Error: stdout is broken/);
      expect(broken.stderr, pkg).toMatch(/at runAnalyze \(.*src\/cli\/main\.ts:\d+:\d+\)/);
      expect(broken.stderr, pkg).not.toMatch(/dist\/cli\/[\w-]+\.js:\d+/);
    }
  });
});
