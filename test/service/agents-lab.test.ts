// Two agents on two hosts: `hopscope live` runs inside each hypervisor namespace of the lab
// (lab.sh --setup-only), captures that host's hops and serves its API on the host's underlay
// address (not loopback: a token is required). While the lab pushes its traffic, nothing else is
// done; then `hopscope analyze URL URL`, run on host1, asks both agents for their hops over the
// underlay and correlates them in one report: the split on host1 and the merge on host2 along one
// path, with each host's hops named after its agent. Needs root, ip, dumpcap, iperf3, ethtool,
// ping, ss (as the live lab test); skipped elsewhere with the reason printed.
import { type ChildProcess, execFile, execFileSync, spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Report } from '../../src/report/model.js';
import {
  hopscopeInNamespace,
  LAB_SCRIPT as lab,
  readLabEnv,
  skipReasonWithout,
  waitFor,
} from '../helpers/lab.js';

const skipReason = skipReasonWithout(
  ['ip', 'dumpcap', 'iperf3', 'ethtool', 'ping', 'ss', 'tshark', 'pgrep'],
  'the lab needs network namespaces',
);
if (skipReason) console.warn(`agents lab: skipped (${skipReason})`);
// Long child runs are awaited, not run synchronously: a worker blocked for minutes misses vitest's RPC.
const run = promisify(execFile);
/** A child's exit code and output, without throwing on a non-zero exit. */
async function outcome(
  file: string,
  args: string[],
): Promise<{ status: number | null; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(file, args, {
      encoding: 'utf8',
      timeout: 60_000,
      maxBuffer: 64 * 1024 * 1024,
    });
    return { status: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code?: number | string; stdout?: string; stderr?: string };
    return {
      status: typeof e.code === 'number' ? e.code : null,
      stdout: e.stdout ?? '',
      stderr: e.stderr ?? '',
    };
  }
}

interface Agent {
  child: ChildProcess;
  stderr(): string;
  done: Promise<number | null>;
}

