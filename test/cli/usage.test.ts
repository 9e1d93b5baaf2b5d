// A usage error is the whole answer: yargs calls the command handler even after .fail() reported a
// validation error, and the analysis must not run then (no report on stdout, only the usage line).
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../analyze/helpers.js';

const sample = join(import.meta.dirname, '..', '..', 'samples', 'jumbo-underlay', 'guest1-eth0.pcap');

describe('usage errors stop before the analysis', () => {
  it('names the unknown option and prints no report even when captures are given', async () => {
    const run = await runCli(['analyze', '--frobnicate', 'yes', sample]);
    expect(run.code).toBe(2);
    expect(run.stdout).toBe('');
    expect(run.stderr).toBe('hopscope: Unknown argument: frobnicate\nRun hopscope --help for usage.\n');
  });

  it('rejects a --log-level outside the choices without analysing', async () => {
    const run = await runCli(['analyze', '--log-level', 'chatty', '--json', sample]);
    expect(run.code).toBe(2);
    expect(run.stdout).toBe('');
    expect(run.stderr).toMatch(/^hopscope: Invalid values:/);
  });
});

describe('help of a command', () => {
  it('prints the options of analyze for analyze --help (the help cache is off, the help is not)', async () => {
    const run = await runCli(['analyze', '--help']);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('hopscope analyze <captures..>');
    expect(run.stdout).toContain('--topology');
    expect(run.stderr).toBe('');
  });
});
