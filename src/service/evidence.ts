/**
 * `--evidence DIR`: the frames behind each finding as a pcapng file an operator opens in
 * Wireshark, one interface per hop (its name and link type), the finding as every packet's comment
 * (frame.comment). Files form a ring bounded by total size (the oldest go first), and each is
 * written atomically: to a temporary name in the same directory, fsynced, then renamed, so a crash
 * leaves either the whole file or none (stale temporaries are removed at the next start).
 *
 * Findings keep frame numbers, not bytes. The bytes come from the FeedTap: each source's frames
 * pass through a ring of recent frames (frame-ring.ts) on their way to the session. A finding is
 * only known to the stream at the next snapshot, by which time a busy hop's ring may have moved
 * on, so a quicker scan (`pin`, every PIN_EVERY_MS) reads the hops' own evidence numbers, without
 * correlating, and copies new evidence frames out of the ring while they are still in it.
 */

import { mkdir, open, readdir, rename, stat, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import type { FindingRecord } from '../findings/store.js';
import type { Logger } from '../log.js';
import type { HopState } from '../observe/hop.js';
import { hopFindings, viewHop } from '../observe/hop-view.js';
import type { CaptureResult, Session, SourceFeed } from '../pipeline/session.js';
import { createPcapngWriter } from '../report/pcapng-writer.js';
import { createFrameRing, type FrameRing, findFrame, pushFrame, type RingFrame } from './frame-ring.js';
import type { FeedTap } from './live-run.js';
import type { StreamFinding } from './tracker.js';

export interface EvidenceOptions {
  dir: string;
  /** Bound of all evidence files together (bytes). */
  maxBytes: number;
  /** Per source: bytes of recent frames kept, and frames at most. */
  ringBytes?: number;
  ringFrames?: number;
  /** Evidence frames copied out of the rings, in all (bytes). */
  pinBytes?: number;
  toolVersion: string;
  logger: Logger;
}

export const DEFAULT_RING_BYTES = 8 * 1024 * 1024;
export const DEFAULT_RING_FRAMES = 32 * 1024;
export const DEFAULT_PIN_BYTES = 16 * 1024 * 1024;
export const PIN_EVERY_MS = 100;

const FILE = /^hopscope-.+\.pcapng$/;
const TEMP = /^\.hopscope-.+\.(\d+)\.tmp$/;

export interface Evidence {
  tap: FeedTap;
  /** Copies the hops' evidence frames out of the rings while they are there (cheap; no correlation). */
  pin(session: Session): void;
  /** Writes the file of a new or grown finding (queued; files are written one at a time). */
  record(finding: StreamFinding, version: string): void;
  /** Resolves when every file queued so far is written (or failed and said so). */
  flush(): Promise<void>;
  /** The evidence files now, oldest first, and their total size. */
  files(): Array<{ name: string; size: number }>;
  stats(): { written: number; removed: number; framesMissing: number; ringSkipped: number };
}

interface Pinned {
  hop: string;
  frame: RingFrame;
}

function sanitize(text: string): string {
  return text.replace(/[^A-Za-z0-9._-]+/g, '_').slice(0, 80);
}

function stamp(ms: number): string {
  // 2026-11-27T10:00:01.234Z -> 20261127T100001.234Z: sorts by time, no colons (Windows shares).
  return new Date(ms).toISOString().replace(/[-:]/g, '');
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Opens the directory: removes temporaries a dead writer left, and takes the files already there into the ring. */
export async function openEvidence(options: EvidenceOptions): Promise<Evidence> {
  const { dir, logger } = options;
  const log = logger.child({ component: 'evidence' });
  await mkdir(dir, { recursive: true, mode: 0o750 });
  const files: Array<{ name: string; size: number }> = [];
  for (const name of (await readdir(dir)).sort()) {
    const temp = TEMP.exec(name);
    if (temp !== null) {
      // Another service writing into the same directory keeps its temporaries.
      if (Number(temp[1]) === process.pid || !pidAlive(Number(temp[1]))) {
        await unlink(join(dir, name)).catch(() => {});
        log.info({ file: name }, 'removed a half-written evidence file left by a stopped run');
      }
    } else if (FILE.test(name)) {
      const info = await stat(join(dir, name)).catch(() => null);
      if (info?.isFile()) files.push({ name, size: info.size });
    }
  }
  const counters = { written: 0, removed: 0, framesMissing: 0, ringSkipped: 0 };
  const rings = new Map<CaptureResult, FrameRing>();
  const pinned = new Map<string, Pinned>();
  let pinnedBytes = 0;
  const pinLimit = options.pinBytes ?? DEFAULT_PIN_BYTES;
  const seenFrames = new Map<string, number>();
  /** Evidence frames already written, per finding key (so an update writes only what is new). */
  const written = new Map<string, number>();
  let queue: Promise<void> = Promise.resolve();
  let sequence = 0;

  const ringOf = (hop: string): FrameRing | null => {
    for (const [capture, ring] of rings) if (capture.hops.includes(hop)) return ring;
    return null;
  };
  const pinKey = (hop: string, frame: number) => `${hop}\u0000${frame}`;

  const pinFrame = (hop: string, number: number) => {
    const key = pinKey(hop, number);
    if (pinned.has(key)) return;
    const ring = ringOf(hop);
    const frame = ring !== null ? findFrame(ring, number) : null;
    if (frame === null) return;
    pinned.set(key, { hop, frame });
    pinnedBytes += frame.data.length;
    // Oldest pinned out first (a Map iterates in insertion order).
    for (const [k, p] of pinned) {
      if (pinnedBytes <= pinLimit) break;
      pinned.delete(k);
      pinnedBytes -= p.frame.data.length;
    }
  };

  const frameOf = (hop: string, number: number): RingFrame | null => {
    const p = pinned.get(pinKey(hop, number));
    if (p !== undefined) return p.frame;
    const ring = ringOf(hop);
    return ring !== null ? findFrame(ring, number) : null;
  };

  const total = () => files.reduce((sum, f) => sum + f.size, 0);

  const writeAtomically = async (name: string, bytes: Uint8Array) => {
    const temp = join(dir, `.${name}.${process.pid}.tmp`);
    const handle = await open(temp, 'wx', 0o640);
    try {
      await handle.writeFile(bytes);
      await handle.sync();
    } catch (error) {
      await handle.close();
      await unlink(temp).catch(() => {});
      throw error;
    }
    await handle.close();
    await rename(temp, join(dir, name));
    // The rename itself is durable once the directory is synced.
    const dirHandle = await open(dir, 'r');
    await dirHandle.sync().catch(() => {});
    await dirHandle.close();
  };

  const trim = async () => {
    let bytes = total();
    while (bytes > options.maxBytes && files.length > 0) {
      const oldest = files.shift() as { name: string; size: number };
      bytes -= oldest.size;
      await unlink(join(dir, oldest.name)).catch((error: NodeJS.ErrnoException) => {
        if (error.code !== 'ENOENT')
          log.warn({ file: oldest.name, code: error.code }, 'cannot remove an old evidence file');
      });
      counters.removed++;
    }
  };

  const build = (
    finding: StreamFinding,
    frames: Array<{ hop: string; frame: RingFrame }>,
    version: string,
  ) => {
    const chunks: Uint8Array[] = [];
    const writer = createPcapngWriter((chunk) => chunks.push(chunk.slice()), `hopscope ${version}`);
    const ids = new Map<string, number>();
    const comment =
      `${finding.code} (${finding.severity}) at ${finding.hop}${finding.flow !== null ? `, ${finding.flow}` : ''}: ` +
      `${finding.title} [${finding.count} occurrence${finding.count === 1 ? '' : 's'}, first seen ${finding.firstSeen ?? 'unknown'}, last seen ${finding.lastSeen ?? 'unknown'}]`;
    frames.sort((a, b) => a.frame.timeSec - b.frame.timeSec || a.frame.timeNs - b.frame.timeNs);
    for (const { hop, frame } of frames) {
      let id = ids.get(hop);
      if (id === undefined) {
        const iface = ringOf(hop)?.interfaces[frame.interfaceId];
        id = writer.addInterface({
          name: hop,
          linkType: iface?.linkType ?? frame.linkType,
          snaplen: iface?.snaplen ?? 0,
          description: `hopscope hop ${hop}`,
        });
        ids.set(hop, id);
      }
      writer.writePacket({
        interfaceId: id,
        timeSec: frame.timeSec,
        timeNs: frame.timeNs,
        data: frame.data,
        originalLength: Math.max(frame.originalLength, frame.data.length),
        comments: [comment],
        direction: frame.direction,
      });
    }
    return Buffer.concat(chunks);
  };

  const writeFinding = async (finding: StreamFinding, version: string) => {
    const already = written.get(finding.key) ?? 0;
    if (finding.evidence.length <= already) return;
    const frames: Array<{ hop: string; frame: RingFrame }> = [];
    for (const { hop, frame: number } of finding.evidence) {
      const frame = frameOf(hop, number);
      if (frame !== null) frames.push({ hop, frame });
      else counters.framesMissing++;
    }
    written.set(finding.key, finding.evidence.length);
    if (written.size > 10_000) written.delete(written.keys().next().value as string);
    if (frames.length === 0) {
      log.debug({ code: finding.code, hop: finding.hop }, 'the evidence frames are no longer held: no file');
      return;
    }
    const bytes = build(finding, frames, version);
    if (bytes.length > options.maxBytes) {
      log.warn(
        { code: finding.code, bytes: bytes.length, max: options.maxBytes },
        'an evidence file would exceed --evidence-max-bytes alone: not written',
      );
      return;
    }
    const name = `hopscope-${stamp(Date.now())}-${String(sequence++).padStart(6, '0')}-${sanitize(finding.code)}-${sanitize(finding.hop)}.pcapng`;
    await writeAtomically(name, bytes);
    files.push({ name, size: bytes.length });
    counters.written++;
    log.info({ file: name, code: finding.code, hop: finding.hop, frames: frames.length }, 'evidence written');
    await trim();
  };

  // Files already there count against the bound from the start.
  await trim();

  return {
    tap(hop: string, feed: SourceFeed): SourceFeed {
      const ring = createFrameRing(
        options.ringBytes ?? DEFAULT_RING_BYTES,
        options.ringFrames ?? DEFAULT_RING_FRAMES,
      );
      rings.set(feed.capture, ring);
      log.debug({ hop, capture: feed.capture.path }, 'keeping recent frames for evidence');
      return {
        capture: feed.capture,
        onInterface(iface) {
          ring.interfaces[iface.interfaceId] = { ...iface };
          feed.onInterface(iface);
        },
        onFrame(frame) {
          pushFrame(ring, frame);
          feed.onFrame(frame);
        },
        onProblem: (problem) => feed.onProblem(problem),
        end: (summary) => feed.end(summary),
        fail: (error) => feed.fail(error),
      };
    },
    pin(session) {
      for (const source of session.exportSources()) {
        if (!rings.has(source.capture)) continue;
        for (const hop of source.hops) {
          // A hop that saw no frame since the last scan has no new evidence.
          if (seenFrames.get(hop.name) === hop.frames) continue;
          seenFrames.set(hop.name, hop.frames);
          const records: FindingRecord[] = hopFindings(viewHop(hop as HopState));
          for (const record of records) for (const number of record.evidence) pinFrame(hop.name, number);
        }
      }
    },
    record(finding, version) {
      queue = queue
        .then(() => writeFinding(finding, version))
        .catch((error: NodeJS.ErrnoException) => {
          log.warn({ code: error.code, message: error.message }, 'cannot write an evidence file');
        });
    },
    flush: () => queue,
    files: () => files.map((f) => ({ ...f })),
    stats: () => {
      counters.ringSkipped = [...rings.values()].reduce((sum, r) => sum + r.skipped, 0);
      return { ...counters };
    },
  };
}
