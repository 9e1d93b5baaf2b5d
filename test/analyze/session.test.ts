// The analysis session: sources feeding frames in any interleaving give the snapshot of the files
// read one after the other, and snapshots taken mid-stream are valid documents that leave the
// analysis as it was. Real lab captures (fragments, tunnels, GSO/GRO), fed frame by frame.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { CaptureInterface, Frame } from '../../src/capture/frame.js';
import { readCapture } from '../../src/capture/read.js';
import { createLogger } from '../../src/log.js';
import { analyzeCaptures } from '../../src/pipeline/analyze.js';
import { buildOverrides } from '../../src/pipeline/hops.js';
import { createSession, type SessionOptions } from '../../src/pipeline/session.js';
import { buildReport, type Report } from '../../src/report/model.js';

const root = join(import.meta.dirname, '..', '..');
const scenario = join(root, 'samples', 'fragmenting-underlay');
const topology = join(scenario, 'topology.json');
const files = (JSON.parse(readFileSync(topology, 'utf8')) as { path: Array<{ file: string }> }).path.map(
  (p) => join(scenario, p.file),
);

interface Recorded {
  interfaces: CaptureInterface[];
  frames: Array<Omit<Frame, 'data'>>;
}

/** Every frame of a capture, copied out of the reader's reused buffers. */
async function record(path: string): Promise<Recorded> {
  const out: Recorded = { interfaces: [], frames: [] };
  await readCapture(path, {
    onInterface: (iface) => out.interfaces.push({ ...iface }),
    onFrame: (frame) => {
      const bytes = frame.buffer.slice(frame.dataOffset, frame.dataOffset + frame.capturedLength);
      out.frames.push({ ...frame, buffer: bytes, dataOffset: 0 });
    },
    onProblem: () => {},
  });
  return out;
}

function options(): SessionOptions {
  return { overrides: buildOverrides([], [], topology), logger: createLogger('silent') };
}

function asFrame(f: Omit<Frame, 'data'>): Frame {
  return { ...f, data: f.buffer } as Frame;
}

/** Feeds the recorded captures into one session, frames merged by capture time (ties by source). */
async function interleaved(recorded: Recorded[], midway?: (report: Report) => void): Promise<Report> {
  const session = createSession(options());
  const feeds = files.map((path) => session.addSource(path));
  recorded.forEach((r, i) => {
    for (const iface of r.interfaces) feeds[i]?.onInterface(iface);
  });
  const next = recorded.map(() => 0);
  const total = recorded.reduce((sum, r) => sum + r.frames.length, 0);
  for (let fed = 0; fed < total; fed++) {
    let best = -1;
    let bestTime = Number.POSITIVE_INFINITY;
    recorded.forEach((r, i) => {
      const f = r.frames[next[i] as number];
      if (f === undefined) return;
      const t = f.timeSec + f.timeNs / 1e9;
      if (t < bestTime) {
        bestTime = t;
        best = i;
      }
    });
    const frame = recorded[best]?.frames[next[best] as number] as Omit<Frame, 'data'>;
    next[best] = (next[best] as number) + 1;
    feeds[best]?.onFrame(asFrame(frame));
    if (midway !== undefined && (fed === Math.floor(total / 3) || fed === Math.floor((2 * total) / 3)))
      midway(session.snapshot('test'));
  }
  recorded.forEach((r, i) => {
    feeds[i]?.end({ format: 'pcap', compressed: false, frames: r.frames.length, interfaces: r.interfaces });
  });
  return session.snapshot('test');
}

describe('an analysis session', () => {
  it('fed ten sources at once, interleaved by time, reports what the files read one after the other do', async () => {
    const recorded = await Promise.all(files.map(record));
    // Frames really interleave: the physical NIC's frames fall between the guest's.
    expect(recorded.length).toBe(10);
    const together = await interleaved(recorded);
    const sequential = buildReport(await analyzeCaptures(files, options()), 'test');
    expect(together.findings.some((f) => f.code === 'fragment.outer')).toBe(true);
    expect(together.paths.length).toBeGreaterThan(0);
    expect(JSON.stringify(together)).toBe(JSON.stringify(sequential));
  });

  it('gives valid documents mid-stream, and asking does not change the analysis', async () => {
    const recorded = await Promise.all(files.map(record));
    const snapshots: Report[] = [];
    const final = await interleaved(recorded, (report) => snapshots.push(report));
    const undisturbed = await interleaved(recorded);
    expect(JSON.stringify(final)).toBe(JSON.stringify(undisturbed));
    expect(snapshots).toHaveLength(2);
    const [first, second] = snapshots as [Report, Report];
    const frames = (r: Report) => r.hops.reduce((sum, hop) => sum + hop.frames, 0);
    expect(frames(first)).toBeGreaterThan(0);
    expect(frames(first)).toBeLessThan(frames(second));
    expect(frames(second)).toBeLessThan(frames(final));
    for (const report of snapshots) {
      expect(report.version).toBe(1);
      expect(JSON.parse(JSON.stringify(report))).toEqual(report);
      for (const finding of report.findings) {
        // Every template filled: a missing fact would stay visible as {name}.
        expect(`${finding.title} ${finding.explanation} ${finding.fix}`).not.toMatch(/\{~?\w+(\|list)?\}/);
        expect(finding.count).toBeGreaterThan(0);
        expect(finding.firstSeen === null || finding.firstSeen <= (finding.lastSeen ?? '')).toBe(true);
      }
      // Counts only grow between snapshots of one session.
      for (const hop of report.hops) {
        const later = final.hops.find((h) => h.name === hop.name);
        expect(later?.frames ?? 0).toBeGreaterThanOrEqual(hop.frames);
        expect(later?.fragments.reassembled ?? 0).toBeGreaterThanOrEqual(hop.fragments.reassembled);
      }
    }
    // The tunnel's fragments were already rebuilt by the second snapshot (the NIC's frames are early).
    expect(second.findings.some((f) => f.code === 'fragment.outer')).toBe(true);
    const outer = final.findings.find((f) => f.code === 'fragment.outer');
    expect(outer?.facts).toMatchObject({ overhead: 50, maxOverlayMtu: 1350, needed: 1550, clampMss: 1310 });
    expect(outer?.derived).toEqual(
      expect.arrayContaining(['maxOverlayMtu', 'needed', 'clampMss', 'clampPayload']),
    );
  });
});
