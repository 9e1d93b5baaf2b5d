/**
 * `hopscope analyze`: every capture through capture -> decode -> observe, then findings.
 *
 * Captures are read one after another, each as a stream; a capture that cannot be opened is
 * reported and the others are still analysed. All per-frame work happens in `onFrame` with one
 * reused Packet; the rest runs once per capture or once per hop.
 */

import type {
  CaptureFormat,
  CaptureInterface,
  CaptureProblem,
  CaptureSink,
  Frame,
} from '../capture/frame.js';
import { LinkType } from '../capture/frame.js';
import { readCapture } from '../capture/read.js';
import { type Correlation, correlate } from '../correlate/correlate.js';
import { decodeFrameAt } from '../decode/decode.js';
import { createPacket } from '../decode/packet.js';
import { CaptureOpenError } from '../errors.js';
import { createFindingStore, type FindingRecord, type FindingStore, noteFinding } from '../findings/store.js';
import type { Logger } from '../log.js';
import { finishHop } from '../observe/finish.js';
import { finishFragments } from '../observe/fragments.js';
import { createHopState, type HopState, observeFrame } from '../observe/hop.js';
import { type HopOverrides, hopNameForFile, nameHop, nameIfIndexHop, resolveIdentity } from './hops.js';

export interface CaptureResult {
  path: string;
  /** Hops this capture holds (one per interface that had frames or was declared). */
  hops: string[];
  format: CaptureFormat | null;
  compressed: boolean;
  linkTypes: number[];
  frames: number;
  snaplen: number | null;
  /** One line per problem: file, frame/offset, what was wrong. */
  errors: string[];
  /** False when the capture could not be read at all. */
  readable: boolean;
}

export interface AnalysisResult {
  captures: CaptureResult[];
  hops: HopState[];
  /** Findings about capture files themselves (truncated files). */
  captureFindings: FindingRecord[];
  /** The same data followed across hops (empty with a single hop). */
  correlation: Correlation;
}

export interface AnalyzeOptions {
  overrides: HopOverrides;
  /** Hop names in path order (--path); otherwise the topology's order or the evidence. */
  path?: string[];
  logger: Logger;
  onProgress?: (path: string, bytesRead: number, totalBytes: number | null) => void;
}

export async function analyzeCaptures(
  paths: readonly string[],
  options: AnalyzeOptions,
): Promise<AnalysisResult> {
  const result: AnalysisResult = {
    captures: [],
    hops: [],
    captureFindings: [],
    correlation: { paths: [], clockOffsets: {}, findings: [] },
  };
  const taken = new Set<string>();
  const packet = createPacket();
  for (const path of paths) {
    const outcome = await analyzeOne(path, options, taken, packet);
    result.captures.push(outcome.capture);
    result.hops.push(...outcome.hops);
    result.captureFindings.push(...outcome.findings);
  }
  if (result.hops.length > 1) {
    const expected = options.overrides.topology.map((entry) =>
      entry.file !== undefined ? hopNameForFile(entry.file) : `${entry.host}-${entry.interface}`,
    );
    const topologyOrder = expected.filter((name) => result.hops.some((hop) => hop.name === name));
    result.correlation = correlate(result.hops, {
      ...(options.path !== undefined ? { path: options.path } : {}),
      ...(topologyOrder.length > 0 ? { topologyOrder, expected } : {}),
    });
  }
  return result;
}

interface HopRuntime {
  hop: HopState;
}

