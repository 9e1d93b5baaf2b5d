// runLive's own logic with a backend that replays a real lab capture: an interface that is missing
// at first, goes away mid-run and comes back is retried and logged, never a crash; frame numbers
// and drop counters go on across the restarts; the drops reach the report through the catalogue;
// the service's hooks see every source. No root needed: the capture is the replayed file.
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { BackendName, StartCapture } from '../../src/capture/live/backend.js';
import { type LiveOptions, runLive } from '../../src/capture/live/run.js';
import { readCapture } from '../../src/capture/read.js';
import type { Logger } from '../../src/log.js';
import { emptyOverrides } from '../../src/pipeline/hops.js';
import { createSession } from '../../src/pipeline/session.js';
import { renderText } from '../../src/report/text.js';

const sample = join(import.meta.dirname, '..', '..', 'samples', 'jumbo-underlay', 'host2-vxlan-97.pcap');

function recordingLogger(lines: Array<{ level: string; fields: object; message: string }>): Logger {
  const logger: Logger = {
    child: () => logger,
    error: (fields, message) => lines.push({ level: 'error', fields, message }),
    warn: (fields, message) => lines.push({ level: 'warn', fields, message }),
    info: (fields, message) => lines.push({ level: 'info', fields, message }),
    debug: () => {},
  };
  return logger;
}

/**
 * runLive's options for `devices` captured by a replaying `backend` (the defaults of a plain
 * `hopscope live -i DEV`), with `more` on top.
 */
function replayOptions(
  devices: readonly string[],
  backend: BackendName,
  start: StartCapture,
  more: Partial<LiveOptions> = {},
): LiveOptions {
  return {
    interfaces: devices.map((device) => ({ netns: null, device, label: device })),
    follow: [],
    backend,
    filter: null,
    snaplen: 262144,
    bufferSize: 1 << 20,
    duration: null,
    count: null,
    overrides: emptyOverrides(),
    logger: recordingLogger([]),
    argv: ['live'],
    backends: { [backend]: start },
    ...more,
  };
}

