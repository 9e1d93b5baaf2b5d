/**
 * Which hop a frame belongs to, and what that hop is.
 *
 * A pcapng interface with an if_name is a hop named after it; any other capture is one hop named
 * after its file (`host1-phy0.pcap` -> `host1-phy0`). The kind (tap, bridge, vxlan, physical ...)
 * and MTU come, in this order, from --hop/--mtu, from a topology file in the lab's form, from the
 * interface name, and finally from the traffic (a hop that carries tunnel packets is physical).
 * Nothing here trusts the names of the project's own samples: unknown stays unknown.
 */

import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import type { CaptureInterface } from '../capture/frame.js';
import { TopologyError, UsageError } from '../errors.js';
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

export interface HopOverrides {
  kinds: Map<string, HopKind>;
  mtus: Map<string, number>;
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
export function nameIfIndexHop(
  path: string,
  fileHop: string,
  ifIndex: number,
  overrides: HopOverrides,
  taken: Set<string>,
): { name: string; entry: TopologyHop | undefined } {
  const file = basename(path);
  const host = overrides.anyCaptures.find(
    (c) => basename(c.file) === file || hopNameForFile(c.file) === fileHop,
  )?.host;
  const entry =
    host !== undefined ? overrides.topology.find((e) => e.host === host && e.ifindex === ifIndex) : undefined;
  const base = entry?.interface !== undefined ? `${fileHop}@${entry.interface}` : `${fileHop}@if${ifIndex}`;
  let unique = base;
  for (let n = 2; taken.has(unique); n++) unique = `${base}(${n})`;
  taken.add(unique);
  return { name: unique, entry };
}

/** `host1-phy0.pcap.gz` -> `host1-phy0`; stdin -> `stdin`. */
export function hopNameForFile(path: string): string {
  if (path === '-') return 'stdin';
  let name = basename(path);
  name = name.replace(/\.gz$/i, '');
  name = name.replace(/\.(pcapng|pcap|cap|ntar|dmp)$/i, '');
  return name === '' ? basename(path) : name;
}

/** The hop name for one interface of one capture file, unique among `taken`. */
export function nameHop(
  path: string,
  iface: CaptureInterface,
  interfacesInFile: number,
  taken: Set<string>,
): string {
  const fileName = hopNameForFile(path);
  let name = iface.name !== null && iface.name !== '' ? iface.name : fileName;
  if ((iface.name === null || iface.name === '') && interfacesInFile > 1)
    name = `${fileName}#${iface.interfaceId}`;
  if (taken.has(name) && iface.name !== null) name = `${fileName}:${iface.name}`;
  let unique = name;
  for (let n = 2; taken.has(unique); n++) unique = `${name}(${n})`;
  taken.add(unique);
  return unique;
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
  const namedKind = kindFromName(topologyEntry?.interface ?? iface.name ?? hopName);
  if (givenKind !== undefined) {
    identity.kind = givenKind;
    identity.kindSource = 'given';
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
  } else if (typeof fromTopology?.mtu === 'number') {
    identity.mtu = fromTopology.mtu;
    identity.mtuSource = 'topology';
  }
  return identity;
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
    if (!Number.isInteger(mtu) || mtu < 68 || mtu > 1_000_000) {
      throw new UsageError(`--mtu ${name}=${value}: MTU must be a whole number of bytes from 68 up`);
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
 * Reads a topology file in the form the lab writes:
 * `{ path: [{ file, host, interface, ifindex, kind, mtu }], anyCaptures: [{ file, host }] }`.
 */
export function loadTopology(path: string): { hops: TopologyHop[]; anyCaptures: TopologyAnyCapture[] } {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    throw new TopologyError(`${path}: ${(error as Error).message}`, { cause: error });
  }
  const list = (parsed as { path?: unknown } | null)?.path;
  if (!Array.isArray(list)) throw new TopologyError(`${path}: expected an object with a "path" array`);
  const anyList = (parsed as { anyCaptures?: unknown }).anyCaptures;
  const anyCaptures: TopologyAnyCapture[] = Array.isArray(anyList)
    ? anyList.flatMap((c) => {
        const e = c as Record<string, unknown> | null;
        return e !== null && typeof e?.file === 'string' && typeof e.host === 'string'
          ? [{ file: e.file, host: e.host }]
          : [];
      })
    : [];
  const hops = list.map((entry, index) => {
    if (entry === null || typeof entry !== 'object') {
      throw new TopologyError(`${path}: path[${index}] is not an object`);
    }
    const e = entry as Record<string, unknown>;
    const hop: TopologyHop = {};
    if (typeof e.file === 'string') hop.file = e.file;
    if (typeof e.host === 'string') hop.host = e.host;
    if (typeof e.interface === 'string') hop.interface = e.interface;
    if (typeof e.kind === 'string') hop.kind = e.kind;
    if (typeof e.mtu === 'number') hop.mtu = e.mtu;
    if (typeof e.ifindex === 'number') hop.ifindex = e.ifindex;
    return hop;
  });
  return { hops, anyCaptures };
}
