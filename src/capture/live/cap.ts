/**
 * The cap backend: libpcap in hopscope's own process through the `cap` native addon (an optional
 * dependency: it builds only where libpcap's headers are). No process per interface and no pipe,
 * but what cap exposes is narrow: it opens with a fixed snap length of 65,535 bytes, hands each
 * frame's captured length only (no timestamp, no original length) and no pcap_stats. So frames are
 * stamped with the clock when they reach JavaScript, a frame that fills the snap length is flagged
 * as cut when its IP header says it was longer (BIG TCP super-frames are), drops cannot be told,
 * and it captures in hopscope's own network namespace only.
 */

import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { Direction, type Frame, LinkType } from '../frame.js';
import { newFrame } from '../pcap.js';
import { type CaptureHandle, classifyFailure, type StartCapture } from './backend.js';

/** cap's snap length (binding.cc: pcap_set_snaplen(handle, 65535)). */
export const CAP_SNAPLEN = 65535;

interface CapInstance {
  open(device: string, filter: string, bufferSize: number, buffer: Buffer): string;
  close(): void;
  on(event: 'packet', listener: (nbytes: number, truncated: boolean) => void): void;
  removeAllListeners(): void;
}
interface CapModule {
  Cap: new () => CapInstance;
}

export const CAP_MISSING =
  'the cap backend needs the optional package cap, built against libpcap: apt-get install libpcap-dev ' +
  '(Debian/Ubuntu; libpcap-devel elsewhere), then npm rebuild cap in hopscope’s folder. Or use --backend dumpcap ' +
  '(apt-get install wireshark-common)';

const loaded = new Map<string, CapModule | Error>();

/** The cap addon, or the reason it cannot be loaded (not installed, not built). */
export function loadCap(name = 'cap'): CapModule | Error {
  let module = loaded.get(name);
  if (module !== undefined) return module;
  try {
    module = createRequire(import.meta.url)(name) as CapModule;
  } catch (error) {
    module = new Error(`${CAP_MISSING} (${(error as Error).message.split('\n')[0]})`);
  }
  loaded.set(name, module);
  return module;
}

/**
 * Handles whose open failed, referenced until the process ends. cap's destructor stops a poll
 * handle that only a successful open starts, and libuv aborts the whole process (uv_poll_stop's
 * assertion) when the garbage collector finalizes such a handle: a capture that failed once would
 * crash the service minutes later. Each costs the few hundred bytes of an unactivated pcap_t.
 */
const failedOpens: CapInstance[] = [];

/** CAP_NET_RAW (bit 13) in the effective set of /proc/self/status; true where that cannot be read. */
export function hasNetRaw(status = readProcStatus()): boolean {
  const effective = /^CapEff:\s*([0-9a-f]+)$/im.exec(status ?? '')?.[1];
  if (effective === undefined) return true;
  return (BigInt(`0x${effective}`) & (1n << 13n)) !== 0n;
}

function readProcStatus(): string | null {
  try {
    return readFileSync('/proc/self/status', 'utf8');
  } catch {
    return null;
  }
}

/**
 * IFF_UP in /sys/class/net/DEV/flags: the administrative state libpcap's bind needs. True where the
 * file cannot be read (libpcap then says).
 */
export function isUp(device: string, flags = readFlags(device)): boolean {
  if (flags === null) return true;
  const value = Number.parseInt(flags.trim(), 16);
  return Number.isNaN(value) || (value & 0x1) !== 0;
}

function readFlags(device: string): string | null {
  try {
    return readFileSync(`/sys/class/net/${device}/flags`, 'utf8');
  } catch {
    return null;
  }
}

const LINK_TYPES: Readonly<Record<string, number>> = {
  ETHERNET: LinkType.ETHERNET,
  NULL: LinkType.NULL,
  RAW: LinkType.RAW,
  LINKTYPE_LINUX_SLL: LinkType.LINUX_SLL,
};

/**
 * The frame's length as its IP header says (Ethernet, IPv4 or IPv6 over it, one VLAN tag at most),
 * or the captured length when it says nothing more: only asked of frames that fill the snap length.
 * An IPv4 total length of 0 is BIG TCP's (the real length is in the skb only): unknown, so the
 * frame is taken as longer than captured by one byte, which marks it cut.
 */
