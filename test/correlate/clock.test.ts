// Clock offsets from segments one way and ACKs the other, and the hole arithmetic of coverage, on
// hand-made traces where the true offset and delay are known.
import { describe, expect, it } from 'vitest';
import { estimateClocks, firstsByKey } from '../../src/correlate/clock.js';
import { clip, missing } from '../../src/correlate/coverage.js';
import type { FlowKey } from '../../src/observe/flow-key.js';
import type { HopView } from '../../src/observe/hop-view.js';
import { createFlowTrace, type FlowTrace, recordAck, recordSegment } from '../../src/observe/trace.js';

const flowKey = (src: string, dst: string): FlowKey => ({
  protocol: 6,
  ipVersion: 4,
  src,
  dst,
  srcPort: 1,
  dstPort: 2,
  vni: null,
});

function trace(clockOffset: number, oneWayDelay: number): FlowTrace {
  // A sends 100 segments; B acknowledges each 50 µs after it arrives at the receiver. This hop is
  // `oneWayDelay` further along the path than the reference, and its clock `clockOffset` ahead.
  const t = createFlowTrace('TCP a <-> b', flowKey('a', 'b'));
  for (let i = 0; i < 100; i++) {
    const sent = 1000 + i * 0.001;
    const segment = {
      seq: 5000 + i * 1448,
      payload: 1448,
      time: sent + oneWayDelay + clockOffset,
      frame: i + 1,
      isSuper: false,
      checksum: null,
      fragmented: false,
      overhead: -1,
      ipLength: 1500,
    };
    recordSegment(t.fromA, segment, true);
    // The ACK leaves the receiver 1 ms after the segment left the sender and passes this hop
    // `oneWayDelay` earlier than the reference hop (it travels the other way).
    const ack = {
      ack: 5000 + (i + 1) * 1448,
      tsVal: 777 + i,
      window: 512,
      time: sent + 0.001 - oneWayDelay + clockOffset,
    };
    recordAck(t.fromB, t.fromA, ack, true);
  }
  return t;
}

describe('estimateClocks', () => {
  it('separates an hour of clock offset from 80 µs of delay, in both directions of the path', () => {
    const hops = [{ name: 'ref' }, { name: 'ahead' }, { name: 'behind' }] as HopView[];
    const traces = new Map<HopView, Map<string, FlowTrace>>([
      [hops[0] as HopView, new Map([['TCP a <-> b', trace(0, 0)]])],
      [hops[1] as HopView, new Map([['TCP a <-> b', trace(3600, 80e-6)]])],
      [hops[2] as HopView, new Map([['TCP a <-> b', trace(-7200, -80e-6)]])],
    ]);
    const offsets = estimateClocks(hops, traces);
    const ref = offsets.get(hops[0] as HopView) ?? Number.NaN;
    expect((offsets.get(hops[1] as HopView) ?? 0) - ref).toBeCloseTo(3600, 6);
    expect((offsets.get(hops[2] as HopView) ?? 0) - ref).toBeCloseTo(-7200, 6);
  });

  it('estimates clocks only along the chain: ten hops sharing a flow, nine pairs, every offset right', () => {
    // Every pair is compared by the keys both saw; differences and medians only where the chain
    // of offsets goes (ten hops, nine pairs; all 45 before).
    const hops = Array.from({ length: 10 }, (_, i) => ({ name: `h${i}` })) as HopView[];
    const shift = (i: number) => (i % 2 === 0 ? 1 : -1) * 60 * i;
    const traces = new Map<HopView, Map<string, FlowTrace>>(
      hops.map((hop, i) => [hop, new Map([['TCP a <-> b', trace(shift(i), i * 10e-6)]])]),
    );
    const stats = { pairs: 0 };
    const offsets = estimateClocks(hops, traces, stats);
    expect(stats.pairs).toBe(hops.length - 1);
    const ref = offsets.get(hops[0] as HopView) ?? Number.NaN;
    hops.forEach((hop, i) => {
      expect((offsets.get(hop) ?? Number.NaN) - ref).toBeCloseTo(shift(i), 3);
    });
  });

  it('leaves the offset of a hop that shares nothing unknown, not 0', () => {
    const hops = [{ name: 'x' }, { name: 'y' }] as HopView[];
    const other = createFlowTrace('TCP c <-> d', flowKey('c', 'd'));
    const offsets = estimateClocks(
      hops,
      new Map([
        [hops[0] as HopView, new Map([['TCP a <-> b', trace(0, 0)]])],
        [hops[1] as HopView, new Map([['TCP c <-> d', other]])],
      ]),
    );
    expect(offsets.get(hops[1] as HopView)).toBeUndefined();
  });
});

