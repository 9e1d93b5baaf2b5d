// The service around a live capture, fed with the lab's recorded captures through its FeedTap (the
// capture half stands in: test/helpers/service-run.ts): the HTTP API, its token, the finding stream
// over SSE, and /metrics as Prometheus text.

import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readdirSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { UsageError } from '../../src/errors.js';
import { createLogger } from '../../src/log.js';
import type { Report } from '../../src/report/model.js';
import { type Service, startService } from '../../src/service/service.js';
import { findingKey } from '../../src/service/tracker.js';
import { analyzeJson } from '../analyze/helpers.js';
import { fakeRun, lines } from '../helpers/service-run.js';
import { connectSse } from '../helpers/sse.js';

const scenario = join(import.meta.dirname, '..', '..', 'samples', 'fragmenting-underlay');
const captures = readdirSync(scenario)
  .filter((f) => f.endsWith('.pcap'))
  .sort()
  .map((f) => join(scenario, f));
const host1 = captures.filter((f) => f.includes('host1-') || f.includes('guest1-'));
const host2 = captures.filter((f) => !host1.includes(f));
const token = randomBytes(24).toString('hex');
const hasPromtool = spawnSync('sh', ['-c', 'command -v promtool']).status === 0;
if (!hasPromtool)
  console.warn('service: promtool missing: /metrics is checked by the test alone (install prometheus)');

let service: Service | null = null;
afterEach(async () => {
  await service?.stop();
  service = null;
});

async function start(extra: Partial<Parameters<typeof startService>[0]> = {}): Promise<Service> {
  service = await startService({
    listen: '127.0.0.1:0',
    token,
    evidence: null,
    // Snapshots only when the test asks (tick), so what each holds is known.
    intervalMs: 3_600_000,
    agentName: 'test',
    toolVersion: '0.0.0-test',
    logger: createLogger('silent'),
    text: lines(),
    ...extra,
  });
  return service;
}

const base = (s: Service) => `http://127.0.0.1:${s.address?.port}`;
const auth = { authorization: `Bearer ${token}` };

describe('listening and the token', () => {
  it('refuses an address other than loopback without a token, and says what to do', async () => {
    await expect(start({ listen: '0.0.0.0:0', token: null })).rejects.toThrow(UsageError);
    await expect(start({ listen: '0.0.0.0:0', token: null })).rejects.toThrow(/--token-file/);
    await expect(start({ listen: '[::]:0', token: null })).rejects.toThrow(/reachable from other hosts/);
  });

  it('answers 401 without the token or with a wrong one (same length too), 200 with it', async () => {
    const s = await start();
    fakeRun(s.tap);
    expect((await fetch(`${base(s)}/healthz`)).status).toBe(401);
    const wrong = `${token.slice(0, -1)}${token.endsWith('0') ? '1' : '0'}`;
    const refused = await fetch(`${base(s)}/healthz`, { headers: { authorization: `Bearer ${wrong}` } });
    expect(refused.status).toBe(401);
    expect(refused.headers.get('www-authenticate')).toMatch(/^Bearer/);
    expect(
      (await fetch(`${base(s)}/healthz`, { headers: { authorization: `Bearer ${token}x` } })).status,
    ).toBe(401);
    expect((await fetch(`${base(s)}/healthz`, { headers: auth })).status).toBe(200);
  });

  it('answers 404 for other paths, 405 with Allow for other methods, 503 before the capture starts', async () => {
    const s = await start();
    expect((await fetch(`${base(s)}/nope`, { headers: auth })).status).toBe(404);
    const post = await fetch(`${base(s)}/snapshot`, { method: 'POST', headers: auth });
    expect(post.status).toBe(405);
    expect(post.headers.get('allow')).toBe('GET, HEAD');
    expect((await fetch(`${base(s)}/snapshot`, { headers: auth })).status).toBe(503);
    expect((await fetch(`${base(s)}/hops`, { headers: auth })).status).toBe(503);
  });

  it('answers 400 for a request target that is no path (//), and goes on serving', async () => {
    const s = await start();
    fakeRun(s.tap);
    const raw = (target: string) =>
      new Promise<number>((resolve, reject) => {
        const url = new URL(base(s));
        const req = request(
          {
            host: url.hostname,
            port: url.port,
            path: target,
            headers: { authorization: auth.authorization },
          },
          (res) => {
            res.resume();
            resolve(res.statusCode ?? 0);
          },
        );
        req.on('error', reject);
        req.end();
      });
    expect(await raw('//')).toBe(400);
    expect(await raw('/healthz')).toBe(200);
  });
});

