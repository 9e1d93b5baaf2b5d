/**
 * `hopscope annotate`: the input captures written again as one pcapng, frames merged by time
 * across the files, one interface per hop, and every finding as a packet comment on its evidence
 * frames ("hopscope fragment.outer: Tunnel packets fragmented on the underlay"), so a Wireshark
 * user sees the verdict on the frame (frame.comment).
 *
 * Streaming, in constant memory: each file is read by the ordinary reader, paced by the merge. A
 * file's next chunk is read only once every frame of its previous chunk has been written, so at
 * most one chunk's frames per file are held, whatever the size of the captures. The merge takes
 * the earliest frame among the files' next frames; frames of one file keep their file order.
 */

import { basename } from 'node:path';
import { type CaptureInterface, type CaptureSink, type Frame, LinkType } from '../capture/frame.js';
import { pacedFileChunks, readCapture } from '../capture/read.js';
import { u32 } from '../decode/common.js';
import { SLL2_HEADER_LENGTH } from '../decode/sll2.js';
import { MAX_HOPS_PER_CAPTURE } from '../pipeline/hops.js';
import type { Report } from './model.js';
import { createPcapngWriter, timeOffsetFor } from './pcapng-writer.js';

/** Bytes read from a file at a time: what bounds the frames held per file. */
const CHUNK_BYTES = 256 * 1024;

interface HeldFrame {
  number: number;
  interfaceId: number;
  /** The hop the analysis put the frame in. */
  hop: string;
  timeSec: number;
  timeNs: number;
  originalLength: number;
  direction: number;
  comment: string | null;
  data: Uint8Array;
}

interface FileCursor {
  path: string;
  index: number;
  /** Interfaces the file declared so far, by its own ids. */
  interfaces: CaptureInterface[];
  batch: HeldFrame[];
  at: number;
  /** Resolves with the next batch (empty when the file has ended). */
  next: () => Promise<HeldFrame[]>;
}

/** The most frames held at once, over all files: what shows that memory does not grow with the input. */
function heldFrames(cursors: readonly FileCursor[]): number {
  let held = 0;
  for (const cursor of cursors) held += cursor.batch.length;
  return held;
}

/**
 * The frames of one file in batches (one batch per chunk read), the reader paced by the caller:
 * the next chunk is read when the next batch is asked for.
 */