export function lengthFromHeaders(b: Uint8Array, captured: number): number {
  let p = 12;
  let type = ((b[p] as number) << 8) | (b[p + 1] as number);
  if (type === 0x8100 || type === 0x88a8) {
    p += 4;
    type = ((b[p] as number) << 8) | (b[p + 1] as number);
  }
  const ip = p + 2;
  if (type === 0x0800 && captured >= ip + 4) {
    const total = ((b[ip + 2] as number) << 8) | (b[ip + 3] as number);
    return total === 0 ? captured + 1 : Math.max(captured, ip + total);
  }
  if (type === 0x86dd && captured >= ip + 6) {
    const payload = ((b[ip + 4] as number) << 8) | (b[ip + 5] as number);
    return payload === 0 ? captured + 1 : Math.max(captured, ip + 40 + payload);
  }
  return captured;
}

export const startCap: StartCapture = (spec, options, events): CaptureHandle => {
  const fail = (
    reason: 'unavailable' | 'failed' | 'missing' | 'down' | 'permission' | 'filter',
    message: string,
  ) => {
    queueMicrotask(() => events.onEnd({ reason, message, received: null, dropped: null, ifDropped: null }));
    return { stop: async () => {} };
  };
  if (spec.netns !== null)
    return fail(
      'failed',
      `the cap backend captures in hopscope’s own network namespace only: use --backend dumpcap for ${spec.label}, or run hopscope under ip netns exec ${spec.netns}`,
    );
  const cap = loadCap();
  if (cap instanceof Error) return fail('unavailable', cap.message);
  // What open would fail on is asked first, so a handle whose open failed (kept for the process's
  // life: see failedOpens) stays rare: a missing interface is retried every second for as long as
  // a VM is stopped.
  if (spec.device !== 'any' && !existsSync(`/sys/class/net/${spec.device}`))
    return fail('missing', `${spec.device}: No such device exists`);
  // libpcap will not bind to an interface that is down: asked here, an interface set down for a
  // week costs no handle a second.
  if (spec.device !== 'any' && !isUp(spec.device))
    return fail('down', `${spec.device}: That device is not up`);
  if (!hasNetRaw()) return fail('permission', 'CAP_NET_RAW is not in this process’s effective capabilities');
  const handle = new cap.Cap();
  const buffer = Buffer.alloc(CAP_SNAPLEN);
  let linkName: string;
  try {
    linkName = handle.open(spec.device, options.filter ?? '', options.bufferSize, buffer);
  } catch (error) {
    failedOpens.push(handle);
    const message = (error as Error).message;
    return fail(classifyFailure(message) as 'missing' | 'down' | 'permission' | 'filter' | 'failed', message);
  }
  const linkType = LINK_TYPES[linkName];
  if (linkType === undefined) {
    handle.close();
    return fail('failed', `${spec.label}: link type ${linkName} is not one hopscope decodes`);
  }
  events.sink.onInterface({
    interfaceId: 0,
    linkType,
    snaplen: CAP_SNAPLEN,
    name: spec.device,
    description: null,
  });
  const frame: Frame = newFrame();
  frame.interfaceId = 0;
  frame.linkType = linkType;
  frame.direction = Direction.UNKNOWN;
  frame.comment = null;
  frame.buffer = buffer;
  frame.dataOffset = 0;
  let number = 0;
  const origin = performance.timeOrigin;
  handle.on('packet', (nbytes: number) => {
    // The wall clock when the frame reaches JavaScript: cap hands no timestamp.
    const ms = origin + performance.now();
    const sec = Math.floor(ms / 1000);
    frame.number = ++number;
    frame.timeSec = sec;
    frame.timeNs = Math.floor((ms - sec * 1000) * 1e6);
    frame.capturedLength = nbytes;
    frame.originalLength =
      nbytes >= CAP_SNAPLEN && linkType === LinkType.ETHERNET ? lengthFromHeaders(buffer, nbytes) : nbytes;
    frame.fileOffset = 0;
    events.sink.onFrame(frame);
  });
  queueMicrotask(() => events.onReady());
  // libpcap's read fails when the interface goes away, and cap ignores it: the device is looked
  // for once a second instead.
  let ended = false;
  const finish = (reason: 'stopped' | 'gone', message: string | null) => {
    if (ended) return;
    ended = true;
    clearInterval(watch);
    handle.removeAllListeners();
    handle.close();
    events.onEnd({ reason, message, received: null, dropped: null, ifDropped: null });
  };
  const watch = setInterval(() => {
    if (spec.device !== 'any' && !existsSync(`/sys/class/net/${spec.device}`))
      finish('gone', `${spec.device} went away`);
  }, 1000);
  watch.unref();
  return {
    async stop() {
      finish('stopped', null);
    },
  };
};
