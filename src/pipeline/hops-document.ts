/**
 * The per-hop state of a session as a versioned JSON document (an agent's `GET /hops`): what
 * another session needs to correlate these hops with its own, the way a worker thread hands its
 * sources over (session.ts SourceData), but across hosts. A live session is exported as it stands,
 * without stopping: the encoding is made in one synchronous pass, so it is one consistent instant.
 *
 *   {
 *     "format": "hopscope.hops", "version": 1,
 *     "tool": { "name": "hopscope", "version": "0.1.0" },
 *     "agent": "host1",                       who exported it (hop names are prefixed with it)
 *     "exportedAt": "2026-11-27T10:00:00.000Z",
 *     "hops": [{ "name": "tap0", "source": "tap0", "frames": 1234, "bytes": 567890 }, ...],
 *     "sources": [...]                        the SourceData[] in graph-json nodes (graph-json.ts)
 *   }
 *
 * `hops` is a summary for people and scripts; `sources` is what is adopted. The state inside
 * `sources` is hopscope's own (observe/hop.ts HopState) and follows the tool's version: a reader
 * warns when the exporting tool's version differs from its own. Fragments still being reassembled
 * at export time are not part of it (a live source has not ended; its reassembler stays behind).
 */

import { createFindingStore } from '../findings/store.js';
import { createLogger } from '../log.js';
import { ACK_STRIDE, SEGMENT_STRIDE } from '../observe/trace.js';
import { decodeGraph, encodeGraph, type GraphJson } from './graph-json.js';
import { buildOverrides } from './hops.js';
import {
  type CaptureResult,
  createSession,
  emptyCaptureResult,
  type Session,
  type SourceData,
} from './session.js';

export const HOPS_FORMAT = 'hopscope.hops';
export const HOPS_VERSION = 1;

export interface HopsDocument {
  format: typeof HOPS_FORMAT;
  version: typeof HOPS_VERSION;
  tool: { name: 'hopscope'; version: string };
  agent: string;
  exportedAt: string;
  hops: Array<{ name: string; source: string; frames: number; bytes: number }>;
  sources: GraphJson;
}

export function exportHops(
  session: Session,
  agent: string,
  toolVersion: string,
  now = Date.now(),
): HopsDocument {
  const sources = session.exportSources();
  return {
    format: HOPS_FORMAT,
    version: HOPS_VERSION,
    tool: { name: 'hopscope', version: toolVersion },
    agent,
    exportedAt: new Date(now).toISOString(),
    hops: sources.flatMap((source) =>
      source.hops.map((hop) => ({
        name: hop.name,
        source: source.capture.path,
        frames: hop.frames,
        bytes: hop.bytes,
      })),
    ),
    // encodeGraph copies: the live state goes on changing after this returns.
    sources: encodeGraph(sources),
  };
}

export class HopsDocumentError extends Error {}

/** The sources of a document, checked as far as the envelope and each hop's identity go. */
export function readHopsDocument(text: string): { document: HopsDocument; sources: SourceData[] } {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new HopsDocumentError(`not JSON (${(error as Error).message})`);
  }
  const doc = parsed as Partial<HopsDocument> | null;
  if (doc === null || typeof doc !== 'object' || doc.format !== HOPS_FORMAT)
    throw new HopsDocumentError(`not a ${HOPS_FORMAT} document`);
  if (doc.version !== HOPS_VERSION)
    throw new HopsDocumentError(
      `${HOPS_FORMAT} version ${String(doc.version)}; this hopscope reads version ${HOPS_VERSION}`,
    );
  if (typeof doc.agent !== 'string') throw new HopsDocumentError('the document names no agent');
  let sources: unknown;
  try {
    sources = decodeGraph(doc.sources);
  } catch (error) {
    throw new HopsDocumentError(`its sources cannot be decoded: ${(error as Error).message}`);
  }
  if (!Array.isArray(sources)) throw new HopsDocumentError('its sources are not a list');
  for (const [i, source] of sources.entries()) {
    const s = source as Partial<SourceData> | null;
    const hopsOk =
      Array.isArray(s?.hops) &&
      s.hops.every(
        (hop) =>
          typeof hop?.name === 'string' &&
          typeof hop.frames === 'number' &&
          hop.flows?.byHash instanceof Map &&
          Array.isArray(hop.findings?.byCode),
      );
    if (s === null || typeof s?.capture?.path !== 'string' || !hopsOk || !Array.isArray(s.problems?.byCode))
      throw new HopsDocumentError(`source ${i} does not have the form of a hop's state`);
    for (const hop of s.hops as SourceData['hops']) checkTraces(hop, i);
  }
  // The state is hopscope's own and is read without further checks (observe, correlate, report):
  // a damaged one is analysed alone first, on a copy of its own, so it is refused here, named,
  // rather than failing the analysis of everything else.
  try {
    const trial = createSession({
      overrides: buildOverrides([], [], undefined),
      logger: createLogger('silent'),
    });
    for (const source of decodeGraph(doc.sources) as SourceData[]) trial.adoptSource(source);
    trial.snapshot('trial');
  } catch (error) {
    throw new HopsDocumentError(`its hop state cannot be analysed (${(error as Error).message})`);
  }
  return { document: doc as HopsDocument, sources: sources as SourceData[] };
}