function openCursor(path: string, index: number, hops: readonly string[], problems: string[]): FileCursor {
  const cursor: FileCursor = { path, index, interfaces: [], batch: [], at: 0, next: async () => [] };
  let pending: HeldFrame[] = [];
  let ended = false;
  // The reader asks its source for a chunk; the source waits until the merge asks for a batch.
  let permit: (() => void) | null = null;
  let handBatch: ((frames: HeldFrame[]) => void) | null = null;
  const waitForPermit = () =>
    new Promise<void>((resolve) => {
      permit = resolve;
      // The reader is done with the previous chunk: its frames are a batch.
      const hand = handBatch;
      if (hand !== null) {
        handBatch = null;
        const frames = pending;
        pending = [];
        hand(frames);
      }
    });
  // Every chunk waits for the merge to ask for the next batch.
  const source = pacedFileChunks(path, CHUNK_BYTES, async () => {
    await waitForPermit();
    return true;
  });
  // The analysis made a hop per interface, and per interface index of a Linux cooked v2 capture
  // (tcpdump -i any), in the order of their first frames, and one for every interface past
  // MAX_HOPS_PER_CAPTURE: the same frames in the same order name them again here.
  const hopByKey = new Map<number, string>();
  const hopOfFrame = (frame: Frame): string => {
    const sll2 = frame.linkType === LinkType.LINUX_SLL2 && frame.capturedLength >= SLL2_HEADER_LENGTH;
    const ifIndex = sll2 ? u32(frame.buffer, frame.dataOffset + 4) : -1;
    const key = frame.interfaceId * 0x100000000 + (ifIndex + 1);
    let hop = hopByKey.get(key);
    if (hop === undefined) {
      hop =
        hops[Math.min(hopByKey.size, MAX_HOPS_PER_CAPTURE)] ??
        `${basename(path)}#${frame.interfaceId}${ifIndex >= 0 ? `@if${ifIndex}` : ''}`;
      hopByKey.set(key, hop);
    }
    return hop;
  };
  const sink: CaptureSink = {
    onInterface(iface) {
      cursor.interfaces[iface.interfaceId] = iface;
    },
    onProblem(problem) {
      problems.push(`${path}: ${problem.message}`);
    },
    onFrame(frame: Frame) {
      pending.push({
        number: frame.number,
        interfaceId: frame.interfaceId,
        hop: hopOfFrame(frame),
        timeSec: frame.timeSec,
        timeNs: frame.timeNs,
        originalLength: frame.originalLength,
        direction: frame.direction,
        comment: frame.comment,
        // A copy: the reader's buffer is reused once the callback returns.
        data: frame.buffer.slice(frame.dataOffset, frame.dataOffset + frame.capturedLength),
      });
    },
  };
  const reading = readCapture(path, sink, { source }).then(
    () => {
      ended = true;
    },
    (error: unknown) => {
      ended = true;
      problems.push(error instanceof Error ? error.message : String(error));
    },
  );
  const nextChunk = () =>
    new Promise<HeldFrame[]>((resolve) => {
      if (ended) {
        const frames = pending;
        pending = [];
        resolve(frames);
        return;
      }
      handBatch = resolve;
      const go = permit;
      permit = null;
      go?.();
      // The reader may end instead of asking for another chunk: then the rest is the last batch.
      void reading.then(() => {
        if (handBatch === resolve) {
          handBatch = null;
          const frames = pending;
          pending = [];
          resolve(frames);
        }
      });
    });
  // A chunk may hold no whole frame (the file header, the middle of a large record): read on
  // until frames come or the file ends.
  cursor.next = async () => {
    for (;;) {
      const frames = await nextChunk();
      if (frames.length > 0 || ended) return frames;
    }
  };
  return cursor;
}

export interface AnnotateOptions {
  /** Correct each hop's timestamps by its estimated clock offset (report.clockOffsets). */
  align: boolean;
  /** Where the pcapng bytes go; resolves when the sink can take more (back-pressure). */
  write: (chunk: Uint8Array) => undefined | Promise<void>;
}

export interface AnnotateSummary {
  frames: number;
  comments: number;
  interfaces: Array<{ name: string; frames: number }>;
  problems: string[];
  /** The most frames held in memory at once (bounded by the chunk size per file, not the input). */
  maxHeldFrames: number;
}

/** Each evidence frame's comments, by capture file and frame number. */
export function findingComments(report: Report): Map<string, Map<number, string[]>> {
  const fileOf = new Map<string, string>();
  for (const capture of report.captures) for (const hop of capture.hops) fileOf.set(hop, capture.path);
  const out = new Map<string, Map<number, string[]>>();
  for (const finding of report.findings) {
    const text = `hopscope ${finding.code}: ${finding.title}`;
    for (const { hop, frame } of finding.evidence) {
      const path = fileOf.get(hop);
      if (path === undefined) continue;
      const frames = out.get(path) ?? new Map<number, string[]>();
      out.set(path, frames);
      const comments = frames.get(frame) ?? [];
      frames.set(frame, comments);
      if (!comments.includes(text)) comments.push(text);
    }
  }
  return out;
}

