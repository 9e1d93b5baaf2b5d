// An interface that exists but is down (an operator's `ip link set tap0 down`, a VM paused with
// its tap down): libpcap will not bind to it. `hopscope live` must wait for it, say so once (not
// an error a second for as long as it stays down), and capture once it comes up, with every
// backend. Real veth devices, real tcpdump/dumpcap/libpcap; root only.
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { afterAll, describe, expect, it } from 'vitest';
import { hasNetRaw, isUp, loadCap } from '../../src/capture/live/cap.js';
import { skipReasonWithout, waitFor } from '../helpers/lab.js';
import { bin } from './helpers.js';

const has = (tool: string) => spawnSync('sh', ['-c', `command -v ${tool}`]).status === 0;
const skipReason = skipReasonWithout(['ip'], 'veth devices need root');
const created: string[] = [];

afterAll(() => {
  for (const device of created) spawnSync('ip', ['link', 'del', device], { stdio: 'ignore' });
});

/** A veth pair left down; its name is unique to this run and backend. */
function downPair(tag: string): [string, string] {
  const a = `hsdn${process.pid % 10000}${tag}a`;
  const b = `hsdn${process.pid % 10000}${tag}b`;
  const made = spawnSync('ip', ['link', 'add', a, 'type', 'veth', 'peer', 'name', b], { encoding: 'utf8' });
  if (made.status !== 0) throw new Error(`ip link add ${a}: ${made.stderr}`);
  created.push(a);
  return [a, b];
}

const backends = [
  { name: 'tcpdump', available: has('tcpdump') },
  { name: 'dumpcap', available: has('dumpcap') },
  { name: 'cap', available: !(loadCap() instanceof Error) && hasNetRaw() },
];

describe.skipIf(skipReason !== null)('hopscope live on an interface that is down', () => {
  for (const backend of backends) {
    it.skipIf(!backend.available)(
      `${backend.name}: waits for it, says so once, captures when it comes up`,
      async () => {
        const [a, b] = downPair(backend.name.slice(0, 2));
        const child: ChildProcess = spawn(
          process.execPath,
          [
            bin,
            'live',
            '--backend',
            backend.name,
            '-i',
            a,
            '--duration',
            '20',
            '--json',
            '--log-level',
            'info',
          ],
          { stdio: ['ignore', 'pipe', 'pipe'] },
        );
        let stderr = '';
        child.stderr?.on('data', (chunk: Buffer) => {
          stderr += chunk.toString();
        });
        const done = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
        try {
          await waitFor(
            () => /is down/.test(stderr),
            15_000,
            () => stderr,
          );
          // Retried every second: three more attempts, still one line.
          await new Promise((r) => setTimeout(r, 3500));
          const lines = stderr.split('\n');
          expect(
            lines.filter((l) => l.includes(`${a} is down`)),
            stderr,
          ).toHaveLength(1);
          expect(stderr).toMatch(new RegExp(`${a} is down \\(.*not up.*\\); waiting for it to come up`));
          expect(stderr).not.toMatch(/capture failed/);
          expect(child.exitCode).toBeNull();
          spawnSync('ip', ['link', 'set', b, 'up']);
          spawnSync('ip', ['link', 'set', a, 'up']);
          await waitFor(
            () => /"msg":"capturing again"/.test(stderr),
            15_000,
            () => stderr,
          );
        } finally {
          child.kill('SIGTERM');
        }
        expect(await done).toBe(0);
      },
      60_000,
    );
  }

  it('reads IFF_UP from sysfs flags', () => {
    expect(isUp('x', '0x1003\n')).toBe(true);
    expect(isUp('x', '0x1002\n')).toBe(false);
    // Unreadable: libpcap is asked and says.
    expect(isUp('x', null)).toBe(true);
    const [a] = downPair('fl');
    expect(isUp(a)).toBe(false);
    spawnSync('ip', ['link', 'set', a, 'up']);
    expect(isUp(a)).toBe(true);
  });
});
