/**
 * Which hop a frame belongs to, and what that hop is.
 *
 * A pcapng interface with an if_name is a hop named after it; any other capture is one hop named
 * after its file (`host1-phy0.pcap` -> `host1-phy0`). The kind (tap, bridge, vxlan, physical ...)
 * and MTU come, in this order, from --hop/--mtu, from a topology file in the lab's form, from the
 * interface name, and finally from the traffic (a hop that carries tunnel packets is physical).
 * Nothing here trusts the names of the project's own samples: unknown stays unknown.
 */

import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { basename } from 'node:path';
import type { CaptureInterface } from '../capture/frame.js';
import { oneLine, TopologyError, UsageError } from '../errors.js';
import type { HopIdentity, HopKind } from '../observe/hop.js';

export const HOP_KINDS: readonly HopKind[] = [
  'guest',
  'tap',
  'bridge',
  'vxlan',
  'geneve',
  'physical',
  'any',
  'unknown',
];

export interface TopologyHop {
  file?: string;
  host?: string;
  interface?: string;
  /** Interface index on its host: what a `tcpdump -i any` (Linux cooked v2) frame carries. */
  ifindex?: number;
  kind?: string;
  mtu?: number;
}

/** A `tcpdump -i any` capture of one host, listed in a topology file. */
export interface TopologyAnyCapture {
  file: string;
  host: string;
}

/** What the live system says about a hop (`hopscope live`): link info, sysfs, ethtool -k. */
export interface SystemHop {
  kind: HopKind | null;
  mtu: number | null;
  offloads: Readonly<Record<string, string>> | null;
}

export interface HopOverrides {
  kinds: Map<string, HopKind>;
  mtus: Map<string, number>;
  /** Hops of a live capture, by hop name: below --hop/--mtu, above a topology file and names. */
  system?: Map<string, SystemHop>;
  topology: TopologyHop[];
  anyCaptures: TopologyAnyCapture[];
}

export function emptyOverrides(): HopOverrides {
  return { kinds: new Map(), mtus: new Map(), topology: [], anyCaptures: [] };
}

/**
 * A hop inside a `tcpdump -i any` capture (Linux cooked v2 carries the interface index of the
 * capturing host, not its name). Named by the topology when it says which interface that index
 * was on that host (`host1-any@tap0`), else by the index (`host1-any@if7`): never by looking the
 * index up on this machine, where it means something else.
 */
export function ifIndexHopRequest(
  path: string,
  fileHop: string,
  ifIndex: number,
  overrides: HopOverrides,
  iface: CaptureInterface,
): HopNameRequest {
  const file = basename(path);
  const host = overrides.anyCaptures.find(
    (c) => basename(c.file) === file || hopNameForFile(c.file) === fileHop,
  )?.host;
  const entry =
    host !== undefined ? overrides.topology.find((e) => e.host === host && e.ifindex === ifIndex) : undefined;
  const base = entry?.interface !== undefined ? `${fileHop}@${entry.interface}` : `${fileHop}@if${ifIndex}`;
  return { base, alt: null, iface, ...(entry !== undefined ? { entry } : {}) };
}

/**
 * The most hops one capture makes, one per interface (or interface index of a Linux cooked v2
 * capture). Each costs some 20 KB, and a hostile capture names a new interface in every frame (a
 * pcapng interface block, or an interface index, per frame): 100,000 of them in 17 MB took 2.4 GB,
 * and a few times more ran the heap out. The frames of every further interface are counted in one
 * more hop, `<file>@more` (session.ts, and annotate.ts that names them again).
 */
export const MAX_HOPS_PER_CAPTURE = 4096;

/** `host1-phy0.pcap.gz` -> `host1-phy0`; stdin -> `stdin`. */
export function hopNameForFile(path: string): string {
  if (path === '-') return 'stdin';
  let name = basename(path);
  name = name.replace(/\.gz$/i, '');
  name = name.replace(/\.(pcapng|pcap|cap|ntar|dmp)$/i, '');
  return name === '' ? basename(path) : name;
}

/** How to name the hop of one interface of one capture file (see claimHopName). */
export function hopRequest(path: string, iface: CaptureInterface, interfacesInFile: number): HopNameRequest {
  const fileName = hopNameForFile(path);
  let base = iface.name !== null && iface.name !== '' ? iface.name : fileName;
  if ((iface.name === null || iface.name === '') && interfacesInFile > 1)
    base = `${fileName}#${iface.interfaceId}`;
  return { base, alt: iface.name !== null ? `${fileName}:${iface.name}` : null, iface };
}

