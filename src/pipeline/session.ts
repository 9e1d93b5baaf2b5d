/**
 * One analysis session: sources are added to it (a capture file, stdin, a live interface), each
 * feeds its frames through capture -> decode -> observe into the hops it holds, and `snapshot()`
 * turns everything seen so far into the report model at any moment, as often as asked, without
 * disturbing the analysis: hop views are derived, hop findings copied, correlation run on the
 * traces as they stand.
 *
 * Each hop's state belongs to one source, so sources can feed frames in any interleaving (live
 * interfaces deliver at the same time; files may be read concurrently) and the snapshot is the
 * same as if they had been read one after the other. All per-frame work happens in a source's
 * `onFrame` with one reused Packet per source.
 */

import { setFlagsFromString } from 'node:v8';
import type {
  CaptureFormat,
  CaptureInterface,
  CaptureProblem,
  CaptureSink,
  CaptureStatistics,
  Frame,
} from '../capture/frame.js';
import { LinkType } from '../capture/frame.js';
import { type CaptureSummary, type ReadCaptureOptions, readCapture } from '../capture/read.js';
import { type Correlation, correlate } from '../correlate/correlate.js';
import { decodeFrameByLayersAt } from '../decode/decode.js';
import { decodeCommonFrame } from '../decode/fast.js';
import { createPacket, type Packet } from '../decode/packet.js';
import { CaptureOpenError } from '../errors.js';
import { CODE_INDEX } from '../findings/catalog.js';
import {
  createFindingStore,
  type FindingRecord,
  type FindingStore,
  newRecord,
  noteFinding,
  storeRecords,
} from '../findings/store.js';
import { createLogger, type Logger } from '../log.js';
import { endFragments } from '../observe/fragments.js';
import { createHopState, type HopState, observeFrame } from '../observe/hop.js';
import { type HopView, viewHop } from '../observe/hop-view.js';
import { buildReport, type Report } from '../report/model.js';
import {
  claimHopName,
  emptyOverrides,
  type HopNameRequest,
  type HopOverrides,
  hopNameForFile,
  hopRequest,
  ifIndexHopRequest,
  MAX_HOPS_PER_CAPTURE,
  resolveIdentity,
  sameIdentity,
} from './hops.js';

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

