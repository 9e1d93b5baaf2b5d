/**
 * NAT between hops (DNAT on a host, a floating IP, kube-proxy): addresses and ports change, the
 * TCP sequence space does not. Flows of different 5-tuples whose hops sampled the same sequence
 * numbers (samples are chosen by a hash of the sequence number, the same at every hop, and
 * initial sequence numbers are random) are one connection seen on both sides of a translation.
 */

import type { FlowKey } from '../observe/flow-key.js';
import { type DirectionTrace, type FlowTrace, sampleCount, sampleSeq } from '../observe/trace.js';
import type { Seen } from './order.js';

/** Sequence numbers two groups must share (in one direction) to be one connection. */
const MIN_SHARED = 3;
/** Sequence numbers of a direction looked up per group. */
const SIGNATURE = 32;

export interface Group {
  seen: Seen[];
  tenants: boolean;
}

export interface JoinedGroup extends Group {
  /** Each 5-tuple of the connection with the hops that saw it, in data-direction-neutral A->B form. */
  translations: Array<{ flow: FlowKey; hops: string[] }> | null;
}

function signature(seen: readonly Seen[], pick: (t: FlowTrace) => DirectionTrace): number[] {
  const out = new Set<number>();
  for (const s of seen) {
    const d = pick(s.trace);
    for (let i = 0; i < sampleCount(d) && out.size < SIGNATURE; i++) out.add(sampleSeq(d, i));
  }
  return [...out];
}

/** The same trace with its directions swapped: endpoint B of one 5-tuple is A of the other. */
function flipped(trace: FlowTrace): FlowTrace {
  const flow = trace.flow;
  return {
    ...trace,
    fromA: trace.fromB,
    fromB: trace.fromA,
    flow:
      flow === null
        ? null
        : { ...flow, src: flow.dst, dst: flow.src, srcPort: flow.dstPort, dstPort: flow.srcPort },
  };
}

/**
 * Joins TCP groups that share sampled sequence numbers into one, their traces oriented alike.
 * Groups whose hops overlap are left apart (one hop cannot carry both sides of one connection as
 * two flows unless it is the translating host's any-capture: kept apart, reported as two paths).
 */
export function joinTranslated(groups: readonly Group[]): JoinedGroup[] {
  const tcp = groups.map((g) => (g.seen[0] as Seen).trace.flow?.protocol === 6);
  const sigA = groups.map((g) => signature(g.seen, (t) => t.fromA));
  const sigB = groups.map((g) => signature(g.seen, (t) => t.fromB));
  // seq -> [group, direction (0: A, 1: B)]
  const index = new Map<number, Array<[number, number]>>();
  groups.forEach((_, g) => {
    if (!tcp[g]) return;
    for (const [dir, sig] of [sigA[g], sigB[g]].entries()) {
      for (const seq of sig as number[]) {
        const list = index.get(seq);
        if (list === undefined) index.set(seq, [[g, dir]]);
        else list.push([g, dir]);
      }
    }
  });
  // Union-find with each group's orientation relative to its root.
  const parent = groups.map((_, g) => g);
  const flip = groups.map(() => false);
  const find = (g: number): [number, boolean] => {
    let f = false;
    let r = g;
    while (parent[r] !== r) {
      f = f !== flip[r];
      r = parent[r] as number;
    }
    return [r, f];
  };
  const hopsOf = (root: number) =>
    new Set(groups.flatMap((g, i) => (find(i)[0] === root ? g.seen.map((s) => s.hop) : [])));
  groups.forEach((_, g) => {
    if (!tcp[g]) return;
    const counts = new Map<string, number>();
    for (const [dir, sig] of [sigA[g], sigB[g]].entries()) {
      for (const seq of sig as number[]) {
        for (const [h, hdir] of index.get(seq) ?? []) {
          if (h <= g) continue;
          const key = `${h}:${dir === hdir ? 0 : 1}`;
          counts.set(key, (counts.get(key) ?? 0) + 1);
        }
      }
    }
    for (const [key, count] of counts) {
      if (count < MIN_SHARED) continue;
      const [hText, swapText] = key.split(':');
      const h = Number(hText);
      const [rg, fg] = find(g);
      const [rh, fh] = find(h);
      if (rg === rh) continue;
      const mine = hopsOf(rg);
      if ([...hopsOf(rh)].some((hop) => mine.has(hop))) continue;
      parent[rh] = rg;
      // h relative to g is swapped or not; rh relative to rg follows.
      flip[rh] = (fg !== fh) !== (swapText === '1');
    }
  });
  const joined = new Map<number, JoinedGroup>();
  groups.forEach((g, i) => {
    const [root, f] = find(i);
    const seen = f ? g.seen.map((s) => ({ hop: s.hop, trace: flipped(s.trace) })) : g.seen;
    const flow = (seen[0] as Seen).trace.flow as FlowKey;
    const entry = { flow, hops: seen.map((s) => s.hop.name) };
    const into = joined.get(root);
    if (into === undefined) joined.set(root, { seen: [...seen], tenants: g.tenants, translations: [entry] });
    else {
      into.seen.push(...seen);
      into.tenants ||= g.tenants;
      into.translations?.push(entry);
    }
  });
  return [...joined.values()].map((j) => ({
    ...j,
    translations: j.translations !== null && j.translations.length > 1 ? j.translations : null,
  }));
}
