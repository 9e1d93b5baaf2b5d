// `hopscope live` on the command line, where no capture is needed to answer: what to capture on
// must be said, and said in a form that names one interface (IF or NETNS/IF); numbers must be
// numbers. Each is a usage error (exit 2) with one line naming the option.
import { describe, expect, it } from 'vitest';
import { runCli } from '../analyze/helpers.js';

describe('hopscope live usage', () => {
  it('needs an interface or a tap to follow', async () => {
    const run = await runCli(['live']);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/^hopscope: live: name the interfaces to capture on \(-i IF, -i NETNS\/IF\)/);
  });

  it('refuses specs that name no single interface, and numbers that are not', async () => {
    for (const [args, said] of [
      [['live', '-i', 'a/b/c'], /-i a\/b\/c: one slash at most/],
      [['live', '--follow', 'ns/'], /--follow ns\/: not an interface name/],
      [['live', '-i', 'eth0', '--count', '0'], /--count takes a positive whole number, not 0/],
      [['live', '-i', 'eth0', '--snaplen', '1.5'], /--snaplen takes a positive whole number/],
      [['live', '-i', 'eth0', '--backend', 'pf_ring'], /Invalid values:.*backend/s],
      [['live', '-i'], /^hopscope: -i needs a value/],
    ] as Array<[string[], RegExp]>) {
      const run = await runCli(args);
      expect(run.code, args.join(' ')).toBe(2);
      expect(run.stderr, args.join(' ')).toMatch(said);
      expect(run.stdout).toBe('');
    }
  });

  it('is listed in --help with its options', async () => {
    const help = await runCli(['live', '--help']);
    expect(help.code).toBe(0);
    for (const option of [
      '--interface',
      '--follow',
      '--backend',
      '--filter',
      '--snaplen',
      '--buffer-size',
      '--duration',
      '--count',
    ])
      expect(help.stdout).toContain(option);
  });
});