describe.skipIf(skipReason !== null)('two agents in two lab namespaces, one analysis', () => {
  const dir = mkdtempSync(join(tmpdir(), 'hopscope-agents-'));
  const out = join(dir, 'lab');
  const tokenFile = join(dir, 'token');
  let env: Record<string, string> = {};
  const agents: Agent[] = [];

  beforeAll(async () => {
    writeFileSync(tokenFile, `${randomBytes(24).toString('hex')}\n`, { mode: 0o600 });
    await run('bash', [lab, '--setup-only', '--out', out, '--underlay-mtu', '9000'], {
      timeout: 120_000,
    });
    env = readLabEnv(out);
  }, 130_000);
  afterAll(async () => {
    // Politely: an agent killed outright leaves its dumpcap children behind (they hold no pipe
    // reader to notice until a frame comes).
    for (const agent of agents) {
      agent.child.kill('SIGTERM');
      const timeout = setTimeout(() => agent.child.kill('SIGKILL'), 10_000);
      await agent.done;
      clearTimeout(timeout);
    }
    spawnSync('bash', [lab, '--teardown', out], { stdio: 'ignore' });
    rmSync(dir, { recursive: true, force: true });
  });

  /** The host's underlay address (its phy0), where its agent listens. */
  const underlay = (ns: string): string => {
    const addrs = JSON.parse(
      execFileSync('ip', ['-n', ns, '-j', '-4', 'addr', 'show', 'phy0'], { encoding: 'utf8' }),
    ) as Array<{
      addr_info: Array<{ local: string }>;
    }>;
    return addrs[0]?.addr_info[0]?.local as string;
  };

  async function startAgent(ns: string, name: string, address: string, extra: string[] = []): Promise<Agent> {
    const devices = ['tap0', env.LAB_BRIDGE as string, env.LAB_TUNNEL as string, 'phy0'];
    const child = spawn(
      'ip',
      hopscopeInNamespace(ns, [
        'live',
        ...devices.flatMap((d) => ['-i', d]),
        '--listen',
        `${address}:9477`,
        '--token-file',
        tokenFile,
        '--agent-name',
        name,
        '--log-format',
        'json',
        '--log-level',
        'info',
        '--json',
        ...extra,
      ]),
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    let stderr = '';
    child.stderr?.on('data', (b: Buffer) => {
      stderr += b.toString();
    });
    const done = new Promise<number | null>((resolve) => child.on('close', resolve));
    const agent = { child, stderr: () => stderr, done };
    agents.push(agent);
    await waitFor(
      () => (stderr.match(/"msg":"capturing"/g) ?? []).length >= devices.length,
      30_000,
      () => stderr,
    );
    return agent;
  }

  it('correlates what each host’s agent saw: split on host1, merge on host2, one path', async () => {
    const [h1, h2] = [env.LAB_HOST1 as string, env.LAB_HOST2 as string];
    const [a1, a2] = [underlay(h1), underlay(h2)];
    // Not loopback and no token: refused before any capture starts.
    const refused = await outcome(
      'ip',
      hopscopeInNamespace(h1, ['live', '-i', 'tap0', '--listen', `${a1}:9477`]),
    );
    expect(refused.status).toBe(2);
    expect(refused.stderr).toMatch(/reachable from other hosts: give --token-file/);

    const one = await startAgent(h1, 'host1', a1);
    const evidence = join(dir, 'evidence');
    const two = await startAgent(h2, 'host2', a2, ['--evidence', evidence, '--evidence-max-bytes', '2M']);
    await run('bash', [lab, '--push', out, '--bytes', '2000000'], { timeout: 120_000 });
    // Let the agents' analysis catch up with the last frames (their snapshots come each second).
    await waitFor(
      () => /"event":"finding.new".*"code":"segment.merged"/.test(two.stderr()),
      20_000,
      two.stderr,
    );

    const analyze = await outcome(
      'ip',
      hopscopeInNamespace(h1, [
        'analyze',
        '--json',
        '--token-file',
        tokenFile,
        `http://${a1}:9477`,
        `http://${a2}:9477`,
      ]),
    );
    expect(analyze.status, analyze.stderr).toBe(0);
    const report = JSON.parse(analyze.stdout) as Report;
    const names = report.hops.map((h) => h.name);
    expect(names).toEqual(expect.arrayContaining(['host1-tap0', 'host1-phy0', 'host2-phy0', 'host2-tap0']));
    const path = report.paths.find((p) => /:5201$/.test(p.flow));
    const along = path?.hops.map((h) => h.hop) ?? [];
    expect(along.filter((h) => h.startsWith('host1-')).length).toBeGreaterThan(0);
    expect(along.filter((h) => h.startsWith('host2-')).length).toBeGreaterThan(0);
    expect(path?.splitAt).toMatchObject({ from: `host1-${env.LAB_TUNNEL}`, to: 'host1-phy0' });
    expect(path?.mergedAt).toMatchObject({ from: 'host2-phy0', to: `host2-${env.LAB_TUNNEL}` });
    // The hosts' clocks are one here; the estimate across the agents says so within a millisecond.
    expect(Math.abs(report.clockOffsets['host2-phy0'] ?? 1)).toBeLessThan(0.001);
    // Without the token the agents refuse.
    const without = await outcome('ip', hopscopeInNamespace(h1, ['analyze', `http://${a2}:9477`]));
    expect(without.status).toBe(1);
    expect(without.stderr).toMatch(/refused the token \(401\)/);

    // SIGTERM: the agent flushes and says its summary, and exits 0.
    one.child.kill('SIGTERM');
    expect(await one.done).toBe(0);
    expect(one.stderr()).toMatch(/"event":"summary"/);

    // SIGKILL mid-run: whatever evidence files are there are whole (tshark reads them to the end).
    await waitFor(
      () => /"msg":"evidence written"/.test(two.stderr()),
      20_000,
      () =>
        two
          .stderr()
          .split('\n')
          .filter((l) => !l.includes('finding.'))
          .join('\n'),
    );
    const dumpcaps = execFileSync('pgrep', ['-P', String(two.child.pid)], { encoding: 'utf8' })
      .trim()
      .split('\n');
    two.child.kill('SIGKILL');
    await two.done;
    for (const pid of dumpcaps) spawnSync('kill', [pid]);
    const files = readdirSync(evidence).filter((f) => f.endsWith('.pcapng'));
    expect(files.length).toBeGreaterThan(0);
    for (const file of files) {
      const read = spawnSync('tshark', ['-r', join(evidence, file), '-T', 'fields', '-e', 'frame.comment'], {
        encoding: 'utf8',
      });
      expect(read.status, `${file}: ${read.stderr}`).toBe(0);
      // Each packet's comment is the finding, at one of this agent's hops.
      expect(read.stdout).toMatch(
        new RegExp(
          `^\\S+ \\((chat|note|warn|error)\\) at (tap0|${env.LAB_BRIDGE}|${env.LAB_TUNNEL}|phy0)\\b`,
        ),
      );
    }
    const merged = files.find((f) => f.includes('segment.merged'));
    expect(merged, files.join(' ')).toBeDefined();
  }, 300_000);
});
