// The evidence frames of a finding outlive the ring of recent frames once pinned: a busy hop's ring
// turns over long before the next snapshot tells the finding, so the quick scan copies them out.
// And a slow /events reader is cut off instead of growing the server's memory.
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { CaptureInterface, Frame } from '../../src/capture/frame.js';
import { readCapture } from '../../src/capture/read.js';
import { createLogger } from '../../src/log.js';
import { openEvidence } from '../../src/service/evidence.js';
import { SSE_BUFFER_LIMIT, startApiServer } from '../../src/service/http.js';
import { type FindingEvent, streamFinding } from '../../src/service/tracker.js';
import { newSession } from '../helpers/service-run.js';

const capture = join(import.meta.dirname, '..', '..', 'samples', 'fragmenting-underlay', 'host1-phy0.pcap');
const work = mkdtempSync(join(tmpdir(), 'hopscope-pin-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

async function recorded(): Promise<{ iface: CaptureInterface; frames: Frame[] }> {
  const frames: Frame[] = [];
  let iface: CaptureInterface | null = null;
  await readCapture(capture, {
    onInterface: (i) => {
      iface = { ...i };
    },
    onFrame: (f) => {
      const buffer = f.buffer.slice(f.dataOffset, f.dataOffset + f.capturedLength);
      frames.push({ ...f, buffer, dataOffset: 0, data: buffer } as Frame);
    },
    onProblem: () => {},
  });
  return { iface: iface as unknown as CaptureInterface, frames };
}

/** Feeds the frames through an evidence tap with a tiny ring, pinning after `pinAt` frames if asked. */
async function run(pinAt: number | null, name: string) {
  const { iface, frames } = await recorded();
  const session = newSession();
  const dir = join(work, name);
  const evidence = await openEvidence({
    dir,
    maxBytes: 1e7,
    ringBytes: 16 * 1024,
    ringFrames: 64,
    toolVersion: 'x',
    logger: createLogger('silent'),
  });
  const feed = evidence.tap('host1-phy0', session.addSource(capture));
  feed.onInterface(iface);
  frames.forEach((frame, i) => {
    if (i === pinAt) evidence.pin(session);
    feed.onFrame(frame);
  });
  feed.end();
  const finding = session.snapshot('x').findings.find((f) => f.code === 'fragment.outer');
  expect(finding).toBeDefined();
  evidence.record(streamFinding(finding as NonNullable<typeof finding>), 'x');
  await evidence.flush();
  return {
    finding,
    files: readdirSync(dir).filter((f) => f.endsWith('.pcapng')),
    stats: evidence.stats(),
    frames,
  };
}

describe('pinned evidence frames', () => {
  it('are written although the ring turned over many times since', async () => {
    // Where the finding's evidence ends, from the data: pin just after its last evidence frame.
    const probe = await run(null, 'probe');
    const last = Math.max(...(probe.finding?.evidence.map((e) => e.frame) ?? []));
    expect(last).toBeLessThan(probe.frames.length / 4);
    // Unpinned: the ring (16 KiB) lost them long ago; no file, the frames counted as missing.
    expect(probe.files).toEqual([]);
    expect(probe.stats.framesMissing).toBe(probe.finding?.evidence.length);
    const pinned = await run(last, 'pinned');
    expect(pinned.files).toHaveLength(1);
    expect(pinned.stats.framesMissing).toBe(0);
    const { frames } = await new Promise<{ frames: number[] }>((resolve) => {
      const numbers: number[] = [];
      readCapture(join(work, 'pinned', pinned.files[0] as string), {
        onInterface: () => {},
        onFrame: (f) => numbers.push(f.number),
        onProblem: () => {},
      }).then(() => resolve({ frames: numbers }));
    });
    expect(frames).toHaveLength(pinned.finding?.evidence.length as number);
  });
});

describe('a slow /events reader', () => {
  it('is disconnected once what waits for it passes the limit; the others are not held up', async () => {
    const handlers = {
      snapshot: () => null,
      hops: () => null,
      metrics: async () => ({ contentType: 'text/plain', body: '' }),
      health: () => ({ ok: true, body: {} }),
      since: () => [],
      current: () => ({ lastId: 0, findings: [] }),
    };
    const api = await startApiServer(
      { host: '127.0.0.1', port: 0 },
      () => true,
      handlers,
      createLogger('silent'),
    );
    const { port } = api.address();
    // A client that asks for events and never reads them.
    const socket = connect(port, '127.0.0.1');
    socket.pause();
    socket.write('GET /events HTTP/1.1\r\nHost: x\r\nLast-Event-ID: 0\r\n\r\n');
    await new Promise((r) => setTimeout(r, 100));
    expect(api.clients()).toBe(1);
    const closed = new Promise((r) => socket.once('close', r));
    const big = 'x'.repeat(64 * 1024);
    const event = (id: number): FindingEvent => ({
      id,
      type: 'new',
      finding: {
        ...streamFinding({ code: 'fragment.ip', hop: 'h', scope: 'hop', flow: null } as never),
        title: big,
      },
    });
    // Far more than the socket buffers and the limit hold together.
    for (let id = 1; id <= 1000 && api.clients() > 0; id++) {
      api.broadcast([event(id)]);
      await new Promise((r) => setImmediate(r));
    }
    expect(api.clients()).toBe(0);
    socket.resume();
    await closed;
    expect(SSE_BUFFER_LIMIT).toBeLessThan(1000 * big.length);
    await api.close();
  });
});
