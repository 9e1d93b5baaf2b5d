// The cap backend after an open that failed: cap's destructor would stop a poll handle that only a
// successful open starts, and libuv aborts the process when the garbage collector finalizes such a
// handle. A missing interface (retried every second while a VM is stopped), a filter libpcap
// rejects and a run without CAP_NET_RAW must each end as a reason, and the process must survive
// the collections after them. Real libpcap through the real addon, in a child node with --expose-gc.
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { hasNetRaw, loadCap } from '../../src/capture/live/cap.js';
import { AS_NOBODY, nobodyCan } from './helpers.js';

const capModule = join(import.meta.dirname, '..', '..', 'dist', 'capture', 'live', 'cap.js');
const dir = mkdtempSync(join(tmpdir(), 'hopscope-cap-gc-'));
// Readable by nobody, who runs it in the second case.
chmodSync(dir, 0o755);
const script = join(dir, 'failed-opens.mjs');
writeFileSync(
  script,
  `import { startCap } from ${JSON.stringify(pathToFileURL(capModule).href)};
const sink = { onInterface() {}, onFrame() {}, onProblem() {}, onStatistics() {} };
const attempt = (device, filter) =>
  new Promise((resolve) => {
    startCap({ netns: null, device, label: device }, { filter, snaplen: 65535, bufferSize: 1 << 20 }, {
      sink,
      onReady() {},
      onEnd: (end) => resolve(end.reason),
    });
  });
const reasons = new Set();
for (let i = 0; i < 20; i++) {
  reasons.add(await attempt('hopscope-none0', null));
  reasons.add(await attempt('lo', 'port port garbage'));
  globalThis.gc();
}
await new Promise((r) => setTimeout(r, 200));
globalThis.gc();
process.stdout.write([...reasons].sort().join(' '));
`,
);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const runScript = (...prefix: string[]) =>
  spawnSync(prefix[0] ?? process.execPath, [...prefix.slice(1), '--expose-gc', script], {
    encoding: 'utf8',
    timeout: 30_000,
  });

describe.skipIf(loadCap() instanceof Error)('cap backend after a failed open', () => {
  it.skipIf(!hasNetRaw())(
    'a missing interface and a bad filter end as reasons; the collector finds nothing to abort on',
    () => {
      const run = runScript(process.execPath);
      expect(run.signal, run.stderr).toBeNull();
      expect(run.status, run.stderr).toBe(0);
      expect(run.stdout).toBe('filter missing');
    },
  );

  it.skipIf(!nobodyCan('true'))('without CAP_NET_RAW: permission, asked before libpcap is', () => {
    const run = runScript('setpriv', ...AS_NOBODY, process.execPath);
    expect(run.signal, run.stderr).toBeNull();
    expect(run.status, run.stderr).toBe(0);
    // The missing interface is missing whoever asks; everything else needs the capability first.
    expect(run.stdout).toBe('missing permission');
  });

  it('reads the effective set of /proc/self/status', () => {
    expect(hasNetRaw('Name:\tnode\nCapEff:\t000001ffffffffff\n')).toBe(true);
    expect(hasNetRaw('Name:\tnode\nCapEff:\t0000000000000000\n')).toBe(false);
    expect(hasNetRaw('Name:\tnode\nCapEff:\t0000000000002000\n')).toBe(true);
    expect(hasNetRaw('')).toBe(true);
  });
});
