/**
 * What the running system says about the interfaces `hopscope live` captures on: each device's
 * kind, MTU and tunnel endpoints from `ip -d -j link` (and sysfs for the bridge a port belongs to),
 * its offload features from `ethtool -k`, and for `--follow TAP` the path of a VM from its tap:
 * tap -> its bridge -> the VXLAN/Geneve devices on that bridge -> their underlay device. Kinds come
 * from the link info, never from names.
 *
 * The parsing and the path are pure functions over what the tools printed (tested on their real
 * output); the few calls that run the tools are at the end, each in the interface's namespace.
 */

import { execFile } from 'node:child_process';
import { readlink } from 'node:fs/promises';
import { basename } from 'node:path';
import type { HopKind } from '../../observe/hop.js';
import type { InterfaceSpec } from './spec.js';

/** One device as `ip -d -j link` shows it, reduced to what hopscope uses. */
export interface LinkInfo {
  ifindex: number;
  name: string;
  mtu: number;
  /** The bridge (or bond) this device is a port of, or null. */
  master: string | null;
  /** linkinfo.info_kind (veth, tun, bridge, vxlan, geneve, macvtap ...), or null for a NIC. */
  kind: string | null;
  /** linkinfo.info_slave_kind: 'bridge' for a bridge port. */
  slaveKind: string | null;
  /** VXLAN/Geneve endpoints; `link` is the underlay device a VXLAN device was tied to (dev ...). */
  tunnel: {
    type: 'vxlan' | 'geneve';
    id: number | null;
    local: string | null;
    remote: string | null;
    link: string | null;
  } | null;
  /** Largest GSO/GRO super-frame the device takes: above 65,536 is BIG TCP. */
  gsoMaxSize: number | null;
  groMaxSize: number | null;
}

/** The features of `ethtool -k` a verdict uses, under short names. */
export const FEATURES: ReadonlyArray<[string, string]> = [
  ['tcp-segmentation-offload', 'tso'],
  ['generic-segmentation-offload', 'gso'],
  ['generic-receive-offload', 'gro'],
  ['tx-checksumming', 'tx-checksumming'],
  ['tx-udp_tnl-segmentation', 'tx-udp_tnl-segmentation'],
  ['rx-gro-list', 'rx-gro-list'],
  ['large-receive-offload', 'lro'],
];

/** One device of a followed path, or of the interfaces given with -i. */
export interface PathDevice {
  spec: InterfaceSpec;
  kind: HopKind;
  mtu: number | null;
  offloads: Record<string, string> | null;
  /** How the device was found, for the printed path ("port of brq97", "underlay of vxlan-97"). */
  role: string;
  link: LinkInfo | null;
}

const text = (value: unknown): string | null => (typeof value === 'string' && value !== '' ? value : null);
const num = (value: unknown): number | null =>
  typeof value === 'number' && Number.isFinite(value) ? value : null;

/** Parses `ip -d -j link show` output. */
export function parseLinks(json: string): LinkInfo[] {
  const parsed: unknown = JSON.parse(json);
  if (!Array.isArray(parsed)) throw new Error('ip -j link printed no list');
  return parsed.flatMap((entry: Record<string, unknown>): LinkInfo[] => {
    const name = text(entry.ifname);
    const ifindex = num(entry.ifindex);
    if (name === null || ifindex === null) return [];
    const info = (entry.linkinfo ?? {}) as Record<string, unknown>;
    const kind = text(info.info_kind);
    const data = (info.info_data ?? {}) as Record<string, unknown>;
    const tunnel =
      kind === 'vxlan' || kind === 'geneve'
        ? {
            type: kind as 'vxlan' | 'geneve',
            id: num(data.id),
            local: text(data.local) ?? text(data.local6),
            remote: text(data.remote) ?? text(data.remote6) ?? text(data.group),
            link: text(data.link),
          }
        : null;
    return [
      {
        ifindex,
        name,
        mtu: num(entry.mtu) ?? 0,
        master: text(entry.master),
        kind,
        slaveKind: text(info.info_slave_kind),
        tunnel,
        gsoMaxSize: num(entry.gso_max_size),
        groMaxSize: num(entry.gro_max_size),
      },
    ];
  });
}

/** Parses `ethtool -k DEV`: the features of FEATURES as 'on'/'off' ("[fixed]" dropped). */
export function parseFeatures(output: string): Record<string, string> {
  const features: Record<string, string> = {};
  for (const line of output.split('\n')) {
    const match = /^\s*([a-z0-9_-]+):\s+(on|off)\b/.exec(line);
    if (match === null) continue;
    const short = FEATURES.find(([long]) => long === match[1])?.[1];
    if (short !== undefined) features[short] = match[2] as string;
  }
  return features;
}

/**
 * The hop kind of a device from its link info: a bridge, a VXLAN/Geneve device, a physical
 * device (a tunnel's underlay, or a device with no virtual kind), a tap (a tun/tap, macvtap, or a
 * veth that is a port of a bridge: a VM's or container's side of the host). A veth that is none of
 * these (a guest's own interface, in the lab) stays unknown.
 */