describe('runLive', () => {
  it('retries an interface that is missing, then goes away, and keeps counting across restarts', async () => {
    const sampleFrames = (await readCapture(sample, { onInterface() {}, onFrame() {}, onProblem() {} }))
      .frames;
    let starts = 0;
    const replay: StartCapture = (_spec, _options, events) => {
      const n = ++starts;
      let ended = false;
      const end = (reason: 'missing' | 'gone' | 'stopped', dropped: number | null) => {
        if (ended) return;
        ended = true;
        events.onEnd({
          reason,
          message: reason === 'stopped' ? null : `${reason} (replayed)`,
          received: null,
          dropped,
          ifDropped: 0,
        });
      };
      void (async () => {
        await new Promise((r) => setTimeout(r, 5));
        if (n === 1) return end('missing', null);
        events.onReady();
        await readCapture(sample, events.sink);
        if (n === 2) end('gone', 3);
      })();
      return { stop: async () => end('stopped', 2) };
    };
    const lines: Array<{ level: string; fields: object; message: string }> = [];
    const tapped: string[] = [];
    let started = 0;
    let stoppedWith = -1;
    let maxNumber = 0;
    const outcome = await runLive(
      replayOptions(['hsnothere0'], 'dumpcap', replay, {
        count: 2 * sampleFrames,
        logger: recordingLogger(lines),
        retryMs: 20,
      }),
      {
        tap: (hop, feed) => {
          tapped.push(hop);
          return {
            ...feed,
            capture: feed.capture,
            onFrame(frame) {
              if (frame.number > maxNumber) maxNumber = frame.number;
              feed.onFrame(frame);
            },
          };
        },
        onStart: () => {
          started++;
        },
        onStop: (run) => {
          stoppedWith = run.stats()[0]?.frames ?? -1;
        },
      },
    );
    expect(outcome.reason).toBe('count');
    expect(starts).toBe(3);
    expect(started).toBe(1);
    expect(tapped).toEqual(['hsnothere0']);
    const [stats] = outcome.interfaces;
    expect(stats).toMatchObject({ state: 'stopped', frames: 2 * sampleFrames, dropped: 5, starts: 3 });
    expect(stoppedWith).toBe(2 * sampleFrames);
    // The lab recorded with a 256-byte snap length: frames longer than it are counted as cut, and
    // said once.
    expect(stats?.cut).toBeGreaterThan(0);
    expect(lines.filter((l) => /longer than the snap length/.test(l.message))).toHaveLength(1);
    const said = lines.map((l) => `${l.level} ${l.message}`);
    expect(said.some((l) => /^warn hsnothere0 is not there/.test(l))).toBe(true);
    expect(said.some((l) => /^warn hsnothere0 went away .*trying again/.test(l))).toBe(true);
    expect(said.some((l) => /^info capturing again/.test(l))).toBe(true);

    const report = outcome.run.session.snapshot('test');
    const hop = report.hops.find((h) => h.name === 'hsnothere0');
    expect(hop?.frames).toBe(2 * sampleFrames);
    const dropped = report.findings.find((f) => f.code === 'capture.dropped');
    expect(dropped?.hop).toBe('hsnothere0');
    expect(dropped?.explanation).toMatch(/lost 5 frames \(the kernel’s capture buffer overflowed\)/);
    // Every verdict drawn at that hop says its capture dropped frames.
    const verdicts = report.findings.filter((f) => f.code !== 'capture.dropped' && f.hop === 'hsnothere0');
    expect(verdicts.length).toBeGreaterThan(0);
    for (const f of verdicts)
      expect(f.explanation).toMatch(
        /The capture dropped frames at hsnothere0 \(5 in all\): part of what this verdict counts/,
      );
    // Frame numbers go on after a restart: evidence never names two frames alike.
    expect(maxNumber).toBe(2 * sampleFrames);
  });

  it('knows drops while capturing (a backend asked mid-run), and keeps them when the tool is killed', async () => {
    const midRun: Array<{ dropped: number | null; finding: string | undefined }> = [];
    let release: () => void = () => {};
    const asked: StartCapture = (_spec, _options, events) => {
      let ended = false;
      void (async () => {
        events.onReady();
        await readCapture(sample, events.sink);
        events.onCounters?.({ received: 100, dropped: 1, ifDropped: null });
        events.onCounters?.({ received: 200, dropped: 4, ifDropped: null });
        release();
      })();
      return {
        // Killed: no closing counters.
        stop: async () => {
          if (ended) return;
          ended = true;
          events.onEnd({ reason: 'stopped', message: null, received: null, dropped: null, ifDropped: null });
        },
      };
    };
    const controller = new AbortController();
    const outcome = await runLive(
      replayOptions(['hsasked0'], 'tcpdump', asked, { signal: controller.signal }),
      {
        onStart: async (run) => {
          await new Promise<void>((resolve) => {
            release = resolve;
          });
          const report = run.session.snapshot('test');
          midRun.push({
            dropped: run.stats()[0]?.dropped ?? null,
            finding: report.findings.find((f) => f.code === 'capture.dropped')?.explanation,
          });
          controller.abort();
        },
      },
    );
    expect(midRun).toHaveLength(1);
    expect(midRun[0]?.dropped).toBe(4);
    expect(midRun[0]?.finding).toMatch(/lost 4 frames/);
    expect(outcome.interfaces[0]?.dropped).toBe(4);
  });

  it('says a failure that repeats in the same words once, and again when the words change', async () => {
    let starts = 0;
    const flaky: StartCapture = (_spec, _options, events) => {
      const n = ++starts;
      let ended = false;
      const end = (reason: 'failed' | 'stopped', message: string | null) => {
        if (ended) return;
        ended = true;
        events.onEnd({ reason, message, received: null, dropped: null, ifDropped: null });
      };
      void (async () => {
        await new Promise((r) => setTimeout(r, 5));
        if (n <= 3) return end('failed', 'boom (replayed)');
        if (n === 4) return end('failed', 'bang (replayed)');
        events.onReady();
        await readCapture(sample, events.sink);
      })();
      return { stop: async () => end('stopped', null) };
    };
    const lines: Array<{ level: string; fields: object; message: string }> = [];
    const outcome = await runLive(
      replayOptions(['hsflaky0'], 'tcpdump', flaky, {
        count: 1,
        logger: recordingLogger(lines),
        retryMs: 10,
      }),
    );
    expect(outcome.reason).toBe('count');
    expect(starts).toBe(5);
    const errors = lines.filter((l) => l.level === 'error').map((l) => l.message);
    expect(errors).toEqual([
      'capture failed: boom (replayed); trying again',
      'capture failed: bang (replayed); trying again',
    ]);
  });

  it('stops with one message when capturing is not permitted', async () => {
    const denied: StartCapture = (_spec, _options, events) => {
      queueMicrotask(() =>
        events.onEnd({
          reason: 'permission',
          message: 'socket: Operation not permitted',
          received: null,
          dropped: null,
          ifDropped: null,
        }),
      );
      return { stop: async () => {} };
    };
    const lines: Array<{ level: string; fields: object; message: string }> = [];
    const outcome = await runLive(
      replayOptions(['x0', 'x1', 'x2'], 'cap', denied, {
        snaplen: 65535,
        duration: 30,
        logger: recordingLogger(lines),
        argv: [],
      }),
    );
    expect(outcome.reason).toBe('failed');
    expect(outcome.fatal).toMatch(/CAP_NET_RAW and CAP_NET_ADMIN.*root.*setcap/);
    expect(lines.filter((l) => l.level === 'error')).toHaveLength(1);
  });
});

describe('what the system says reaches the verdicts', () => {
  it('a live hop carries its offloads: the super-frame finding says GRO is on there', async () => {
    const overrides = emptyOverrides();
    overrides.system = new Map([
      ['host2-vxlan-97', { kind: 'vxlan', mtu: 1500, offloads: { gro: 'on', tso: 'off', gso: 'off' } }],
    ]);
    const session = createSession({ overrides, logger: recordingLogger([]) });
    await session.readFile(sample);
    const report = session.snapshot('test');
    const hop = report.hops.find((h) => h.name === 'host2-vxlan-97');
    expect(hop).toMatchObject({ kind: 'vxlan', kindSource: 'system', mtu: 1500, mtuSource: 'system' });
    expect(hop?.offloads).toEqual({ gro: 'on', tso: 'off', gso: 'off' });
    const superFrame = report.findings.find(
      (f) => f.code === 'segment.super-frame' && f.hop === 'host2-vxlan-97',
    );
    expect(superFrame?.explanation).toMatch(/At host2-vxlan-97 GRO is on and TSO\/GSO is off \(ethtool -k\)/);
    expect(renderText(report, { color: false, verbose: true, width: 200 })).toMatch(
      /GRO is on and TSO\/GSO is off/,
    );
    // The same capture read as a file says nothing about features it cannot know.
    const plain = createSession({ overrides: emptyOverrides(), logger: recordingLogger([]) });
    await plain.readFile(sample);
    const plainReport = plain.snapshot('test');
    expect(plainReport.hops[0]?.offloads).toBeUndefined();
    expect(plainReport.findings.find((f) => f.code === 'segment.super-frame')?.explanation).not.toMatch(
      /ethtool/,
    );
  });
});