describe('coverage holes', () => {
  it('finds what one capture has and the other lacks, within the window both cover', () => {
    const a = [0, 1000, 2000, 3000];
    const b = [0, 400, 600, 1000, 2500, 3000];
    expect(missing(a, b)).toEqual([
      [400, 600],
      [2000, 2500],
    ]);
    expect(missing(clip(a, 500, 2200), clip(b, 500, 2200))).toEqual([
      [500, 600],
      [2000, 2200],
    ]);
    expect(missing(a, a)).toEqual([]);
  });
});

describe('estimateClocks over many captures', () => {
  it('compares only hops that share data, in work that grows with the hops, and still chains every clock', () => {
    // 600 captures of one flow (each clock 1 s further off) and 400 of flows nobody else saw.
    const hops: HopView[] = [];
    const traces = new Map<HopView, Map<string, FlowTrace>>();
    for (let i = 0; i < 1000; i++) {
      const hop = { name: `h${i}` } as HopView;
      hops.push(hop);
      const shared = i < 600;
      const key = shared ? 'TCP a <-> b' : `TCP c${i} <-> d`;
      const t = shared ? trace(i, 0) : createFlowTrace(key, flowKey(`c${i}`, 'd'));
      traces.set(hop, new Map([[key, t]]));
    }
    const stats = { pairs: 0 };
    const offsets = estimateClocks(hops, traces, stats);
    expect(stats.pairs).toBeLessThanOrEqual(600 * 4);
    const ref = offsets.get(hops[0] as HopView) ?? Number.NaN;
    for (let i = 0; i < 600; i += 37) expect((offsets.get(hops[i] as HopView) ?? 0) - ref).toBeCloseTo(i, 6);
    for (let i = 600; i < 1000; i += 50) expect(offsets.get(hops[i] as HopView)).toBeUndefined();
  });
});

describe('firstsByKey', () => {
  // The reference: every distinct key once, ascending, with the value of its first occurrence.
  const reference = (values: number[], stride: number, valueAt: number) => {
    const first = new Map<number, number>();
    for (let i = 0; i < values.length; i += stride) {
      const key = values[i] as number;
      if (!first.has(key)) first.set(key, values[i + valueAt] as number);
    }
    const keys = [...first.keys()].sort((a, b) => a - b);
    return { keys, times: keys.map((k) => first.get(k) as number) };
  };
  const asLists = (f: { keys: Float64Array; times: Float64Array }) => ({
    keys: Array.from(f.keys),
    times: Array.from(f.times),
  });
  // Segment samples: key, payload, time, frame, wait (five numbers an entry, time at 2).
  const entries = (keys: number[]) => keys.flatMap((key, i) => [key, 1448, 100 + i / 1000, i + 1, 0.5]);

  it('takes in-order keys as they are, past 2^32 and with a wrap of the sequence space', () => {
    const keys = [4294960000, 4294961448, 4294962896, 4294964344, 4294965792 + 2 ** 32];
    const values = entries(keys);
    expect(asLists(firstsByKey(values, 5, 2))).toEqual(reference(values, 5, 2));
  });

  it('sorts keys out of order and keeps the first time of a repeated key (retransmissions)', () => {
    const keys = [1000, 2448, 3896, 2448, 5344, 1000, 3896, 6792, 500];
    const values = entries(keys);
    const got = asLists(firstsByKey(values, 5, 2));
    expect(got).toEqual(reference(values, 5, 2));
    expect(got.keys).toEqual([500, 1000, 2448, 3896, 5344, 6792]);
    // 2448 first came at entry 1, not at its retransmission (entry 3).
    expect(got.times[2]).toBe(100.001);
  });

  it('keeps the first of a key repeated right after itself, not the repeat', () => {
    const values = entries([7, 7, 8]);
    expect(asLists(firstsByKey(values, 5, 2))).toEqual({ keys: [7, 8], times: [100, 100.002] });
  });

  it('gives the first of every run of repeats in ACK samples, in order or not', () => {
    // ACK samples: key, time. A run of the same key (an ACK sent again) keeps its first time; a
    // key that comes back later, after a larger one, is not in order and still keeps its first.
    const acks = (keys: number[]) => keys.flatMap((key, i) => [key, 200 + i]);
    for (const keys of [[5, 5, 5, 6, 9, 9, 12], [5, 5, 6, 5, 9], [9, 9, 3, 3, 4], [1, 1, 1, 1], []]) {
      const values = acks(keys);
      expect(asLists(firstsByKey(values, 2, 1)), keys.join(',')).toEqual(reference(values, 2, 1));
    }
    expect(asLists(firstsByKey(acks([5, 5, 5, 6, 9, 9, 12]), 2, 1))).toEqual({
      keys: [5, 6, 9, 12],
      times: [200, 203, 204, 206],
    });
  });
});
