// Damaged and odd command lines and surroundings (issue 12): a topology that never ends or holds
// impossible values, options without their value, `--` before captures named like options, a
// stdout that cannot be written, and a FIFO nobody writes to. Each answer is one line on stderr and
// an exit code a script can tell apart; nothing prints a stack or waits without saying so.
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import {
  closeSync,
  copyFileSync,
  mkdtempSync,
  openSync,
  readFileSync,
  truncateSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../analyze/helpers.js';

const root = join(import.meta.dirname, '..', '..');
const bin = join(root, 'bin', 'hopscope.js');
const scenario = join(root, 'samples', 'jumbo-underlay');
const sample = join(scenario, 'guest1-eth0.pcap');
const scratch = mkdtempSync(join(tmpdir(), 'hopscope-odd-'));

/** The real binary, as a shell runs it. */
function hopscope(args: string[], options: { cwd?: string; timeout?: number; stdout?: number } = {}) {
  const child = spawnSync(process.execPath, [bin, ...args], {
    encoding: 'utf8',
    cwd: options.cwd ?? root,
    timeout: options.timeout ?? 30_000,
    stdio: ['ignore', options.stdout ?? 'pipe', 'pipe'],
    env: { ...process.env, NO_COLOR: '1' },
  });
  return { code: child.status, signal: child.signal, stdout: child.stdout ?? '', stderr: child.stderr ?? '' };
}

/** A usage error: exit 2, one line naming the problem, the hint, no stack, nothing on stdout. */
function expectUsageError(run: { code: number | null; stdout: string; stderr: string }, pattern: RegExp) {
  expect(run.stderr).toMatch(pattern);
  expect(run.code).toBe(2);
  expect(run.stdout).toBe('');
  const lines = run.stderr.trimEnd().split('\n');
  expect(lines).toHaveLength(2);
  expect(lines[0]).toMatch(/^hopscope: /);
  expect(lines[1]).toBe('Run hopscope --help for usage.');
}

function topology(name: string, content: unknown): string {
  const file = join(scratch, name);
  writeFileSync(file, typeof content === 'string' ? content : JSON.stringify(content));
  return file;
}

describe('--topology: a file of bounded size', () => {
  it('stops reading a device that never ends (/dev/zero) and says it is too big', () => {
    const started = Date.now();
    const run = hopscope(['analyze', '--topology', '/dev/zero', sample], { timeout: 20_000 });
    expect(run.signal).toBeNull();
    expectUsageError(run, /^hopscope: \/dev\/zero: .*larger than/);
    expect(Date.now() - started).toBeLessThan(10_000);
  });

  it('refuses a regular file over the cap without reading it', async () => {
    const huge = join(scratch, 'huge-topology.json');
    writeFileSync(huge, '');
    truncateSync(huge, 64 * 1024 * 1024); // sparse: no disk used
    expectUsageError(
      await runCli(['analyze', '--topology', huge, sample]),
      /huge-topology\.json: .*larger than/,
    );
  });

  it('still reads the lab topology files (tens of kilobytes)', async () => {
    const run = await runCli(['analyze', '--json', '--topology', join(scenario, 'topology.json'), sample]);
    expect(run.code).toBe(0);
    const report = JSON.parse(run.stdout) as { hops: Array<{ kindSource: string; mtuSource: string }> };
    expect(report.hops[0]?.kindSource).toBe('topology');
    expect(report.hops[0]?.mtuSource).toBe('topology');
  });
});

describe('an option without its value', () => {
  for (const option of ['--mtu', '--hop', '--topology', '--path', '--jobs', '--log-level']) {
    it(`is a usage error for ${option} at the end, and before --`, async () => {
      expectUsageError(
        await runCli(['analyze', sample, option]),
        new RegExp(`^hopscope: ${option} needs a value`),
      );
      expectUsageError(
        await runCli(['analyze', option, '--', sample]),
        new RegExp(`^hopscope: ${option} needs a value`),
      );
    });
  }

  it('is a usage error in the real binary too (no internal error, no stack)', () => {
    expectUsageError(hopscope(['analyze', sample, '--mtu']), /^hopscope: --mtu needs a value/);
  });

  it('is a usage error for an empty --topology= or --path=', async () => {
    expectUsageError(await runCli(['analyze', '--topology=', sample]), /^hopscope: --topology needs a value/);
    expectUsageError(await runCli(['analyze', '--path=', sample]), /^hopscope: --path needs a value/);
  });
});

describe('-- ends the options', () => {
  const dashed = join(scratch, '-x.pcap');
  copyFileSync(sample, dashed);

  it('reads a capture whose name starts with a dash after --', () => {
    const run = hopscope(['analyze', '--json', '--', '-x.pcap'], { cwd: scratch });
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const report = JSON.parse(run.stdout) as { captures: Array<{ path: string; frames: number }> };
    expect(report.captures.map((c) => c.path)).toEqual(['-x.pcap']);
    expect(report.captures[0]?.frames).toBeGreaterThan(0);
  });

  it('takes the captures on both sides of --, in order', async () => {
    const run = await runCli(['analyze', '--json', sample, '--', dashed]);
    expect(run.code).toBe(0);
    const report = JSON.parse(run.stdout) as { captures: Array<{ path: string }> };
    expect(report.captures.map((c) => c.path)).toEqual([sample, dashed]);
  });

  it('names an unknown option, with or without --, rather than asking for captures', async () => {
    for (const args of [
      ['analyze', '--frob', '--', sample],
      ['analyze', '--frob', sample],
      ['analyze', '--frob'],
    ]) {
      expectUsageError(await runCli(args), /^hopscope: Unknown argument: frob$/m);
    }
  });

  it('asks for a capture when none is named, in its own words', async () => {
    for (const args of [['analyze'], ['analyze', '--']]) {
      expectUsageError(await runCli(args), /^hopscope: analyze: name at least one capture/);
    }
  });
});

describe('stdout that cannot be written', () => {
  it('says so in one line when the disk is full (/dev/full), exit 74', () => {
    const full = openSync('/dev/full', 'w');
    try {
      const run = hopscope(['analyze', '--json', sample], { stdout: full });
      expect(run.stderr).toMatch(/^hopscope: cannot write to stdout: .*no space left on device/i);
      expect(run.stderr.trimEnd().split('\n')).toHaveLength(1);
      expect(run.code).toBe(74);
      const version = hopscope(['--version'], { stdout: full });
      expect(version.stderr).toMatch(/^hopscope: cannot write to stdout: .*no space left on device/i);
      expect(version.code).toBe(74);
    } finally {
      closeSync(full);
    }
  });

  it('ends quietly when the reader closed the pipe (| head)', async () => {
    const ended = (child: ChildProcess) =>
      new Promise<{ code: number | null; stderr: string }>((resolve) => {
        let stderr = '';
        child.stderr?.on('data', (chunk) => {
          stderr += String(chunk);
        });
        child.on('close', (code) => resolve({ code, stderr }));
      });
    for (const args of [
      ['analyze', '--json', sample],
      ['analyze', sample],
    ]) {
      const child = spawn(process.execPath, [bin, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
      child.stdout?.destroy(); // the only reader goes away before hopscope writes: EPIPE
      const run = await ended(child);
      expect(run.stderr, args.join(' ')).toBe('');
      expect(run.code).toBe(0);
    }
  });
});

describe('topology values are checked like --mtu', () => {
  const hop = { file: 'guest1-eth0.pcap', host: 'guest1', interface: 'eth0', kind: 'guest', mtu: 1500 };
  const cases: Array<[string, Record<string, unknown>, RegExp]> = [
    ['mtu 0', { ...hop, mtu: 0 }, /path\[0\]\.mtu: .*68 to 1000000.* not 0\b/],
    ['mtu -1400', { ...hop, mtu: -1400 }, /path\[0\]\.mtu: .*not -1400\b/],
    ['mtu 1e308', { ...hop, mtu: 1e308 }, /path\[0\]\.mtu: .*not 1e\+308/],
    ['mtu 1500.5', { ...hop, mtu: 1500.5 }, /path\[0\]\.mtu: .*not 1500\.5/],
    ['mtu "1400"', { ...hop, mtu: '1400' }, /path\[0\]\.mtu: .*not the string "1400"/],
    ['kind "toaster"', { ...hop, kind: 'toaster' }, /path\[0\]\.kind: .*guest, tap.* not "toaster"/],
    ['ifindex -3', { ...hop, ifindex: -3 }, /path\[0\]\.ifindex: .*not -3/],
    ['host 7', { ...hop, host: 7 }, /path\[0\]\.host: expected a string, not 7/],
  ];
  for (const [label, entry, pattern] of cases) {
    it(`rejects ${label} naming the file and the field, exit 2`, async () => {
      const file = topology(`topology-${label.replace(/\W+/g, '_')}.json`, { path: [entry] });
      const run = await runCli(['analyze', '--topology', file, sample]);
      expectUsageError(run, new RegExp(`^hopscope: ${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: `));
      expect(run.stderr).toMatch(pattern);
    });
  }

  it('rejects a second entry by its index and a bad anyCaptures entry', async () => {
    const second = topology('second.json', { path: [hop, { ...hop, mtu: 65 }] });
    expect((await runCli(['analyze', '--topology', second, sample])).stderr).toMatch(/path\[1\]\.mtu/);
    const any = topology('any.json', { path: [hop], anyCaptures: [{ file: 'h1-any.pcap' }] });
    expectUsageError(await runCli(['analyze', '--topology', any, sample]), /anyCaptures\[0\]\.host/);
  });

  it('makes a missing, unreadable or malformed topology file a usage error (2), in one line', async () => {
    expectUsageError(
      await runCli(['analyze', '--topology', join(scratch, 'absent.json'), sample]),
      /absent\.json: no such file/,
    );
    expectUsageError(await runCli(['analyze', '--topology', scratch, sample]), /: is a directory/);
    expectUsageError(
      await runCli(['analyze', '--topology', topology('broken.json', '{"path": [\n\n'), sample]),
      /broken\.json: .*JSON/,
    );
    // A capture given as the topology by mistake: binary bytes, still one line.
    expectUsageError(
      await runCli(['analyze', '--topology', sample, sample]),
      /guest1-eth0\.pcap: not a topology file: binary data, not JSON text$/m,
    );
    expectUsageError(
      await runCli(['analyze', '--topology', topology('no-path.json', { hops: [] }), sample]),
      /no-path\.json: expected an object with a "path" array/,
    );
  });

  it('takes the MTU the topology gives when it is valid, 68 and 1000000 included', async () => {
    for (const mtu of [68, 1_000_000]) {
      const file = topology(`ok-${mtu}.json`, { path: [{ ...hop, mtu }] });
      const run = await runCli(['analyze', '--json', '--topology', file, sample]);
      expect(run.code).toBe(0);
      expect((JSON.parse(run.stdout) as { hops: Array<{ mtu: number }> }).hops[0]?.mtu).toBe(mtu);
    }
  });
});

describe('names of hops that no capture holds', () => {
  it('--path: warns in one line naming the missing hop and the hops there are; the report is still written', async () => {
    const run = await runCli(['analyze', '--json', '--path', 'guest1-eth0,phy0', sample]);
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout)).toHaveProperty('hops');
    expect(run.stderr).toBe('hopscope: --path names phy0, which no capture holds (the hops: guest1-eth0)\n');
  });

  it('--mtu and --hop: the same warning for a misspelt hop, none for a right one', async () => {
    const run = await runCli(['analyze', '--mtu', 'guest1-eth=1400', '--hop', 'guest1-eth0=guest', sample]);
    expect(run.code).toBe(0);
    expect(run.stderr).toBe(
      'hopscope: --mtu names guest1-eth, which no capture holds (the hops: guest1-eth0)\n',
    );
  });
});

describe('a FIFO nobody writes to', () => {
  it('waits, says so with --progress, and reads the capture once a writer comes', async () => {
    const fifo = join(scratch, 'live.pcap');
    expect(spawnSync('mkfifo', [fifo]).status).toBe(0);
    const child = spawn(process.execPath, [bin, 'analyze', '--progress', '--json', fifo], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout?.on('data', (chunk) => {
      stdout += String(chunk);
    });
    const said = new Promise<void>((resolve) => {
      child.stderr?.on('data', (chunk) => {
        stderr += String(chunk);
        if (stderr.includes('waiting for data')) resolve();
      });
    });
    const closed = new Promise<number | null>((resolve) => child.on('close', resolve));
    try {
      await Promise.race([said, new Promise((resolve) => setTimeout(resolve, 15_000))]);
      expect(stderr).toContain(`${fifo}: waiting for data`);
      writeFileSync(fifo, readFileSync(sample)); // opens the FIFO for writing: the reader goes on
      expect(await closed).toBe(0);
    } finally {
      if (child.exitCode === null) child.kill();
    }
    const report = JSON.parse(stdout) as { captures: Array<{ frames: number }> };
    expect(report.captures[0]?.frames).toBeGreaterThan(0);
    // The waiting line is erased once the data came.
    expect(stderr.endsWith('\r\u001b[K')).toBe(true);
  }, 30_000);
});
