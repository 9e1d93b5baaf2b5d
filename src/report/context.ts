/**
 * The environment a report was made in, beside the analysis itself: the capture files (size,
 * SHA-256, time range, snap length, link types), the clock offsets applied to the times shown,
 * the offload features a topology file recorded per hop, the hopscope version and command line,
 * and the evidence frames re-read from the files. `renderHtml` / `renderMarkdown` take it with
 * the report model. A live capture has no files to hash or re-read: `buildContext(report,
 * { version, commandLine, evidence: false })` gives its interfaces without size or SHA-256, and
 * the findings list their evidence frames by number only.
 */

import { createHash } from 'node:crypto';
import { createReadStream, readFileSync, statSync } from 'node:fs';
import { hopNameForFile } from '../pipeline/hops.js';
import { type EvidenceFrames, readEvidence } from './evidence.js';
import type { Report } from './model.js';

export interface ContextCapture {
  /** As named on the command line (or the interface a live capture reads). */
  path: string;
  hops: string[];
  /** File size in bytes; null for stdin, FIFOs and live interfaces. */
  bytes: number | null;
  sha256: string | null;
  /** First and last frame time (ISO 8601, the capture's own clock). */
  firstSeen: string | null;
  lastSeen: string | null;
  snaplen: number | null;
  linkTypes: string[];
  format: string | null;
}

export interface ReportContext {
  captures: ContextCapture[];
  /** The hop whose clock the others are put on (offset 0), or null when no offset is known. */
  clockReference: string | null;
  /** Whether the times of the timeline are corrected by report.clockOffsets. */
  clockOffsetsApplied: boolean;
  /** Offload features per hop ("tso": "on"), when a topology file recorded them. */
  offloads: Record<string, Record<string, string>>;
  version: string;
  commandLine: string[];
  /** When the report was made (ISO 8601); null leaves it out (golden files). */
  generatedAt: string | null;
  /** Evidence frames read back from the captures; empty when not re-read. */
  evidence: EvidenceFrames;
}

/** The offload features worth a line in a picture, by their ethtool names and the short names shown. */
export const OFFLOAD_FEATURES: ReadonlyArray<[string, string]> = [
  ['tx-checksumming', 'tx-csum'],
  ['tcp-segmentation-offload', 'TSO'],
  ['generic-segmentation-offload', 'GSO'],
  ['generic-receive-offload', 'GRO'],
  ['large-receive-offload', 'LRO'],
  ['tx-udp_tnl-segmentation', 'tnl-TSO'],
];

/** SHA-256 of a file, read as a stream (constant memory); null when it cannot be read. */
export async function fileSha256(path: string): Promise<string | null> {
  try {
    const hash = createHash('sha256');
    for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
    return hash.digest('hex');
  } catch {
    return null;
  }
}

function regularFileSize(path: string): number | null {
  if (path === '-') return null;
  try {
    const stats = statSync(path);
    return stats.isFile() ? stats.size : null;
  } catch {
    return null;
  }
}

/**
 * The offload features a topology file in the lab's form lists per hop (`path[].offloads`, as
 * `ethtool -k` prints them), keyed by hop name; only the features of OFFLOAD_FEATURES. A topology
 * without them (or unreadable: it was checked when the analysis loaded it) gives none.
 */
export function topologyOffloads(path: string | undefined): Record<string, Record<string, string>> {
  const out: Record<string, Record<string, string>> = {};
  if (path === undefined) return out;
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(path, 'utf8'));
  } catch {
    return out;
  }
  const list = (parsed as { path?: unknown }).path;
  if (!Array.isArray(list)) return out;
  for (const entry of list as Array<Record<string, unknown>>) {
    const offloads = entry?.offloads;
    if (offloads === null || typeof offloads !== 'object') continue;
    const name =
      typeof entry.file === 'string'
        ? hopNameForFile(entry.file)
        : typeof entry.host === 'string' && typeof entry.interface === 'string'
          ? `${entry.host}-${entry.interface}`
          : null;
    if (name === null) continue;
    const features: Record<string, string> = {};
    for (const [feature] of OFFLOAD_FEATURES) {
      const value = (offloads as Record<string, unknown>)[feature];
      if (typeof value === 'string') features[feature] = value;
    }
    out[name] = features;
  }
  return out;
}

export interface ContextOptions {
  version: string;
  commandLine: string[];
  topology?: string;
  /** Default: now. null leaves the time out. */
  generatedAt?: string | null;
  /** Re-read the evidence frames from the files (default true). */
  evidence?: boolean;
}

/**
 * Now, or the time SOURCE_DATE_EPOCH (seconds) names: the reproducible-builds convention, so a
 * report made twice from the same captures is the same file (and golden tests can compare it).
 */
function reportTime(): string {
  const fixed = process.env.SOURCE_DATE_EPOCH;
  if (fixed !== undefined && /^\d+$/.test(fixed)) return new Date(Number(fixed) * 1000).toISOString();
  return new Date().toISOString();
}

/** The reference clock: the hop whose offset is 0 (the correlator measures the others against it). */
function clockReference(report: Report): string | null {
  const entries = Object.entries(report.clockOffsets);
  if (!entries.some(([, s]) => s !== null && s !== 0)) return null;
  return entries.find(([, s]) => s === 0)?.[0] ?? null;
}

/** The context of a report made from capture files: hashes and sizes read here, evidence re-read. */
export async function buildContext(report: Report, options: ContextOptions): Promise<ReportContext> {
  const captures: ContextCapture[] = [];
  for (const capture of report.captures) {
    const hops = report.hops.filter((hop) => capture.hops.includes(hop.name));
    const first = hops.map((h) => h.firstSeen).filter((t): t is string => t !== null);
    const last = hops.map((h) => h.lastSeen).filter((t): t is string => t !== null);
    const bytes = regularFileSize(capture.path);
    captures.push({
      path: capture.path,
      hops: capture.hops,
      bytes,
      sha256: bytes !== null ? await fileSha256(capture.path) : null,
      firstSeen: first.length > 0 ? (first.sort()[0] ?? null) : null,
      lastSeen: last.length > 0 ? (last.sort()[last.length - 1] ?? null) : null,
      snaplen: capture.snaplen,
      linkTypes: capture.linkTypes,
      format: capture.format,
    });
  }
  const reference = clockReference(report);
  return {
    captures,
    clockReference: reference,
    clockOffsetsApplied: reference !== null,
    offloads: topologyOffloads(options.topology),
    version: options.version,
    commandLine: options.commandLine,
    generatedAt: options.generatedAt === undefined ? reportTime() : options.generatedAt,
    evidence: options.evidence === false ? {} : await readEvidence(report),
  };
}