describe('the finding stream', () => {
  it('tells each finding once, as it appears, over SSE; /snapshot is what analyze --json says', async () => {
    // No waiting between updates or before a withdrawal: each tick tells all it can.
    const s = await start({ tracker: { minUpdateMs: 0 } });
    const run = fakeRun(s.tap);
    s.attach(run);
    const sse = await connectSse(`${base(s)}/events`, auth);
    expect(sse.status).toBe(200);
    const [hello] = await sse.waitFor(1);
    expect(hello?.event).toBe('snapshot');
    expect(JSON.parse(hello?.data ?? '{}')).toEqual({ lastId: 0, findings: [] });

    for (const path of host1) await run.feed(path);
    const first = await s.tick();
    for (const path of host2) await run.feed(path);
    const second = await s.tick();
    // Nothing new: no snapshot makes news, however often it is taken.
    expect(await s.tick()).toEqual([]);
    expect(first.length).toBeGreaterThan(0);
    expect(second.length).toBeGreaterThan(0);

    const events = (await sse.waitFor(1 + first.length + second.length)).slice(1);
    const keyOf = (e: { data: string }) => (JSON.parse(e.data) as { finding: { key: string } }).finding.key;
    const told = events.filter((e) => e.event === 'finding.new').map(keyOf);
    expect(new Set(told).size, 'each finding once').toBe(told.length);
    expect(events.map((e) => Number(e.id))).toEqual(events.map((_, i) => i + 1));
    // A finding drawn from host1's hops alone that the whole path explains otherwise is withdrawn.
    const withdrawn = events.filter((e) => e.event === 'finding.withdrawn').map(keyOf);
    expect(withdrawn.every((key) => told.includes(key))).toBe(true);
    const keys = told.filter((key) => !withdrawn.includes(key));
    // Counts grew with host2's frames only where a finding spans both hosts: updates, each once.
    const updated = events.filter((e) => e.event === 'finding.update').map(keyOf);
    expect(new Set(updated).size).toBe(updated.length);

    const snapshot = (await (await fetch(`${base(s)}/snapshot`, { headers: auth })).json()) as Report;
    const { report } = await analyzeJson(captures);
    const summary = (r: Report) => r.findings.map((f) => `${findingKey(f)} x${f.count}`).sort();
    expect(summary(snapshot)).toEqual(summary(report));
    expect(snapshot.paths).toEqual(report.paths);
    // Every finding of the document was streamed (the stream's keys are the document's).
    expect([...new Set(keys)].sort()).toEqual([...new Set(snapshot.findings.map(findingKey))].sort());
    expect(snapshot.findings.some((f) => f.code === 'fragment.outer')).toBe(true);
    sse.close();
  });

  it('gives a client that reconnects with Last-Event-ID what it missed, and a fresh state when asked too late', async () => {
    // Two events kept for reconnecting clients.
    const s = await start({ tracker: { historySize: 2 } });
    const run = fakeRun(s.tap);
    s.attach(run);
    for (const path of host1) await run.feed(path);
    const told = await s.tick();
    expect(told.length).toBeGreaterThanOrEqual(3);
    const last = told.length;
    // Within the history kept: exactly the events after that id.
    const resumed = await connectSse(`${base(s)}/events`, { ...auth, 'last-event-id': String(last - 2) });
    const got = await resumed.waitFor(2);
    expect(got.map((e) => [Number(e.id), e.event])).toEqual([
      [last - 1, 'finding.new'],
      [last, 'finding.new'],
    ]);
    resumed.close();
    // Too far back for the history: the state now, with the id to resume from.
    const stale = await connectSse(`${base(s)}/events`, { ...auth, 'last-event-id': '0' });
    const [state] = await stale.waitFor(1);
    expect(state?.event).toBe('snapshot');
    const body = JSON.parse(state?.data ?? '{}') as { lastId: number; findings: Array<{ key: string }> };
    expect(body.lastId).toBe(last);
    expect(body.findings.map((f) => f.key).sort()).toEqual(told.map((e) => e.finding.key).sort());
    stale.close();
  });

  it('disconnects nothing and repeats nothing when a client idles: heartbeats are comments', async () => {
    const s = await start();
    s.attach(fakeRun(s.tap));
    const sse = await connectSse(`${base(s)}/events`, auth);
    await sse.waitFor(1);
    await s.tick();
    await new Promise((r) => setTimeout(r, 50));
    expect(sse.events).toHaveLength(1);
    sse.close();
  });
});

describe('/metrics', () => {
  it('is Prometheus text with the hops, checksum classes, capture drops and findings', async () => {
    const s = await start();
    const run = fakeRun(s.tap);
    s.attach(run);
    for (const path of captures) await run.feed(path, { dropped: path.includes('host1-phy0') ? 7 : 0 });
    await s.tick();
    const response = await fetch(`${base(s)}/metrics`, { headers: auth });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    const text = await response.text();
    const sample = (name: string, labels: string) => {
      const line = text.split('\n').find((l) => l.startsWith(`${name}{${labels}}`));
      return line === undefined ? null : Number(line.slice(line.lastIndexOf(' ') + 1));
    };
    const snapshot = run.session.snapshot('x');
    const phy = snapshot.hops.find((h) => h.name === 'host1-phy0');
    expect(sample('hopscope_frames_total', 'hop="host1-phy0"')).toBe(phy?.frames);
    expect(sample('hopscope_bytes_total', 'hop="host1-phy0"')).toBe(phy?.bytes);
    expect(sample('hopscope_fragments_total', 'hop="host1-phy0"')).toBe(phy?.fragments.count);
    expect(phy?.fragments.count).toBeGreaterThan(0);
    expect(sample('hopscope_checksums_total', 'hop="host1-phy0",class="good"')).toBe(phy?.checksums.good);
    expect(
      sample(
        'hopscope_capture_dropped_total',
        'hop="host1-phy0",interface="host1-phy0.pcap",backend="recording"',
      ),
    ).toBe(7);
    const outer = snapshot.findings.filter((f) => f.code === 'fragment.outer');
    expect(sample('hopscope_findings', 'code="fragment.outer",severity="error"')).toBe(outer.length);
    expect(sample('hopscope_finding_occurrences_total', 'code="fragment.outer",severity="error"')).toBe(
      outer.reduce((n, f) => n + f.count, 0),
    );
    expect(sample('hopscope_findings', 'code="checksum.bad",severity="error"')).toBe(0);
    if (hasPromtool) {
      const check = spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8' });
      expect(check.stdout + check.stderr).toBe('');
      expect(check.status).toBe(0);
    }
  });
});
