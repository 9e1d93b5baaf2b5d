// The real tcpdump answers SIGUSR1 with its counters while it captures, and the backend hands them
// on: a service that runs for weeks knows its drops now, not only when it stops. As root with
// tcpdump (in CI); skipped elsewhere with the reason printed.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { COUNTERS_MS, FLUSH_MS, startTcpdump, TCPDUMP_WRITE_BYTES } from '../../src/capture/live/dumpcap.js';
import { skipReasonWithout } from '../helpers/lab.js';

const skipReason = skipReasonWithout(['ip', 'tcpdump', 'ping'], 'needs a network namespace');
if (skipReason) console.warn(`tcpdump counters: skipped (${skipReason})`);
const ns = `hsctr${process.pid % 100000}`;

describe.skipIf(skipReason !== null)('tcpdump backend counters while capturing', () => {
  beforeAll(() => {
    execFileSync('ip', ['netns', 'add', ns]);
    execFileSync('ip', ['-n', ns, 'link', 'set', 'lo', 'up']);
  });
  afterAll(() => {
    spawnSync('ip', ['netns', 'del', ns]);
  });

  it('reports received and dropped counts mid-run, then its closing counters at stop', async () => {
    const counters: Array<{ received: number | null; dropped: number | null }> = [];
    let frames = 0;
    let ready = false;
    let end: { reason: string; received: number | null; dropped: number | null } | null = null;
    const handle = startTcpdump(
      { netns: ns, device: 'lo', label: `${ns}/lo` },
      { filter: 'icmp', snaplen: 256, bufferSize: 1 << 20 },
      {
        sink: { onInterface() {}, onFrame: () => void frames++, onProblem() {} },
        onReady: () => {
          ready = true;
        },
        onEnd: (e) => {
          end = e;
        },
        onCounters: (c) => void counters.push(c),
      },
    );
    const until = async (test: () => boolean, ms: number) => {
      for (const start = Date.now(); !test() && Date.now() - start < ms; )
        await new Promise((r) => setTimeout(r, 50));
    };
    try {
      await until(() => ready, 10_000);
      expect(ready).toBe(true);
      // stdbuf gave tcpdump's output its 256 KiB buffer and exec'd tcpdump (same pid, its signals).
      const pids = execFileSync('ip', ['netns', 'pids', ns], { encoding: 'utf8' })
        .split(/\s+/)
        .filter(Boolean);
      const tcpdump = pids.find((pid) =>
        readFileSync(`/proc/${pid}/cmdline`, 'utf8').startsWith('tcpdump\0'),
      );
      expect(tcpdump).toBeDefined();
      if (existsSync('/usr/bin/stdbuf'))
        expect(readFileSync(`/proc/${tcpdump}/environ`, 'utf8').split('\0')).toContain(
          `_STDBUF_O=${TCPDUMP_WRITE_BYTES}`,
        );
      spawnSync('ip', ['netns', 'exec', ns, 'ping', '-c', '5', '-i', '0.2', '127.0.0.1']);
      // A quiet stream's frames come within the flush interval, not when 256 KiB have gathered.
      await until(() => frames >= 10, FLUSH_MS * 5);
      expect(frames).toBeGreaterThanOrEqual(10);
      await until(() => counters.length > 0, COUNTERS_MS * 3);
      expect(counters.length).toBeGreaterThan(0);
      // Five echo requests and five replies crossed lo, each seen once by the filter.
      expect(counters.at(-1)?.received).toBeGreaterThanOrEqual(10);
      expect(counters.at(-1)?.dropped).toBe(0);
    } finally {
      // A failed expectation must not leave tcpdump running in the namespace.
      await handle.stop();
    }
    const ended = end as { reason: string; received: number | null; dropped: number | null } | null;
    expect(ended?.reason).toBe('stopped');
    expect(ended?.dropped).toBe(0);
    expect(frames).toBeGreaterThanOrEqual(10);
  }, 40_000);
});