/**
 * How a hop is to be named: `base`, or `alt` when an earlier hop holds `base` (a pcapng interface
 * named like another capture's hop is `file:ifname`), then numbered `(2)`, `(3)`... until free.
 * It keeps the interface (and topology entry) the hop is named for, so that the names can be given
 * again in the files' order when threads read the files in another (session.ts settleNames).
 */
export interface HopNameRequest {
  base: string;
  alt: string | null;
  iface: CaptureInterface;
  entry?: TopologyHop;
}

/** The name `request` gets beside the names `taken`, which then holds it too. */
export function claimHopName(request: Pick<HopNameRequest, 'base' | 'alt'>, taken: Set<string>): string {
  const name = taken.has(request.base) && request.alt !== null ? request.alt : request.base;
  let unique = name;
  for (let n = 2; taken.has(unique); n++) unique = `${name}(${n})`;
  taken.add(unique);
  return unique;
}

/** Whether two identities resolve to the same kind, MTU and offloads (the name aside). */
export function sameIdentity(a: HopIdentity, b: HopIdentity): boolean {
  return (
    a.kind === b.kind &&
    a.kindSource === b.kindSource &&
    a.mtu === b.mtu &&
    a.mtuSource === b.mtuSource &&
    a.snaplen === b.snaplen &&
    JSON.stringify(a.offloads ?? null) === JSON.stringify(b.offloads ?? null)
  );
}

const NAME_PATTERNS: ReadonlyArray<[RegExp, HopKind]> = [
  [/(^|[-_.:])(tap|vnet|tun|macvtap)\d*/i, 'tap'],
  [/(^|[-_.:])(vxlan|vx|flannel)/i, 'vxlan'],
  [/(^|[-_.:])(genev|gnv|genv)/i, 'geneve'],
  [/(^|[-_.:])(brq|br|virbr|bridge|ovs|docker|cni)/i, 'bridge'],
  [/^any$/i, 'any'],
];

export function kindFromName(name: string): HopKind | null {
  for (const [pattern, kind] of NAME_PATTERNS) if (pattern.test(name)) return kind;
  return null;
}

function topologyEntryFor(overrides: HopOverrides, path: string, hopName: string): TopologyHop | undefined {
  const file = basename(path);
  return overrides.topology.find(
    (entry) =>
      (entry.file !== undefined && (entry.file === file || hopNameForFile(entry.file) === hopName)) ||
      (entry.host !== undefined &&
        entry.interface !== undefined &&
        `${entry.host}-${entry.interface}` === hopName),
  );
}

export function resolveIdentity(
  hopName: string,
  path: string,
  iface: CaptureInterface,
  overrides: HopOverrides,
  topologyEntry?: TopologyHop,
): HopIdentity {
  const identity: HopIdentity = {
    name: hopName,
    kind: 'unknown',
    kindSource: 'unknown',
    mtu: null,
    mtuSource: null,
    snaplen: iface.snaplen,
  };
  const fromTopology = topologyEntry ?? topologyEntryFor(overrides, path, hopName);
  const givenKind = overrides.kinds.get(hopName);
  const system = overrides.system?.get(hopName);
  if (system?.offloads) identity.offloads = system.offloads;
  const namedKind = kindFromName(topologyEntry?.interface ?? iface.name ?? hopName);
  if (givenKind !== undefined) {
    identity.kind = givenKind;
    identity.kindSource = 'given';
  } else if (system?.kind) {
    identity.kind = system.kind;
    identity.kindSource = 'system';
  } else if (fromTopology?.kind !== undefined && (HOP_KINDS as string[]).includes(fromTopology.kind)) {
    identity.kind = fromTopology.kind as HopKind;
    identity.kindSource = 'topology';
  } else if (namedKind !== null) {
    identity.kind = namedKind;
    identity.kindSource = 'name';
  }
  const givenMtu = overrides.mtus.get(hopName);
  if (givenMtu !== undefined) {
    identity.mtu = givenMtu;
    identity.mtuSource = 'given';
  } else if (system?.mtu) {
    identity.mtu = system.mtu;
    identity.mtuSource = 'system';
  } else if (typeof fromTopology?.mtu === 'number') {
    identity.mtu = fromTopology.mtu;
    identity.mtuSource = 'topology';
  }
  return identity;
}