/** Merges the captures into one annotated pcapng (see the top of this file). */
export async function annotateCaptures(
  report: Report,
  paths: readonly string[],
  options: AnnotateOptions,
): Promise<AnnotateSummary> {
  const comments = findingComments(report);
  const problems: string[] = [];
  let flush: Promise<void> | undefined;
  const writer = createPcapngWriter((chunk) => {
    const waiting = options.write(chunk);
    if (waiting !== undefined) flush = waiting;
  });
  const hopsOf = (path: string) => report.captures.find((c) => c.path === path)?.hops ?? [];
  const cursors = paths.map((path, index) => openCursor(path, index, hopsOf(path), problems));
  for (const cursor of cursors) cursor.batch = await cursor.next();
  const outIds = new Map<string, number>();
  /** Hops (by outIds' key) with a frame whose time could not be written: said once each. */
  const farHops = new Set<string>();
  const summary: AnnotateSummary = {
    frames: 0,
    comments: 0,
    interfaces: [],
    problems,
    maxHeldFrames: heldFrames(cursors),
  };
  const offsetNs = (hop: string): number => {
    const seconds = options.align ? report.clockOffsets[hop] : null;
    return typeof seconds === 'number' ? Math.round(seconds * 1e9) : 0;
  };
  // Aligned time of a cursor's next frame, in ns (a double keeps the ordering exact enough to
  // merge: ties and sub-µs inversions between files cannot be told apart by the captures either).
  const headTime = (cursor: FileCursor): number => {
    const frame = cursor.batch[cursor.at] as HeldFrame;
    return frame.timeSec * 1e9 + frame.timeNs - offsetNs(frame.hop);
  };
  for (;;) {
    let best: FileCursor | null = null;
    let bestTime = 0;
    for (const cursor of cursors) {
      if (cursor.at >= cursor.batch.length) continue;
      const time = headTime(cursor);
      if (best === null || time < bestTime) {
        best = cursor;
        bestTime = time;
      }
    }
    if (best === null) break;
    const frame = best.batch[best.at] as HeldFrame;
    best.at++;
    const hop = frame.hop;
    const shift = offsetNs(hop);
    let timeSec = frame.timeSec;
    let timeNs = frame.timeNs - shift;
    if (shift !== 0) {
      timeSec += Math.floor(timeNs / 1e9);
      timeNs = ((timeNs % 1e9) + 1e9) % 1e9;
    }
    const key = `${best.index}:${hop}`;
    let interfaceId = outIds.get(key);
    if (interfaceId === undefined) {
      const iface = best.interfaces[frame.interfaceId];
      interfaceId = writer.addInterface({
        name: hop,
        linkType: iface?.linkType ?? 1,
        snaplen: iface?.snaplen ?? 0,
        description: `${best.path}${iface?.name ? ` (${iface.name})` : ''}`,
        // Times before 1970 or after 2554 (a hostile if_tsoffset): counted from around the first.
        tsOffsetSec: timeOffsetFor(timeSec),
      });
      outIds.set(key, interfaceId);
      summary.interfaces.push({ name: hop, frames: 0 });
    }
    const notes = comments.get(best.path)?.get(frame.number) ?? [];
    const exact = writer.writePacket({
      interfaceId,
      timeSec,
      timeNs,
      data: frame.data,
      originalLength: Math.max(frame.originalLength, frame.data.length),
      comments: frame.comment !== null ? [frame.comment, ...notes] : notes,
      direction: frame.direction,
    });
    if (!exact && !farHops.has(key)) {
      farHops.add(key);
      const [from, to] = writer.timeSpan(interfaceId);
      problems.push(
        `${best.path}: frame ${frame.number}: its time (${timeSec} s from 1970) lies outside the 584 years the pcapng timestamps of hop ${hop} can hold (${from} to ${to} s): written at the nearest time they hold, as are any more such frames of the hop`,
      );
    }
    summary.frames++;
    summary.comments += notes.length;
    const counted = summary.interfaces[interfaceId];
    if (counted !== undefined) counted.frames++;
    if (flush !== undefined) {
      await flush;
      flush = undefined;
    }
    if (best.at >= best.batch.length) {
      best.batch = await best.next();
      best.at = 0;
      summary.maxHeldFrames = Math.max(summary.maxHeldFrames, heldFrames(cursors));
    }
  }
  return summary;
}