/** A capture before anything was read from it: no hops, frames or errors yet. */
export function emptyCaptureResult(path: string): CaptureResult {
  return {
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
}

export interface AnalysisResult {
  captures: CaptureResult[];
  hops: HopView[];
  /** Findings about capture files themselves (truncated files), hop named. */
  captureFindings: FindingRecord[];
  /** The same data followed across hops (empty with a single hop). */
  correlation: Correlation;
}

export interface SessionOptions {
  overrides: HopOverrides;
  /** Hop names in path order (--path); otherwise the topology's order or the evidence. */
  path?: string[];
  logger: Logger;
}

/** What a source is fed with: the capture layer's sink, and how the source ended. */
export interface SourceFeed extends CaptureSink {
  readonly capture: CaptureResult;
  /** The source is done (end of file, capture stopped): fragments still waiting are incomplete. */
  end(summary?: Pick<CaptureSummary, 'format' | 'compressed' | 'frames' | 'interfaces'>): void;
  /** The source could not be read at all. */
  fail(error: CaptureOpenError): void;
}

/**
 * A finished source as plain data (structured-cloneable): what a worker thread that read a capture
 * hands to the session that reports (see parallel.ts). The reassembler, which holds functions and
 * has nothing left to do, stays behind.
 */
export interface SourceData {
  capture: CaptureResult;
  hops: Array<Omit<HopState, 'reassembly'>>;
  problems: FindingStore;
  /** [interface id, index into hops] of each interface that carried frames (drop counters name the interface). */
  interfaceHops?: Array<[number, number]>;
}

/**
 * Sources are reported in the order of their `position` (default: the order they were added), so
 * files read in parallel, some here and some in workers, report as if read one after the other.
 */
export interface Session {
  /** A new source named `path` (a file, `-`, an interface); frames are pushed into what it returns. */
  addSource(path: string, position?: number): SourceFeed;
  /**
   * A source another session read to its end (in a worker thread). Hop names stay unique. `names`:
   * how that session named its hops (hopNames), for settleNames.
   */
  adoptSource(data: SourceData, position?: number, names?: HopNameRequest[]): void;
  /** Every source as data, to hand to another session; only once all sources have ended. */
  exportSources(): SourceData[];
  /** How each source's hops were named, in the order of exportSources. */
  hopNames(): HopNameRequest[][];
  /**
   * Names every hop again as reading the sources one after the other, in their positions, would
   * have: files read in threads are named in the order they end, each thread knowing only its own
   * names. False when a hop's name so changes what it is (--hop, --mtu or a topology entry names
   * one of the two): it was observed as another hop, and its file must be read again in order.
   */
  settleNames(): boolean;
  /** Adds a capture file (or `-`) and reads it to its end. */
  readFile(path: string, options?: ReadCaptureOptions, position?: number): Promise<CaptureResult>;
  /** Everything seen so far; derived values fresh, the analysis undisturbed. */
  result(): AnalysisResult;
  /** The report model (the JSON document) of everything seen so far. */
  snapshot(version: string): Report;
}

interface Source {
  position: number;
  feed: SourceFeed;
  hops: HopState[];
  /** How each hop was named, by index; null for a source adopted without (an agent's). */
  names: HopNameRequest[] | null;
  problems: FindingStore;
  /** [interface id, index into hops] of each interface that carried frames so far. */
  interfaceHops(): Array<[number, number]>;
}

function renameHop(hop: HopState, name: string): void {
  if (name === hop.name) return;
  hop.name = name;
  hop.findings.hop = name;
  for (const byFlow of hop.findings.byCode) for (const record of byFlow.values()) record.hop = name;
}

/** Renames an adopted hop whose name an earlier source took (numbered, as claimHopName does). */
function uniqueName(hop: HopState, taken: Set<string>): void {
  renameHop(hop, claimHopName({ base: hop.name, alt: null }, taken));
}

function adopted(
  data: SourceData,
  taken: Set<string>,
  position: number,
  names: HopNameRequest[] | null,
): Source {
  const hops = data.hops.map((stored) => {
    // The source has ended: its fragments are done with, no reassembler is needed again.
    const hop: HopState = { ...stored, reassembly: null };
    uniqueName(hop, taken);
    return hop;
  });
  const capture = { ...data.capture, hops: hops.map((hop) => hop.name) };
  const feed: SourceFeed = {
    capture,
    onInterface() {},
    onFrame() {},
    onProblem() {},
    end() {},
    fail() {},
  };
  // From another thread or an agent's document: only well-formed pairs are believed.
  const interfaceHops = Array.isArray(data.interfaceHops)
    ? data.interfaceHops.filter(
        (pair) => Array.isArray(pair) && Number.isInteger(pair[0]) && Number.isInteger(pair[1]),
      )
    : [];
  return { position, feed, hops, names, problems: data.problems, interfaceHops: () => interfaceHops };
}

/**
 * V8 gives a function its feedback (the types and branches it has seen, which the optimising
 * compiler builds on) only after its first few calls. The per-frame path's first-time branches (a
 * hop's first flow, a direction's first segment and first ACK) run in exactly those calls at the
 * first capture, so the optimised code treats them as never taken, and the next capture's first
 * flow throws it away. From the first session on, functions compiled later (the analysis is
 * compiled at its first frame) get feedback from their first call: V8's own tests run everything
 * so (their no_lfa variant). Ten lab hops: median 467 -> 450 ms and 462 -> 447 ms in two runs of 24
 * alternated pairs; a single capture unchanged. Once per process; where V8 refuses, nothing changes.
 */
let feedbackFromFirstCall = false;
function giveFeedbackFromFirstCall(): void {
  if (feedbackFromFirstCall) return;
  feedbackFromFirstCall = true;
  try {
    setFlagsFromString('--no-lazy-feedback-allocation');
  } catch {}
}

/**
 * V8 records in each field of an object the class of the object first stored there (the field's
 * type), and compiles the per-frame path relying on it. The second source's hop states store
 * objects of their own in those fields (their clock, checksum counters, flow table), which
 * generalises the types, and V8 throws away every compiled function that relied on them
 * (--trace-deopt-verbose: "code dependencies", at the second file's first frame; ten lab hops: that
 * file ran 15-20 ms slower than read warm). Two sources with a hop each, made and dropped before
 * the first frame, generalise those types while nothing depends on them yet. Once per process.
 */
let fieldTypesSettled = false;
function settleFieldTypes(): void {
  if (fieldTypesSettled) return;
  fieldTypesSettled = true;
  const options: SessionOptions = { overrides: emptyOverrides(), logger: createLogger('silent') };
  const taken = new Set<string>();
  const iface: CaptureInterface = {
    interfaceId: 0,
    linkType: LinkType.ETHERNET,
    snaplen: 262144,
    name: null,
    description: null,
  };
  for (let position = 0; position < 2; position++) {
    const { feed } = openSource('settle', options, taken, position);
    feed.onInterface(iface);
    feed.end({ format: 'pcap', compressed: false, frames: 0, interfaces: [iface] });
  }
}

export function createSession(options: SessionOptions): Session {
  giveFeedbackFromFirstCall();
  settleFieldTypes();
  const taken = new Set<string>();
  const sources: Source[] = [];
  const add = (source: Source) => {
    sources.push(source);
    // Stable: equal positions keep the order they came in.
    sources.sort((a, b) => a.position - b.position);
  };

  const session: Session = {
    addSource(path, position = sources.length) {
      const source = openSource(path, options, taken, position);
      add(source);
      return source.feed;
    },
    adoptSource(data, position = sources.length, names) {
      add(adopted(data, taken, position, names ?? null));
    },
    exportSources() {
      return sources.map((source) => ({
        capture: source.feed.capture,
        hops: source.hops.map(({ reassembly: _r, ...hop }) => hop),
        problems: source.problems,
        interfaceHops: source.interfaceHops(),
      }));
    },
    hopNames() {
      return sources.map((source) => source.names ?? []);
    },
    settleNames() {
      taken.clear();
      let same = true;
      for (const source of sources) {
        const path = source.feed.capture.path;
        source.hops.forEach((hop, index) => {
          const request = source.names?.[index];
          if (request === undefined) {
            uniqueName(hop, taken);
            return;
          }
          const name = claimHopName(request, taken);
          // The hop holds the identity of the name it was observed under (in its thread).
          if (
            !sameIdentity(hop, resolveIdentity(name, path, request.iface, options.overrides, request.entry))
          )
            same = false;
          renameHop(hop, name);
        });
        source.feed.capture.hops = source.hops.map((hop) => hop.name);
      }
      return same;
    },
    async readFile(path, readOptions = {}, position) {
      const feed = session.addSource(path, position);
      try {
        feed.end(await readCapture(path, feed, readOptions));
      } catch (error) {
        if (!(error instanceof CaptureOpenError)) throw error;
        feed.fail(error);
      }
      return feed.capture;
    },
    result() {
      const hops = sources.flatMap((s) => s.hops).map(viewHop);
      const captureFindings: FindingRecord[] = [];
      for (const source of sources) {
        const capture = source.feed.capture;
        const hopName =
          capture.hops.length === 1 ? (capture.hops[0] as string) : hopNameForFile(capture.path);
        // Drop counters are per interface: said at the interface's hop when it carried frames.
        const hopOfInterface = new Map(source.interfaceHops());
        const droppedAt = new Map<FindingRecord, string>();
        const dropped = source.problems.byCode[CODE_INDEX['capture.dropped']] as Map<number, FindingRecord>;
        for (const [interfaceId, record] of dropped) {
          const hop = source.hops[hopOfInterface.get(interfaceId) ?? -1];
          if (hop !== undefined) droppedAt.set(record, hop.name);
        }
        for (const stored of storeRecords(source.problems)) {
          captureFindings.push({
            ...stored,
            hop: droppedAt.get(stored) ?? hopName,
            facts: { ...stored.facts },
            evidence: [...stored.evidence],
          });
        }
      }
      let correlation: Correlation = { paths: [], clockOffsets: {}, findings: [] };
      if (hops.length > 1) {
        const expected = options.overrides.topology.map((entry) =>
          entry.file !== undefined ? hopNameForFile(entry.file) : `${entry.host}-${entry.interface}`,
        );
        const topologyOrder = expected.filter((name) => hops.some((hop) => hop.name === name));
        correlation = correlate(hops, {
          ...(options.path !== undefined ? { path: options.path } : {}),
          ...(topologyOrder.length > 0 ? { topologyOrder, expected } : {}),
        });
      }
      return { captures: sources.map((s) => ({ ...s.feed.capture })), hops, captureFindings, correlation };
    },
    snapshot(version) {
      return buildReport(session.result(), version);
    },
  };
  return session;
}

function openSource(path: string, options: SessionOptions, taken: Set<string>, position: number): Source {
  const log = options.logger.child({ capture: path });
  const capture = emptyCaptureResult(path);
  const packet: Packet = createPacket();
  const hops: HopState[] = [];
  const names: HopNameRequest[] = [];
  const problems = createFindingStore(path);
  const byInterface: Array<HopState | undefined> = [];
  const interfaces: CaptureInterface[] = [];
  const byIfIndex = new Map<number, HopState>();
  const splitInterfaces = new Set<number>();

  const addHop = (request: HopNameRequest): HopState => {
    const name = claimHopName(request, taken);
    const identity = resolveIdentity(name, path, request.iface, options.overrides, request.entry);
    const hop = createHopState(identity);
    hops.push(hop);
    names.push(request);
    capture.hops.push(hop.name);
    return hop;
  };

  /** The interface a frame names, or one like it when the capture never declared it. */
  const declared = (interfaceId: number, linkType: number): CaptureInterface =>
    interfaces[interfaceId] ?? { interfaceId, linkType, snaplen: 262144, name: null, description: null };

  // The hop of every interface past MAX_HOPS_PER_CAPTURE, said once (with the frame that made it).
  let overflow: HopState | null = null;
  const overflowHop = (what: string, frame: Frame): HopState => {
    if (overflow !== null) return overflow;
    const iface = declared(frame.interfaceId, frame.linkType);
    const hop = addHop({ base: `${hopNameForFile(path)}@more`, alt: null, iface });
    overflow = hop;
    feed.onProblem({
      code: 'capture.malformed',
      frame: frame.number,
      offset: frame.fileOffset,
      message: `frame ${frame.number} at offset ${frame.fileOffset}: ${what} is past the ${MAX_HOPS_PER_CAPTURE} hops one capture makes; its frames, and those of every further interface, are counted in hop ${hop.name}`,
    });
    return hop;
  };

  const hopFor = (interfaceId: number, frame?: Frame): HopState | undefined => {
    let hop = byInterface[interfaceId];
    if (hop === undefined) {
      // An interface that carries no frames past the limit is left unnamed: nothing to count.
      if (hops.length >= MAX_HOPS_PER_CAPTURE) {
        if (frame === undefined) return undefined;
        hop = overflowHop(`interface ${interfaceId}`, frame);
        byInterface[interfaceId] = hop;
        return hop;
      }
      const iface = declared(interfaceId, LinkType.ETHERNET);
      hop = addHop(hopRequest(path, iface, Math.max(1, interfaces.length)));
      byInterface[interfaceId] = hop;
      log.debug({ hop: hop.name, interfaceId, linkType: iface.linkType }, 'hop');
    }
    return hop;
  };

  // tcpdump -i any (Linux cooked v2): each interface index of the capturing host is a hop.
  const ifIndexHopFor = (interfaceId: number, ifIndex: number, frame: Frame): HopState => {
    const key = ifIndexKey(interfaceId, ifIndex);
    let hop = byIfIndex.get(key);
    if (hop === undefined && hops.length >= MAX_HOPS_PER_CAPTURE) {
      hop = overflowHop(`interface index ${ifIndex} (Linux cooked v2)`, frame);
      byIfIndex.set(key, hop);
      splitInterfaces.add(interfaceId);
    }
    if (hop === undefined) {
      const iface = declared(interfaceId, LinkType.LINUX_SLL2);
      const fileHop = iface.name !== null && iface.name !== '' ? iface.name : hopNameForFile(path);
      hop = addHop(ifIndexHopRequest(path, fileHop, ifIndex, options.overrides, iface));
      byIfIndex.set(key, hop);
      splitInterfaces.add(interfaceId);
    }
    return hop;
  };

  const route: FrameRoute = {
    capture,
    packet,
    byInterface,
    byIfIndex,
    newHop: (frame) =>
      isCookedWithIndex(frame, packet)
        ? ifIndexHopFor(frame.interfaceId, packet.ifIndex, frame)
        : (hopFor(frame.interfaceId, frame) as HopState),
    lastHop: null,
  };

  const feed: SourceFeed & { readonly route: FrameRoute } = {
    capture,
    onInterface(iface: CaptureInterface): void {
      interfaces[iface.interfaceId] = iface;
      if (!capture.linkTypes.includes(iface.linkType)) capture.linkTypes.push(iface.linkType);
      if (capture.snaplen === null || iface.snaplen > capture.snaplen) capture.snaplen = iface.snaplen;
    },
    route,
    onFrame: routeFrame,
    onProblem(problem: CaptureProblem): void {
      // The reader's message already names the frame and offset.
      const line = `${path}: ${problem.message}`;
      capture.errors.push(line);
      // Info, not warn: the problem is in the report and the summary already; the log is for tracing.
      log.info({ frame: problem.frame, offset: problem.offset, code: problem.code }, problem.message);
      problems.clock.now = route.lastHop?.lastTime ?? -1;
      const record = noteFinding(problems, problem.code, 0, problem.frame);
      if (record.count === 1) {
        record.facts.problem = line;
        record.facts.firstFrame = problem.frame;
      }
    },
    onStatistics(stats: CaptureStatistics): void {
      // Counters are cumulative: the record says the latest, one per interface of the source.
      const dropRecords = problems.byCode[CODE_INDEX['capture.dropped']] as Map<number, FindingRecord>;
      const os = stats.dropped ?? 0;
      const atInterface = stats.ifDropped ?? 0;
      if (os + atInterface === 0) {
        dropRecords.delete(stats.interfaceId);
        return;
      }
      const time = route.lastHop?.lastTime ?? -1;
      let record = dropRecords.get(stats.interfaceId);
      if (record === undefined) {
        // As many as a capture makes hops: a file of statistics blocks for 100,000 interfaces made
        // as many findings (and log lines).
        if (dropRecords.size >= MAX_HOPS_PER_CAPTURE) return;
        record = newRecord('capture.dropped', path, time);
        dropRecords.set(stats.interfaceId, record);
        // Said once per interface; the finding, the summary and /metrics follow the counts after.
        log.warn(
          { interfaceId: stats.interfaceId, dropped: os, ifDropped: atInterface },
          'capture dropped frames',
        );
      }
      record.count = os + atInterface;
      record.lastTime = time;
      record.facts = {
        dropped: os + atInterface,
        osDropped: os,
        ifDropped: atInterface,
        counter: os > 0 && atInterface > 0 ? 'both' : os > 0 ? 'kernel' : 'interface',
        received: stats.received,
      };
    },
    end(summary) {
      if (summary !== undefined) {
        capture.format = summary.format;
        capture.compressed = summary.compressed;
        capture.frames = summary.frames;
        // A capture with interfaces but no frames still names its hops.
        for (const iface of summary.interfaces)
          if (!splitInterfaces.has(iface.interfaceId)) hopFor(iface.interfaceId);
      }
      for (const hop of hops) if (hop.reassembly !== null) endFragments(hop.reassembly);
    },
    fail(error) {
      capture.readable = false;
      capture.errors.push(error.message);
      log.info({ code: error.code }, error.message);
      for (const hop of hops) if (hop.reassembly !== null) endFragments(hop.reassembly);
    },
  };
  const interfaceHops = (): Array<[number, number]> => {
    const index = new Map(hops.map((hop, i) => [hop, i]));
    const out: Array<[number, number]> = [];
    byInterface.forEach((hop, interfaceId) => {
      if (hop !== undefined) out.push([interfaceId, index.get(hop) ?? -1]);
    });
    return out;
  };
  return { position, feed, hops, names, problems, interfaceHops };
}

/**
 * What the per-frame path of a source reads and writes. The path itself (routeFrame) is one
 * function for every source, the feed's `onFrame`. It was a closure per source: the reader's call
 * site then met a new function at the second file's first frame, and V8 threw away the per-frame
 * code it had compiled and inlined there (--trace-deopt: "wrong call target").
 */
interface FrameRoute {
  readonly capture: CaptureResult;
  readonly packet: Packet;
  /** The hop of each interface that carried frames (pcapng interface id; 0 in a pcap). */
  readonly byInterface: Array<HopState | undefined>;
  /** Linux cooked v2 (tcpdump -i any): the hop of each interface index, by ifIndexKey. */
  readonly byIfIndex: Map<number, HopState>;
  /**
   * Makes the hop of a frame the two tables do not have yet: once per interface, so a closure of
   * the source is called here and nowhere on the path of every frame.
   */
  readonly newHop: (frame: Frame) => HopState;
  /** The hop of the last frame, for the time of a problem found after it. */
  lastHop: HopState | null;
}

function ifIndexKey(interfaceId: number, ifIndex: number): number {
  return interfaceId * 0x100000000 + ifIndex;
}

/** A Linux cooked v2 frame that names the interface it was captured on: that interface is its hop. */
function isCookedWithIndex(frame: Frame, packet: Packet): boolean {
  return packet.ifIndex >= 0 && frame.linkType === LinkType.LINUX_SLL2;
}

/** A source's `onFrame`: decodes the frame in place and observes it at its hop. */
function routeFrame(this: { readonly route: FrameRoute }, frame: Frame): void {
  const route = this.route;
  const packet = route.packet;
  route.capture.frames++;
  // Decoded in place in the reader's buffer: no copy and no view per frame. decodeFrameAt's two
  // steps, written out: V8 did not always inline that call into this path (2 ms of ten hops).
  const data = frame.buffer;
  const start = frame.dataOffset;
  if (!decodeCommonFrame(frame.linkType, data, start, frame.capturedLength, frame.originalLength, packet))
    decodeFrameByLayersAt(frame.linkType, data, start, frame.capturedLength, frame.originalLength, packet);
  const hop =
    (isCookedWithIndex(frame, packet)
      ? route.byIfIndex.get(ifIndexKey(frame.interfaceId, packet.ifIndex))
      : route.byInterface[frame.interfaceId]) ?? newHopOf(route, frame);
  observeFrame(hop, frame, packet, data);
  route.lastHop = hop;
}

/** Apart from routeFrame, so that the compiled path of every frame holds no call to a source's closure. */
function newHopOf(route: FrameRoute, frame: Frame): HopState {
  return route.newHop(frame);
}