async function analyzeOne(
  path: string,
  options: AnalyzeOptions,
  taken: Set<string>,
  packet: ReturnType<typeof createPacket>,
): Promise<{ capture: CaptureResult; hops: HopState[]; findings: FindingRecord[] }> {
  const log = options.logger.child({ capture: path });
  const capture: CaptureResult = {
    path,
    hops: [],
    format: null,
    compressed: false,
    linkTypes: [],
    frames: 0,
    snaplen: null,
    errors: [],
    readable: true,
  };
  const byInterface: Array<HopRuntime | undefined> = [];
  const runtimes: HopRuntime[] = [];
  const interfaces: CaptureInterface[] = [];
  const fileFindings: FindingStore = createFindingStore(path);

  const hopFor = (interfaceId: number): HopRuntime => {
    let runtime = byInterface[interfaceId];
    if (runtime === undefined) {
      const iface = interfaces[interfaceId] ?? {
        interfaceId,
        linkType: 1,
        snaplen: 262144,
        name: null,
        description: null,
      };
      const name = nameHop(path, iface, Math.max(1, interfaces.length), taken);
      const hop = createHopState(resolveIdentity(name, path, iface, options.overrides));
      runtime = { hop };
      byInterface[interfaceId] = runtime;
      runtimes.push(runtime);
      capture.hops.push(name);
      log.debug({ hop: name, interfaceId, linkType: iface.linkType }, 'hop');
    }
    return runtime;
  };

  const byIfIndex = new Map<number, HopRuntime>();
  const splitInterfaces = new Set<number>();
  const ifIndexHopFor = (interfaceId: number, ifIndex: number): HopRuntime => {
    const key = interfaceId * 0x100000000 + ifIndex;
    let runtime = byIfIndex.get(key);
    if (runtime === undefined) {
      const iface = interfaces[interfaceId] ?? {
        interfaceId,
        linkType: LinkType.LINUX_SLL2,
        snaplen: 262144,
        name: null,
        description: null,
      };
      const fileHop = iface.name !== null && iface.name !== '' ? iface.name : hopNameForFile(path);
      const { name, entry } = nameIfIndexHop(path, fileHop, ifIndex, options.overrides, taken);
      const hop = createHopState(resolveIdentity(name, path, iface, options.overrides, entry));
      runtime = { hop };
      byIfIndex.set(key, runtime);
      runtimes.push(runtime);
      capture.hops.push(name);
      splitInterfaces.add(interfaceId);
    }
    return runtime;
  };

  const sink: CaptureSink = {
    onInterface(iface: CaptureInterface): void {
      interfaces[iface.interfaceId] = iface;
      if (!capture.linkTypes.includes(iface.linkType)) capture.linkTypes.push(iface.linkType);
      if (capture.snaplen === null || iface.snaplen > capture.snaplen) capture.snaplen = iface.snaplen;
    },
    onFrame(frame: Frame): void {
      // Decoded in place in the reader's buffer: no copy and no view per frame.
      decodeFrameAt(
        frame.linkType,
        frame.buffer,
        frame.dataOffset,
        frame.capturedLength,
        frame.originalLength,
        packet,
      );
      // tcpdump -i any (Linux cooked v2): each interface index of the capturing host is a hop.
      const runtime =
        packet.ifIndex >= 0 && frame.linkType === LinkType.LINUX_SLL2
          ? ifIndexHopFor(frame.interfaceId, packet.ifIndex)
          : (byInterface[frame.interfaceId] ?? hopFor(frame.interfaceId));
      observeFrame(runtime.hop, frame, packet, frame.buffer);
    },
    onProblem(problem: CaptureProblem): void {
      // The reader's message already names the frame and offset.
      const line = `${path}: ${problem.message}`;
      capture.errors.push(line);
      // Info, not warn: the problem is in the report and the summary already; the log is for tracing.
      log.info({ frame: problem.frame, offset: problem.offset, code: problem.code }, problem.message);
      const record = noteFinding(fileFindings, problem.code, 0, problem.frame);
      if (record.count === 1) {
        record.facts.problem = line;
        record.facts.firstFrame = problem.frame;
      }
    },
  };

  try {
    const summary = await readCapture(path, sink, {
      onProgress: options.onProgress ? (read, total) => options.onProgress?.(path, read, total) : undefined,
    });
    capture.format = summary.format;
    capture.compressed = summary.compressed;
    capture.frames = summary.frames;
    // A capture with interfaces but no frames still names its hops.
    for (const iface of summary.interfaces)
      if (!splitInterfaces.has(iface.interfaceId)) hopFor(iface.interfaceId);
  } catch (error) {
    if (!(error instanceof CaptureOpenError)) throw error;
    capture.readable = false;
    capture.errors.push(error.message);
    log.info({ code: error.code }, error.message);
  }
  for (const runtime of runtimes) {
    finishFragments(runtime.hop);
    finishHop(runtime.hop);
  }
  const findings: FindingRecord[] = [];
  const hopName = capture.hops.length === 1 ? (capture.hops[0] as string) : hopNameForFile(path);
  for (const byFlow of fileFindings.byCode) {
    for (const record of byFlow.values()) {
      record.hop = hopName;
      record.facts.count = record.count;
      findings.push(record);
    }
  }
  return { capture, hops: runtimes.map((r) => r.hop), findings };
}
