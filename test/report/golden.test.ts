// Golden outputs: the terminal summary and the JSON document of two lab scenarios, compared with
// files under test/report/golden/. A change of wording or numbers shows up as a diff to review;
// regenerate with `npm run golden` (UPDATE_GOLDEN=1) after checking the change is wanted.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../analyze/helpers.js';

const root = join(import.meta.dirname, '..', '..');
const update = process.env.UPDATE_GOLDEN === '1';

function scenarioArgs(scenario: string): string[] {
  const dir = join('samples', scenario);
  const topology = JSON.parse(readFileSync(join(root, dir, 'topology.json'), 'utf8')) as {
    path: Array<{ file: string }>;
  };
  // Relative paths, so the golden files do not depend on where the repository lives.
  return ['--topology', join(dir, 'topology.json'), ...topology.path.map((p) => join(dir, p.file))];
}

const cases: Array<[string, string[]]> = [
  ['fragmenting-underlay.txt', ['analyze', '--no-color', ...scenarioArgs('fragmenting-underlay')]],
  ['pmtu-underlay.verbose.txt', ['analyze', '--no-color', '--verbose', ...scenarioArgs('pmtu-underlay')]],
  ['nic-tunnel-tso.json', ['analyze', '--json', ...scenarioArgs('nic-tunnel-tso')]],
];

describe('golden reports', () => {
  it.each(cases)('%s', async (file, args) => {
    const cwd = process.cwd();
    process.chdir(root);
    try {
      const run = await runCli([...args, '--log-level', 'silent']);
      expect(run.code).toBe(0);
      const golden = join(import.meta.dirname, 'golden', file);
      if (update || !existsSync(golden)) writeFileSync(golden, run.stdout);
      expect(run.stdout).toBe(readFileSync(golden, 'utf8'));
    } finally {
      process.chdir(cwd);
    }
  });
});