/** null, or a list of finite-or-NaN numbers whose length is a multiple of `stride`. */
function numbersOk(value: unknown, stride: number): boolean {
  if (value === null) return true;
  if (!Array.isArray(value) || value.length % stride !== 0) return false;
  for (const n of value)
    if (typeof n !== 'number' || n === Number.POSITIVE_INFINITY || n === Number.NEGATIVE_INFINITY)
      return false;
  return true;
}

/**
 * A hop's flow traces: what correlation indexes by stride (a sample array cut short would have it
 * read past its end, or pair one flow's numbers with another's), and what it walks without checks.
 */
function checkTraces(hop: SourceData['hops'][number], i: number): void {
  const bad = (what: string) =>
    new HopsDocumentError(`source ${i}, hop ${JSON.stringify(hop.name)}: ${what}`);
  for (const bucket of hop.flows.byHash.values()) {
    if (!Array.isArray(bucket)) throw bad('a flow bucket is not a list');
    for (const flow of bucket) {
      if (flow === null || typeof flow !== 'object') throw bad('a flow is not an object');
      const trace = (flow as { trace?: unknown }).trace;
      if (trace === null) continue;
      const t = trace as Partial<Record<'fromA' | 'fromB', Record<string, unknown>>> | undefined;
      for (const side of ['fromA', 'fromB'] as const) {
        const d = t?.[side];
        if (d === null || typeof d !== 'object') throw bad(`a flow's trace has no ${side}`);
        if (!numbersOk(d.samples, SEGMENT_STRIDE))
          throw bad(`a flow's ${side}.samples is not a list of ${SEGMENT_STRIDE}-number samples`);
        if (!numbersOk(d.acks, ACK_STRIDE))
          throw bad(`a flow's ${side}.acks is not a list of ${ACK_STRIDE}-number samples`);
        for (const key of ['intervals', 'repeated'])
          if (!numbersOk(d[key], 2)) throw bad(`a flow's ${side}.${key} is not a list of [start, end) pairs`);
      }
    }
  }
}

/** Renames a source's hops `AGENT-HOP` (unless already so), the capture named by where it came from. */
export function placeSource(data: SourceData, agent: string, origin: string): SourceData {
  const prefix = `${agent}-`;
  const rename = (name: string) => (agent === '' || name.startsWith(prefix) ? name : `${prefix}${name}`);
  for (const hop of data.hops) {
    const name = rename(hop.name);
    hop.name = name;
    hop.findings.hop = name;
    for (const byFlow of hop.findings.byCode) for (const record of byFlow.values()) record.hop = name;
  }
  const capture: CaptureResult = {
    ...data.capture,
    path: `${origin}#${data.capture.path}`,
    hops: data.hops.map((hop) => hop.name),
  };
  return { ...data, capture };
}

/** A source that stands for an agent that could not be asked: reported like an unreadable capture. */
export function unreachableSource(origin: string, problem: string): SourceData {
  const capture = { ...emptyCaptureResult(origin), errors: [`${origin}: ${problem}`], readable: false };
  return { capture, hops: [], problems: createFindingStore(origin) };
}