/** The MTUs hopscope accepts, from --mtu or a topology: IPv4's minimum up to far past any jumbo frame. */
export const MTU_MIN = 68;
export const MTU_MAX = 1_000_000;

/** Why a value is not an MTU, or null when it is one. */
function mtuProblem(value: unknown): string | null {
  if (typeof value === 'number' && Number.isInteger(value) && value >= MTU_MIN && value <= MTU_MAX)
    return null;
  return `an MTU is a whole number of bytes from ${MTU_MIN} to ${MTU_MAX}, not ${describe(value)}`;
}

/** A JSON value as a message shows it: strings quoted and said to be strings, the rest as JSON. */
function describe(value: unknown): string {
  if (typeof value === 'string')
    return `the string ${JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}...` : value)}`;
  if (typeof value === 'number') return String(value);
  if (Array.isArray(value)) return 'an array';
  if (value !== null && typeof value === 'object') return 'an object';
  return String(value);
}

/** Parses repeated NAME=VALUE options. */
export function parseAssignments(values: readonly string[], option: string): Array<[string, string]> {
  return values.map((value) => {
    const at = value.lastIndexOf('=');
    if (at <= 0 || at === value.length - 1) {
      throw new UsageError(`${option} ${value}: expected NAME=VALUE`);
    }
    return [value.slice(0, at), value.slice(at + 1)];
  });
}

export function buildOverrides(
  hops: readonly string[],
  mtus: readonly string[],
  topologyPath?: string,
): HopOverrides {
  const overrides = emptyOverrides();
  for (const [name, kind] of parseAssignments(hops, '--hop')) {
    if (!(HOP_KINDS as string[]).includes(kind)) {
      throw new UsageError(`--hop ${name}=${kind}: kind must be one of ${HOP_KINDS.join(', ')}`);
    }
    overrides.kinds.set(name, kind as HopKind);
  }
  for (const [name, value] of parseAssignments(mtus, '--mtu')) {
    const mtu = Number(value);
    if (mtuProblem(mtu) !== null) {
      throw new UsageError(
        `--mtu ${name}=${value}: MTU must be a whole number of bytes from ${MTU_MIN} to ${MTU_MAX}`,
      );
    }
    overrides.mtus.set(name, mtu);
  }
  if (topologyPath !== undefined) {
    const topology = loadTopology(topologyPath);
    overrides.topology = topology.hops;
    overrides.anyCaptures = topology.anyCaptures;
  }
  return overrides;
}

/**
 * The most a topology file may hold. The lab writes a few kilobytes per hop (its ethtool offload
 * lists included), so a real one is far below this; anything larger is not one (a capture named by
 * mistake, /dev/zero), and is refused before it is read into memory.
 */
export const TOPOLOGY_MAX_BYTES = 4 * 1024 * 1024;

/** The file's text: a regular file of at most TOPOLOGY_MAX_BYTES, or that much of a device/FIFO. */
function readTopologyText(path: string): string {
  const tooBig = () =>
    new TopologyError(
      `${path}: larger than ${TOPOLOGY_MAX_BYTES / 1048576} MiB, the most a topology file may hold`,
    );
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (error) {
    throw new TopologyError(`${path}: ${fileProblem(error)}`, { cause: error });
  }
  try {
    const stats = fstatSync(fd);
    if (stats.isDirectory()) throw new TopologyError(`${path}: is a directory, not a topology file`);
    if (stats.isFile() && stats.size > TOPOLOGY_MAX_BYTES) throw tooBig();
    // Devices and FIFOs have no size: read until the end, or one byte past the cap.
    const buffer = Buffer.allocUnsafe(
      stats.isFile() ? Math.min(stats.size + 1, TOPOLOGY_MAX_BYTES + 1) : 64 * 1024,
    );
    const chunks: Buffer[] = [];
    let total = 0;
    for (;;) {
      const n = readSync(fd, buffer, 0, buffer.length, null);
      if (n === 0) break;
      total += n;
      if (total > TOPOLOGY_MAX_BYTES) throw tooBig();
      chunks.push(Buffer.from(buffer.subarray(0, n)));
    }
    return Buffer.concat(chunks, total).toString('utf8');
  } catch (error) {
    if (error instanceof TopologyError) throw error;
    throw new TopologyError(`${path}: ${fileProblem(error)}`, { cause: error });
  } finally {
    closeSync(fd);
  }
}

function fileProblem(error: unknown): string {
  const code = (error as NodeJS.ErrnoException).code;
  if (code === 'ENOENT') return 'no such file';
  if (code === 'EACCES' || code === 'EPERM') return 'permission denied';
  if (code === 'EISDIR') return 'is a directory, not a topology file';
  return oneLine((error as Error).message);
}

/**
 * Reads a topology file in the form the lab writes:
 * `{ path: [{ file, host, interface, ifindex, kind, mtu }], anyCaptures: [{ file, host }] }`.
 * Every field hopscope uses is checked (other fields, such as the lab's offload lists, are left
 * alone): a wrong one is a TopologyError naming the file and the field, never silently ignored.
 * A field that is null counts as absent.
 */
export function loadTopology(path: string): { hops: TopologyHop[]; anyCaptures: TopologyAnyCapture[] } {
  if (path === '') throw new UsageError('--topology needs a value: a topology.json file');
  const text = readTopologyText(path);
  // A capture or other binary file named by mistake: its bytes would only garble the message.
  if (text.includes('\u0000') || text.includes('\ufffd'))
    throw new TopologyError(`${path}: not a topology file: binary data, not JSON text`);
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new TopologyError(`${path}: not a topology file: ${oneLine((error as Error).message)}`, {
      cause: error,
    });
  }
  const fail = (field: string, problem: string) => new TopologyError(`${path}: ${field}: ${problem}`);
  const list = (parsed as { path?: unknown } | null)?.path;
  if (parsed === null || typeof parsed !== 'object' || !Array.isArray(list))
    throw new TopologyError(`${path}: expected an object with a "path" array`);
  const string = (e: Record<string, unknown>, key: string, at: string): string | undefined => {
    const value = e[key];
    if (value === undefined || value === null) return undefined;
    if (typeof value !== 'string') throw fail(`${at}.${key}`, `expected a string, not ${describe(value)}`);
    return value;
  };
  const object = (entry: unknown, at: string): Record<string, unknown> => {
    if (entry === null || typeof entry !== 'object' || Array.isArray(entry))
      throw fail(at, `expected an object, not ${describe(entry)}`);
    return entry as Record<string, unknown>;
  };
  const hops = list.map((entry, index) => {
    const at = `path[${index}]`;
    const e = object(entry, at);
    const hop: TopologyHop = {};
    const file = string(e, 'file', at);
    if (file !== undefined) hop.file = file;
    const host = string(e, 'host', at);
    if (host !== undefined) hop.host = host;
    const iface = string(e, 'interface', at);
    if (iface !== undefined) hop.interface = iface;
    const kind = string(e, 'kind', at);
    if (kind !== undefined) {
      if (!(HOP_KINDS as string[]).includes(kind))
        throw fail(`${at}.kind`, `a kind is one of ${HOP_KINDS.join(', ')}, not ${JSON.stringify(kind)}`);
      hop.kind = kind;
    }
    if (e.mtu !== undefined && e.mtu !== null) {
      const problem = mtuProblem(e.mtu);
      if (problem !== null) throw fail(`${at}.mtu`, problem);
      hop.mtu = e.mtu as number;
    }
    if (e.ifindex !== undefined && e.ifindex !== null) {
      const ifindex = e.ifindex;
      if (
        !(typeof ifindex === 'number' && Number.isInteger(ifindex) && ifindex >= 1 && ifindex <= 0xffffffff)
      )
        throw fail(
          `${at}.ifindex`,
          `an interface index is a whole number from 1 to 4294967295, not ${describe(ifindex)}`,
        );
      hop.ifindex = ifindex;
    }
    return hop;
  });
  const anyList = (parsed as { anyCaptures?: unknown }).anyCaptures;
  if (anyList !== undefined && anyList !== null && !Array.isArray(anyList))
    throw fail('anyCaptures', `expected an array, not ${describe(anyList)}`);
  const anyCaptures: TopologyAnyCapture[] = (anyList ?? []).map((entry: unknown, index: number) => {
    const at = `anyCaptures[${index}]`;
    const e = object(entry, at);
    const file = string(e, 'file', at);
    const host = string(e, 'host', at);
    if (file === undefined) throw fail(`${at}.file`, 'missing: the capture file of a tcpdump -i any');
    if (host === undefined) throw fail(`${at}.host`, 'missing: the host the capture was taken on');
    return { file, host };
  });
  return { hops, anyCaptures };
}
