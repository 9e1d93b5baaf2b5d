/**
 * What a running capture (`hopscope live`) shows the service around it: the analysis session the
 * frames go into, and per interface how capturing goes. The capture side (src/capture/live/)
 * fills it; the service (HTTP API, metrics, finding stream, evidence ring) only reads it, so either
 * side can change without the other as long as this contract holds.
 */
import type { Session, SourceFeed } from '../pipeline/session.js';

export type CaptureState = 'starting' | 'capturing' | 'waiting' | 'gone' | 'failed' | 'stopped';

export interface InterfaceStats {
  /** The hop name the session gave this interface's frames. */
  hop: string;
  /** The interface as the system names it (and its network namespace, when not the current one). */
  interface: string;
  netns: string | null;
  /** The capture backend (e.g. 'cap' for libpcap in-process, 'dumpcap'). */
  backend: string;
  state: CaptureState;
  frames: number;
  bytes: number;
  /** Frames the kernel or libpcap dropped (pcap_stats ps_drop, pcapng isb_drop); null: cannot tell. */
  dropped: number | null;
  /** Frames the interface itself dropped (ps_ifdrop, isb_ifdrop); null: cannot tell. */
  ifDropped: number | null;
  /** Why the state is what it is (the interface vanished, permission needed), or null. */
  message: string | null;
}

export interface LiveRun {
  session: Session;
  /** When capturing started (ms since the epoch) and how it was started (for reports). */
  startedAt: number;
  argv: readonly string[];
  /** A fresh copy of every interface's counters. */
  stats(): InterfaceStats[];
}

/**
 * Called for every source the capture side adds, before its first frame: returns the sink its
 * frames go to (the same feed, or one that also keeps recent frames for evidence files). Runs on the
 * hot path, so what it returns must not allocate per frame.
 */
export type FeedTap = (hop: string, feed: SourceFeed) => SourceFeed;