export function kindOfLink(
  link: LinkInfo,
  links: readonly LinkInfo[],
  underlays: ReadonlySet<string>,
): HopKind {
  if (link.kind === 'bridge' || link.kind === 'openvswitch') return 'bridge';
  if (link.kind === 'vxlan') return 'vxlan';
  if (link.kind === 'geneve') return 'geneve';
  if (underlays.has(link.name)) return 'physical';
  if (link.kind === 'tun' || link.kind === 'macvtap' || link.kind === 'tap') return 'tap';
  if (
    link.kind === 'veth' &&
    link.master !== null &&
    links.some((l) => l.name === link.master && l.kind === 'bridge')
  )
    return 'tap';
  if (link.kind === null && link.name !== 'lo') return 'physical';
  return 'unknown';
}

/**
 * The underlay device of each tunnel device: the one it was tied to (`dev`), else the one the
 * route to its remote leaves by (`routeDevice`, from `ip route get`), else the one holding its
 * local address (`addressDevice`).
 */
export function underlayOf(
  tunnel: LinkInfo,
  routeDevice: (address: string) => string | null,
  addressDevice: (address: string) => string | null,
): string | null {
  const t = tunnel.tunnel;
  if (t === null) return null;
  if (t.link !== null) return t.link;
  if (t.remote !== null) {
    const dev = routeDevice(t.remote);
    if (dev !== null) return dev;
  }
  return t.local !== null ? addressDevice(t.local) : null;
}

/**
 * The path of a VM from its tap: the tap, the bridge it is a port of, every VXLAN/Geneve device
 * on that bridge, and each one's underlay. Throws when the tap is not there or not a bridge port.
 */
export function followPath(
  tap: string,
  links: readonly LinkInfo[],
  underlay: (tunnel: LinkInfo) => string | null,
): Array<{ name: string; role: string }> {
  const start = links.find((l) => l.name === tap);
  if (start === undefined) throw new Error(`no interface ${tap}`);
  const path = [{ name: tap, role: start.kind !== null ? `${start.kind} device` : 'device' }];
  if (start.master === null) {
    throw new Error(`${tap} is not a port of a bridge: nothing to follow (give the interfaces with -i)`);
  }
  const bridge = links.find((l) => l.name === start.master);
  path.push({ name: start.master, role: `${bridge?.kind ?? 'master'} of ${tap}` });
  const tunnels = links.filter((l) => l.master === start.master && l.tunnel !== null);
  const seen = new Set(path.map((p) => p.name));
  for (const tunnel of tunnels) {
    path.push({ name: tunnel.name, role: `${tunnel.kind} port of ${start.master}` });
    seen.add(tunnel.name);
  }
  for (const tunnel of tunnels) {
    const dev = underlay(tunnel);
    if (dev === null || seen.has(dev)) continue;
    seen.add(dev);
    path.push({ name: dev, role: `underlay of ${tunnel.name}` });
  }
  return path;
}

// --- running the tools -------------------------------------------------------------------------

function run(command: string, args: readonly string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(
      command,
      args,
      { encoding: 'utf8', timeout: 10_000, maxBuffer: 16 * 1024 * 1024 },
      (error, stdout, stderr) => {
        if (error) {
          const code = (error as NodeJS.ErrnoException).code;
          reject(
            new Error(
              code === 'ENOENT'
                ? `${command} not found (Debian: apt-get install ${command === 'ethtool' ? 'ethtool' : 'iproute2'})`
                : `${command} ${args.join(' ')}: ${String(stderr).trim() || error.message}`,
            ),
          );
        } else resolve(stdout);
      },
    );
  });
}

/** A command run inside a network namespace (or here, for null). */
function inNetns(netns: string | null, command: string, args: readonly string[]): Promise<string> {
  return netns === null ? run(command, args) : run('ip', ['netns', 'exec', netns, command, ...args]);
}

export async function readLinks(netns: string | null): Promise<LinkInfo[]> {
  return parseLinks(await run('ip', [...(netns !== null ? ['-n', netns] : []), '-d', '-j', 'link', 'show']));
}

export async function readFeatures(
  netns: string | null,
  device: string,
): Promise<Record<string, string> | null> {
  try {
    return parseFeatures(await inNetns(netns, 'ethtool', ['-k', device]));
  } catch {
    return null;
  }
}

async function routeDevice(netns: string | null, address: string): Promise<string | null> {
  try {
    const routes = JSON.parse(
      await run('ip', [...(netns !== null ? ['-n', netns] : []), '-j', 'route', 'get', address]),
    ) as Array<{ dev?: string }>;
    return routes[0]?.dev ?? null;
  } catch {
    return null;
  }
}

async function addressDevice(netns: string | null, address: string): Promise<string | null> {
  try {
    const addrs = JSON.parse(
      await run('ip', [...(netns !== null ? ['-n', netns] : []), '-j', 'addr', 'show']),
    ) as Array<{ ifname?: string; addr_info?: Array<{ local?: string }> }>;
    return addrs.find((a) => a.addr_info?.some((i) => i.local === address))?.ifname ?? null;
  } catch {
    return null;
  }
}

