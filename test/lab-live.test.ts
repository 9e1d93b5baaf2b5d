// Records scenario 1 afresh with the real kernel and tcpdump and checks the same signatures as on
// the committed sample, so a change of kernel behaviour shows up. Needs root and the lab's tools;
// elsewhere it is skipped with the reason printed.
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { analyzeJson } from './analyze/helpers.js';
import { LAB_SCRIPT as lab, skipReasonWithout } from './helpers/lab.js';
import { expectSoftwareGsoAtNic, hop, loadScenario } from './helpers/lab-signatures.js';

const skipReason = skipReasonWithout(
  ['ip', 'tcpdump', 'ethtool', 'iperf3', 'ping', 'ss'],
  'the lab needs network namespaces',
);
if (skipReason) console.warn(`lab-live: skipped (${skipReason})`);

describe.skipIf(skipReason !== null)('a fresh lab recording (real kernel, real tcpdump)', () => {
  const out = join(mkdtempSync(join(tmpdir(), 'hopscope-lab-')), 'jumbo-underlay');
  afterAll(() => rmSync(join(out, '..'), { recursive: true, force: true }));

  it('jumbo-underlay shows super-frames up to vxlan, MSS segments on the NIC and GRO after it', () => {
    execFileSync('bash', [lab, '--out', out, '--underlay-mtu', '9000', '--bytes', '1000000', '--any'], {
      stdio: ['ignore', 'inherit', 'inherit'],
      timeout: 300_000,
    });
    expectSoftwareGsoAtNic(out);
    const { topology, hops } = loadScenario(out);
    expect(topology.path).toHaveLength(10);
    expect(topology.path.find((p) => p.host === 'host1' && p.kind === 'physical')?.mtu).toBe(9000);
    expect(hop(hops, 'host1-physical').tunnelPorts.has(4789)).toBe(true);
  });

  it('hopscope follows the flow through both hosts’ tcpdump -i any captures (Linux cooked v2)', async () => {
    const topology = JSON.parse(readFileSync(join(out, 'topology.json'), 'utf8')) as {
      path: Array<{ host: string; interface: string; kind: string; ifindex: number }>;
    };
    const anyFiles = ['host1-any.pcap', 'host2-any.pcap'].map((f) => join(out, f));
    // Without the topology the hops are named by interface index, never by this machine's names.
    const plain = await analyzeJson(anyFiles);
    const nicIndex = topology.path.find((p) => p.host === 'host1' && p.kind === 'physical')?.ifindex;
    expect(plain.report.hops.map((h) => h.name)).toContain(`host1-any@if${nicIndex}`);
    expect(plain.report.captures.every((c) => c.linkTypes.includes('linux-sll2'))).toBe(true);
    // With it, by the interface that index was on that host, and the path is the lab's.
    const { report } = await analyzeJson(['--topology', join(out, 'topology.json'), ...anyFiles]);
    const path = report.paths[0];
    expect(path?.flow).toMatch(/:5201$/);
    const hostHops = path?.hops.map((h) => h.hop) ?? [];
    const expected = topology.path
      .filter((p) => p.host !== 'guest1' && p.host !== 'guest2')
      .map((p) => `${p.host}-any@${p.interface}`)
      .filter((name) => hostHops.includes(name));
    expect(hostHops).toEqual(expected);
    expect(hostHops.length).toBeGreaterThanOrEqual(6);
    expect(path?.splitAt).toMatchObject({ from: 'host1-any@vxlan-97', to: 'host1-any@phy0' });
    expect(path?.mergedAt).toMatchObject({ from: 'host2-any@phy0', to: 'host2-any@vxlan-97' });
    const vxlan = report.hops.find((h) => h.name === 'host1-any@vxlan-97');
    expect(vxlan?.superFrames.outgoing, 'cooked v2 says the tunnel device sends them').toBeGreaterThan(0);
  });

  it('tears every namespace down when it is stopped mid-transfer', async () => {
    const child = spawn('bash', [lab, '--out', join(out, '..', 'stopped'), '--bytes', '100000000000'], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (b: Buffer) => {
      stderr += b.toString();
    });
    const ours = () =>
      execFileSync('ip', ['netns', 'list'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] })
        .split('\n')
        .filter((l) => l.startsWith(`hs${child.pid}`));
    // Wait until its transfer runs (the iperf3 client starts after all four namespaces exist).
    for (
      let i = 0;
      i < 200 && !(ours().length === 4 && spawnSync('pgrep', ['-f', 'iperf3 -c']).status === 0);
      i++
    ) {
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(ours()).toHaveLength(4);
    const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
    child.kill('SIGTERM');
    expect(await exited).not.toBe(0);
    expect(stderr).toMatch(/interrupted/);
    expect(ours()).toHaveLength(0);
    // iperf3 gets the teardown's SIGTERM through timeout; give it a moment to exit.
    const clientAlive = () =>
      spawnSync('pgrep', ['-f', 'iperf3 -c 10.97.0.103 -n 100000000000']).status === 0;
    for (let i = 0; i < 40 && clientAlive(); i++) await new Promise((r) => setTimeout(r, 50));
    expect(clientAlive()).toBe(false);
  });

  it('without root, says so and exits non-zero', () => {
    const r = spawnSync(
      'setpriv',
      ['--reuid', '65534', '--regid', '65534', '--clear-groups', 'bash', lab, '--out', join(tmpdir(), 'x')],
      { encoding: 'utf8' },
    );
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/needs root/);
  });

  it('with a tool missing, names it and exits non-zero', () => {
    // A PATH holding every system command but iperf3.
    const bin = join(out, '..', 'bin-without-iperf3');
    mkdirSync(bin);
    for (const dir of ['/usr/sbin', '/usr/bin', '/sbin', '/bin']) {
      if (!existsSync(dir)) continue;
      for (const name of readdirSync(dir)) {
        if (name === 'iperf3' || existsSync(join(bin, name))) continue;
        symlinkSync(join(dir, name), join(bin, name));
      }
    }
    const r = spawnSync('bash', [lab, '--out', join(out, '..', 'y')], {
      encoding: 'utf8',
      env: { ...process.env, PATH: bin },
    });
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/missing tool\(s\): iperf3/);
  });

  it('refuses to write into a folder that is not empty', () => {
    const r = spawnSync('bash', [lab, '--out', out], { encoding: 'utf8' });
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/not empty/);
  });

  it('names a bad knob and exits non-zero', () => {
    const r = spawnSync('bash', [lab, '--out', join(out, '..', 'x'), '--pmtu-disc', 'maybe'], {
      encoding: 'utf8',
    });
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/--pmtu-disc takes on or off/);
  });
});
