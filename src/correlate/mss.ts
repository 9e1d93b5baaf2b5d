/**
 * The MSS of a flow's data direction when no hop captured the receiver's SYN (a capture started
 * mid-connection, the usual case): the largest segment size that is common on the path, that is a
 * size the wire carries (at most a jumbo frame's payload) and that at least a tenth of the
 * wire-sized segments have (the last segment of each burst is smaller, merged frames larger);
 * failing that, the smallest known MTU of a hop that carries the flow unencapsulated, less the IP
 * and TCP headers. Derived, and reported as such (paths[].mssEstimated).
 */

import type { DirectionTrace } from '../observe/trace.js';
import { sizePairs } from '../observe/trace.js';
import type { Seen } from './order.js';

/** No Ethernet link carries more TCP payload than this in one segment. */
const LARGEST_SEGMENT = 9000;
/** A size is the MSS candidate only when this share of the wire-sized segments have it. */
const COMMON_SHARE = 0.1;

export function estimateMss(
  data: readonly DirectionTrace[],
  order: readonly Seen[],
  ipVersion: 4 | 6,
): { mss: number; from: 'segments' | 'mtu' } | null {
  const frames = new Map<number, number>();
  let small = 0;
  for (const d of data) {
    for (const [size, count] of sizePairs(d)) {
      if (size > LARGEST_SEGMENT) continue;
      frames.set(size, (frames.get(size) ?? 0) + count);
      small += count;
    }
  }
  let best = -1;
  for (const [size, count] of frames) if (count >= small * COMMON_SHARE && size > best) best = size;
  if (best > 0 && small >= 10) return { mss: best, from: 'segments' };
  const headers = ipVersion === 6 ? 60 : 40;
  let mtu = Number.POSITIVE_INFINITY;
  order.forEach((s, i) => {
    const d = data[i];
    if (d === undefined || d.frames === 0 || d.overhead >= 0) return;
    if (s.hop.mtu !== null && s.hop.mtuSource !== 'inferred' && s.hop.mtu < mtu) mtu = s.hop.mtu;
  });
  return Number.isFinite(mtu) ? { mss: mtu - headers, from: 'mtu' } : null;
}