/**
 * The bridge a port belongs to, from sysfs (/sys/class/net/PORT/master), in this namespace only:
 * sysfs shows the namespace it was mounted in. Null when it says nothing.
 */
async function sysfsMaster(device: string): Promise<string | null> {
  try {
    return basename(await readlink(`/sys/class/net/${device}/master`));
  } catch {
    return null;
  }
}

/** The underlay devices of every tunnel device among `links`. */
async function underlays(netns: string | null, links: readonly LinkInfo[]): Promise<Map<string, string>> {
  const found = new Map<string, string>();
  for (const link of links) {
    if (link.tunnel === null) continue;
    const t = link.tunnel;
    const route = t.link === null && t.remote !== null ? await routeDevice(netns, t.remote) : null;
    const local =
      t.link === null && route === null && t.local !== null ? await addressDevice(netns, t.local) : null;
    const dev = underlayOf(
      link,
      () => route,
      () => local,
    );
    if (dev !== null) found.set(link.name, dev);
  }
  return found;
}

/** What the system says about each given interface (one `ip link` per namespace). */
export async function describeInterfaces(specs: readonly InterfaceSpec[]): Promise<PathDevice[]> {
  const byNetns = new Map<string | null, { links: LinkInfo[]; underlays: Map<string, string> } | Error>();
  for (const spec of specs) {
    if (byNetns.has(spec.netns)) continue;
    try {
      const links = await readLinks(spec.netns);
      byNetns.set(spec.netns, { links, underlays: await underlays(spec.netns, links) });
    } catch (error) {
      byNetns.set(spec.netns, error as Error);
    }
  }
  const out: PathDevice[] = [];
  for (const spec of specs) {
    const system = byNetns.get(spec.netns);
    const link =
      system instanceof Error || system === undefined
        ? undefined
        : system.links.find((l) => l.name === spec.device);
    if (link === undefined || system === undefined || system instanceof Error) {
      // Not there (yet): captured when it appears; the traffic tells its kind.
      out.push({ spec, kind: 'unknown', mtu: null, offloads: null, role: 'not present now', link: null });
      continue;
    }
    const underlaySet = new Set(system.underlays.values());
    out.push({
      spec,
      kind: kindOfLink(link, system.links, underlaySet),
      mtu: link.mtu > 0 ? link.mtu : null,
      offloads: await readFeatures(spec.netns, spec.device),
      role: link.kind !== null ? `${link.kind} device` : 'device',
      link,
    });
  }
  return out;
}

/** `--follow TAP`: the VM's path from its tap, every device described. */
export async function discoverPath(tap: InterfaceSpec): Promise<PathDevice[]> {
  const links = await readLinks(tap.netns);
  const start = links.find((l) => l.name === tap.device);
  if (start !== undefined && tap.netns === null && start.master === null) {
    const master = await sysfsMaster(tap.device);
    if (master !== null) start.master = master;
  }
  const found = await underlays(tap.netns, links);
  const path = followPath(tap.device, links, (tunnel) => found.get(tunnel.name) ?? null);
  const underlaySet = new Set(found.values());
  const out: PathDevice[] = [];
  for (const step of path) {
    const link = links.find((l) => l.name === step.name) ?? null;
    out.push({
      spec: {
        netns: tap.netns,
        device: step.name,
        label: tap.netns !== null ? `${tap.netns}/${step.name}` : step.name,
      },
      kind: link !== null ? kindOfLink(link, links, underlaySet) : 'unknown',
      mtu: link !== null && link.mtu > 0 ? link.mtu : null,
      offloads: await readFeatures(tap.netns, step.name),
      role: step.role,
      link,
    });
  }
  // The followed device itself is the VM's side of the host, whatever its driver.
  if (out[0] !== undefined && out[0].kind === 'unknown') out[0].kind = 'tap';
  return out;
}

/** The path as printed: one line per device, kind, MTU and the features verdicts use. */
export function formatPath(devices: readonly PathDevice[]): string {
  const lines = devices.map((d, i) => {
    const features = d.offloads
      ? Object.entries(d.offloads)
          .map(([name, state]) => `${name} ${state}`)
          .join(', ')
      : 'features unknown';
    const tunnel = d.link?.tunnel;
    const endpoints =
      tunnel != null
        ? ` ${tunnel.type} id ${tunnel.id ?? '?'} ${tunnel.local ?? '?'} -> ${tunnel.remote ?? '?'}`
        : '';
    const big =
      d.link?.gsoMaxSize != null && d.link.gsoMaxSize > 65536
        ? ` gso_max_size ${d.link.gsoMaxSize} (BIG TCP)`
        : '';
    return `  ${i + 1}. ${d.spec.label.padEnd(24)} ${d.kind.padEnd(8)} mtu ${String(d.mtu ?? '?').padEnd(5)} (${d.role})${endpoints}${big}\n     ${features}`;
  });
  return `${lines.join('\n')}\n`;
}
