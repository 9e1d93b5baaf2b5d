// What the service of `hopscope live` costs on top of the analysis, on the benchmark's multi-hop set
// (the jumbo lab run copied to N frames over ten hops; npm run build first):
//   - the evidence tap (a ring of recent frames per source): frames/s with and without it, same run;
//   - one snapshot (what the finding stream diffs each second), one /hops document (encode and
//     size), one /metrics scrape, at the end of the run.
//   node bench/service-costs.mjs [--frames N]   (default 1,000,000)
import { cpus } from 'node:os';
import { synthesizeSet } from './synthesize.mjs';

const dist = new URL('../dist/', import.meta.url);
const load = (path) => import(new URL(path, dist).href);
const { createSession } = await load('pipeline/session.js');
const { buildOverrides } = await load('pipeline/hops.js');
const { createLogger } = await load('log.js');
const { readCapture } = await load('capture/read.js');
const { openEvidence } = await load('service/evidence.js');
const { exportHops } = await load('pipeline/hops-document.js');
const { createMetrics } = await load('service/metrics.js');
const { mkdtempSync, rmSync } = await import('node:fs');
const { tmpdir } = await import('node:os');
const { join } = await import('node:path');

const argv = process.argv.slice(2);
const frames = Number(argv[argv.indexOf('--frames') + 1] || 1_000_000);
const set = synthesizeSet({ frames, log: (m) => console.error(m) });
const logger = createLogger('silent');

async function read(tapped) {
  const session = createSession({ overrides: buildOverrides([], [], undefined), logger });
  const dir = mkdtempSync(join(tmpdir(), 'hopscope-costs-'));
  const evidence = tapped ? await openEvidence({ dir, maxBytes: 1e8, toolVersion: 'x', logger }) : null;
  const t0 = process.hrtime.bigint();
  for (const file of set.files) {
    const raw = session.addSource(file.path);
    const feed = evidence !== null ? evidence.tap(file.name, raw) : raw;
    feed.end(await readCapture(file.path, feed));
  }
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  rmSync(dir, { recursive: true, force: true });
  return { session, seconds };
}

const time = (f) => {
  const t0 = process.hrtime.bigint();
  const value = f();
  return { value, ms: Number(process.hrtime.bigint() - t0) / 1e6 };
};

// --only plain|tapped: one read and nothing else, for `perf stat -e instructions` (times on a
// shared machine drift more than the tap costs; instruction counts do not).
const only = argv.includes('--only') ? argv[argv.indexOf('--only') + 1] : null;
if (only !== null) {
  await read(only === 'tapped');
  process.exit(0);
}
// Alternate plain and tapped runs; the medians of REPEAT (5) each (a shared machine drifts).
const runs = { plain: [], tapped: [] };
let last = null;
for (let i = 0; i < Number(process.env.REPEAT ?? 5); i++) {
  runs.plain.push((await read(false)).seconds);
  last = await read(true);
  runs.tapped.push(last.seconds);
}
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const session = last.session;
const snapshot = time(() => session.snapshot('x'));
const hops = time(() => JSON.stringify(exportHops(session, 'bench', 'x')));
const registry = createMetrics({
  hops: () => session.exportSources().flatMap((s) => s.hops),
  interfaces: () => [],
  findings: () => [],
  snapshotSeconds: () => 0,
});
const t0 = process.hrtime.bigint();
const metrics = await registry.metrics();
const metricsMs = Number(process.hrtime.bigint() - t0) / 1e6;
const out = {
  cpu: cpus()[0]?.model,
  frames: set.frames,
  hops: set.files.length,
  readSeconds: { plain: median(runs.plain), tapped: median(runs.tapped) },
  tapOverhead: median(runs.tapped) / median(runs.plain) - 1,
  snapshotMs: snapshot.ms,
  findings: snapshot.value.findings.length,
  hopsDocument: { ms: hops.ms, bytes: hops.value.length },
  metrics: { ms: metricsMs, bytes: metrics.length },
};
console.log(JSON.stringify(out, null, 2));
