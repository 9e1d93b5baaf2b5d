/**
 * What a live capture backend is to `hopscope live`: it starts capturing on one interface, pushes
 * frames into a CaptureSink (one reused Frame, as the file readers do), says when it is capturing,
 * and says once how it ended: stopped on request, the interface is missing or went away (the run
 * retries), no permission or a capture filter libpcap cannot compile (the run stops with one
 * message: trying again cannot help), or another failure.
 */

import type { CaptureSink } from '../frame.js';
import type { InterfaceSpec } from './spec.js';

export type BackendName = 'dumpcap' | 'tcpdump' | 'cap';
export const BACKENDS: readonly BackendName[] = ['dumpcap', 'tcpdump', 'cap'];

export interface BackendOptions {
  filter: string | null;
  snaplen: number;
  /** Kernel capture buffer, bytes. */
  bufferSize: number;
}

/**
 * Why a capture ended. `missing`: no such interface (yet); `down`: it exists but is not up
 * (libpcap will not bind to it); `gone`: it went away while captured. All three are waited for.
 */
export type EndReason =
  | 'stopped'
  | 'missing'
  | 'down'
  | 'gone'
  | 'permission'
  | 'filter'
  | 'unavailable'
  | 'failed';

export interface CaptureEnd {
  reason: EndReason;
  /** What the backend said (one line), or null. */
  message: string | null;
  /** Drop counters the backend reported when it stopped (null: it cannot tell). */
  received: number | null;
  dropped: number | null;
  ifDropped: number | null;
}

export interface CaptureEvents {
  sink: CaptureSink;
  /** The backend is capturing (its socket is bound, frames from now on are seen). */
  onReady(): void;
  /** Called once, when the capture ended for whatever reason. */
  onEnd(end: CaptureEnd): void;
  /**
   * The backend's counters while it captures (since this start; a later call supersedes an earlier
   * one), for backends that can be asked mid-run. onEnd's counters supersede them all.
   */
  onCounters?(counters: { received: number | null; dropped: number | null; ifDropped: number | null }): void;
}

export interface CaptureHandle {
  /** Stops capturing; resolves after the last frame and the end were delivered. */
  stop(): Promise<void>;
}

export type StartCapture = (
  spec: InterfaceSpec,
  options: BackendOptions,
  events: CaptureEvents,
) => CaptureHandle;

/** What a backend's error text means, in the words libpcap, dumpcap and ip netns use. */
export function classifyFailure(text: string): EndReason {
  if (/permission|not permitted|EPERM|EACCES/i.test(text)) return 'permission';
  // libpcap's pcap_compile (tcpdump, cap) and dumpcap's own wording for a filter it cannot compile.
  if (
    /can't parse filter expression|invalid capture filter|syntax error in filter|illegal token|expression rejects all packets/i.test(
      text,
    )
  )
    return 'filter';
  // libpcap's PCAP_ERROR_IFACE_NOT_UP (tcpdump, cap) and dumpcap's 'Device "X" is not up.'.
  if (/\bnot up\b/i.test(text)) return 'down';
  if (
    /no longer running|no longer attached|disappeared|went down|has been disconnected|ENETDOWN|ENXIO/i.test(
      text,
    )
  )
    return 'gone';
  if (
    /no such device|doesn't exist|does not exist|no such interface|There is no device|Cannot open network namespace|No such file or directory|ENODEV/i.test(
      text,
    )
  )
    return 'missing';
  return 'failed';
}

/** The one message a run without the capability to capture prints. */
export function permissionMessage(backend: BackendName, detail: string | null): string {
  const target =
    backend === 'tcpdump'
      ? 'tcpdump (setcap cap_net_raw,cap_net_admin+eip $(command -v tcpdump))'
      : backend === 'dumpcap'
        ? 'dumpcap (setcap cap_net_raw,cap_net_admin+eip /usr/bin/dumpcap, or add yourself to the wireshark group)'
        : 'node (setcap cap_net_raw,cap_net_admin+eip $(command -v node))';
  // dumpcap explains at length (dpkg-reconfigure, groups): the system's own words are enough.
  const said =
    detail === null ? null : (/socket: [^)]+/.exec(detail)?.[0] ?? detail.split(/\.\s/)[0] ?? detail);
  return (
    `capturing needs CAP_NET_RAW and CAP_NET_ADMIN: run hopscope live as root, or give them to ${target}` +
    (said !== null ? ` (${said})` : '')
  );
}

/** libpcap's own words for a filter it could not compile, without the tool's wrapping around them. */
export function filterComplaint(message: string | null): string {
  if (message === null) return 'libpcap could not compile it';
  const words =
    /(can't parse filter expression[^()]*|syntax error in filter[^()]*|illegal token[^()]*|expression rejects all packets)/i.exec(
      message,
    );
  return (words?.[1] ?? message).trim();
}
