// deploy/: the systemd unit verifies (systemd-analyze) and asks only for options hopscope live has;
// the Prometheus rules load (promtool check rules), fire on what they are for (promtool test
// rules), and use only metrics a real /metrics serves; the scrape example is a valid config.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/log.js';
import { startService } from '../../src/service/service.js';
import { runCli } from '../analyze/helpers.js';
import { fakeRun, lines } from '../helpers/service-run.js';

const root = join(import.meta.dirname, '..', '..');
const deploy = join(root, 'deploy');
const has = (tool: string) => spawnSync('sh', ['-c', `command -v ${tool}`]).status === 0;
const hasPromtool = has('promtool');
const hasSystemd = has('systemd-analyze');
if (!hasPromtool)
  console.warn('deploy: promtool missing (Debian: prometheus): rules checked against /metrics only');
if (!hasSystemd) console.warn('deploy: systemd-analyze missing: the unit is checked against the CLI only');
const work = mkdtempSync(join(tmpdir(), 'hopscope-deploy-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));
const rules = readFileSync(join(deploy, 'prometheus', 'hopscope-rules.yml'), 'utf8');
const unit = readFileSync(join(deploy, 'systemd', 'hopscope.service'), 'utf8');

describe('the Prometheus rules', () => {
  it('use only metrics (and labels) that /metrics serves', async () => {
    const service = await startService({
      listen: '127.0.0.1:0',
      token: null,
      evidence: null,
      intervalMs: 3_600_000,
      agentName: 't',
      toolVersion: 'x',
      logger: createLogger('silent'),
      text: lines(),
    });
    const run = fakeRun(service.tap);
    service.attach(run);
    await run.feed(join(root, 'samples', 'fragmenting-underlay', 'host1-phy0.pcap'));
    await service.tick();
    const metrics = await (await fetch(`http://127.0.0.1:${service.address?.port}/metrics`)).text();
    await service.stop();
    const used = [...rules.matchAll(/\b(hopscope_[a-z_]+)\{([^}]*)\}/g)];
    expect(used.length).toBeGreaterThanOrEqual(2);
    for (const [, name, selector] of used) {
      expect(metrics, name).toMatch(new RegExp(`^# TYPE ${name} `, 'm'));
      // Every label the rule selects on is a label the metric has.
      for (const [, label] of (selector as string).matchAll(/(\w+)\s*=~?/g))
        expect(metrics, `${name} label ${label}`).toMatch(new RegExp(`^${name}\\{[^}]*\\b${label}="`, 'm'));
    }
    // The fragmentation the rule watches for is what this capture shows.
    expect(metrics).toMatch(
      /^hopscope_finding_occurrences_total\{code="fragment.outer",severity="error"\} [1-9]/m,
    );
  });

  it.skipIf(!hasPromtool)('load, and fire on what they are for (promtool)', () => {
    const dir = join(deploy, 'prometheus');
    const check = spawnSync('promtool', ['check', 'rules', 'hopscope-rules.yml'], {
      cwd: dir,
      encoding: 'utf8',
    });
    expect(check.status, check.stdout + check.stderr).toBe(0);
    expect(check.stdout).toMatch(/SUCCESS: 2 rules found/);
    const test = spawnSync('promtool', ['test', 'rules', 'hopscope-rules.test.yml'], {
      cwd: dir,
      encoding: 'utf8',
    });
    expect(test.status, test.stdout + test.stderr).toBe(0);
    // The scrape example, its token file put where it says.
    const config = readFileSync(join(dir, 'prometheus.yml'), 'utf8');
    const token = join(work, 'hopscope.token');
    writeFileSync(token, 'x'.repeat(32));
    writeFileSync(join(work, 'prometheus.yml'), config.replace('/etc/prometheus/hopscope.token', token));
    writeFileSync(join(work, 'hopscope-rules.yml'), rules);
    const valid = spawnSync('promtool', ['check', 'config', 'prometheus.yml'], {
      cwd: work,
      encoding: 'utf8',
    });
    expect(valid.status, valid.stdout + valid.stderr).toBe(0);
  });
});

describe('the systemd unit', () => {
  it('asks hopscope live only for options it has, with a token since it listens beyond loopback', async () => {
    const exec = /^ExecStart=(.*)$/m.exec(unit)?.[1] ?? '';
    const options = [...exec.matchAll(/\s(--[a-z-]+)/g)].map((m) => m[1] as string);
    expect(options).toEqual(expect.arrayContaining(['--listen', '--token-file', '--evidence']));
    const help = (await runCli(['live', '--help'])).stdout;
    for (const option of options) expect(help, option).toContain(option);
    expect(unit).toMatch(/^Environment=HOPSCOPE_LISTEN=0\.0\.0\.0:9477$/m);
    expect(unit).toMatch(/^AmbientCapabilities=CAP_NET_RAW CAP_NET_ADMIN$/m);
    expect(unit).toMatch(/^User=hopscope$/m);
    expect(unit).toMatch(/^Restart=on-failure$/m);
  });

  it.skipIf(!hasSystemd)('verifies without a warning, and its exposure is low (systemd-analyze)', () => {
    // verify checks that the command exists: the repository's bin stands in for /usr/bin/hopscope.
    const copy = join(work, 'hopscope.service');
    writeFileSync(copy, unit.replace('/usr/bin/hopscope', join(root, 'bin', 'hopscope.js')));
    const verify = spawnSync('systemd-analyze', ['verify', copy], { encoding: 'utf8' });
    expect(verify.stdout + verify.stderr).toBe('');
    expect(verify.status).toBe(0);
    const security = execFileSync('systemd-analyze', ['security', '--offline=yes', copy], {
      encoding: 'utf8',
    });
    const exposure = Number(/Overall exposure level for hopscope\.service: ([\d.]+)/.exec(security)?.[1]);
    expect(exposure).toBeLessThan(3);
  });
});
