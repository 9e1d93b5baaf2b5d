// Golden Markdown reports: `hopscope report --format md` of every lab scenario under samples/ (each
// directory with a topology file), compared with test/report/golden/md/<scenario>.md. A change of
// wording, numbers or evidence lines shows up as a diff to review; `npm run golden` rewrites them
// (UPDATE_GOLDEN=1) once the change is wanted. SOURCE_DATE_EPOCH fixes the report's time stamp.
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../analyze/helpers.js';

const root = join(import.meta.dirname, '..', '..');
const goldenDir = join(import.meta.dirname, 'golden', 'md');
const update = process.env.UPDATE_GOLDEN === '1';

/** Every scenario directory with a topology file, and the captures in the topology's path order. */
function scenarios(): Array<{ name: string; args: string[] }> {
  const out: Array<{ name: string; args: string[] }> = [];
  for (const name of readdirSync(join(root, 'samples')).sort()) {
    const dir = join('samples', name);
    let files: string[];
    try {
      files = readdirSync(join(root, dir));
    } catch {
      continue;
    }
    const topologyFile = files.find((f) => f.endsWith('topology.json'));
    if (topologyFile === undefined) continue;
    const topology = JSON.parse(readFileSync(join(root, dir, topologyFile), 'utf8')) as {
      path: Array<{ file: string }>;
    };
    // Relative paths, so the golden files do not depend on where the repository lives.
    out.push({
      name,
      args: ['--topology', join(dir, topologyFile), ...topology.path.map((p) => join(dir, p.file))],
    });
  }
  return out;
}

const cases = scenarios();
let savedEpoch: string | undefined;

beforeAll(() => {
  savedEpoch = process.env.SOURCE_DATE_EPOCH;
  process.env.SOURCE_DATE_EPOCH = '1798761600';
  mkdirSync(goldenDir, { recursive: true });
});
afterAll(() => {
  if (savedEpoch === undefined) delete process.env.SOURCE_DATE_EPOCH;
  else process.env.SOURCE_DATE_EPOCH = savedEpoch;
});

describe('golden Markdown reports', () => {
  it('finds the lab scenarios', () => {
    expect(cases.length).toBeGreaterThanOrEqual(10);
  });

  it.each(cases)('$name', async ({ name, args }) => {
    const cwd = process.cwd();
    process.chdir(root);
    try {
      const run = await runCli(['report', '--format', 'md', '--log-level', 'silent', ...args]);
      expect(run.stderr).toBe('');
      expect(run.code).toBe(0);
      const golden = join(goldenDir, `${name}.md`);
      if (update || !existsSync(golden)) writeFileSync(golden, run.stdout);
      expect(run.stdout).toBe(readFileSync(golden, 'utf8'));
    } finally {
      process.chdir(cwd);
    }
  });
});
