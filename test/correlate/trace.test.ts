// What a hop keeps per flow: sequence-space coverage (merged, sorted, bounded, telling repeats) and
// samples chosen the same way at every hop, spanning the whole flow in bounded memory.
import { describe, expect, it } from 'vitest';
import {
  ackCount,
  cover,
  createDirectionTrace,
  MAX_INTERVALS,
  MAX_SAMPLES,
  recordAck,
  recordSegment,
  sampleCount,
  sampled,
  sampleSeq,
  sampleTime,
  sampleWait,
  WINDOW_SEC,
} from '../../src/observe/trace.js';

describe('cover', () => {
  it('extends in-order data in place and tells repeats', () => {
    const ranges: number[] = [];
    expect(cover(ranges, 0, 100)).toBe(false);
    expect(cover(ranges, 100, 200)).toBe(false);
    expect(cover(ranges, 50, 150)).toBe(true);
    expect(ranges).toEqual([0, 200]);
  });

  it('keeps holes apart and fills them when the data arrives', () => {
    const ranges: number[] = [];
    cover(ranges, 0, 100);
    cover(ranges, 300, 400);
    cover(ranges, 150, 200);
    expect(ranges).toEqual([0, 100, 150, 200, 300, 400]);
    expect(cover(ranges, 100, 150)).toBe(false);
    expect(ranges).toEqual([0, 200, 300, 400]);
    expect(cover(ranges, 0, 400)).toBe(false);
    expect(ranges).toEqual([0, 400]);
  });

  it('stays bounded: beyond MAX_INTERVALS ranges the closest two merge', () => {
    const ranges: number[] = [];
    for (let i = 0; i < MAX_INTERVALS * 3; i++) cover(ranges, i * 10, i * 10 + 5 + (i % 3));
    expect(ranges.length).toBeLessThanOrEqual(MAX_INTERVALS * 2);
    for (let i = 2; i < ranges.length; i += 2) expect(ranges[i]).toBeGreaterThan(ranges[i - 1] as number);
    expect(ranges[0]).toBe(0);
    expect(ranges[ranges.length - 1]).toBe((MAX_INTERVALS * 3 - 1) * 10 + 5 + ((MAX_INTERVALS * 3 - 1) % 3));
  });
});

describe('sampling a long flow', () => {
  const segment = (seq: number, payload: number, time: number, frame: number) => ({
    seq: seq >>> 0,
    payload,
    time,
    frame,
    isSuper: payload > 1448,
    checksum: null,
    fragmented: false,
    overhead: -1,
    ipLength: payload + 52,
  });

  it('spans the whole transfer at two hops and keeps the segment starts both saw, in bounded memory', () => {
    // 2 GB through a tap as 65,160-byte super-frames and through a NIC as 1,448-byte segments:
    // 45 segments per super-frame, sequence numbers wrapping past 2^32, one ACK per super-frame.
    const tap = createDirectionTrace();
    const nic = createDirectionTrace();
    const tapAcks = createDirectionTrace();
    const nicAcks = createDirectionTrace();
    const start = 0xfff00000;
    const superFrames = 33_000;
    let frame = 0;
    for (let i = 0; i < superFrames; i++) {
      const seq = start + i * 65_160;
      const t = i * 0.001;
      recordSegment(tap, segment(seq, 65_160, t, ++frame), true);
      for (let k = 0; k < 45; k++)
        recordSegment(nic, segment(seq + k * 1448, 1448, t + 0.0001, ++frame), true);
      // The ACK passes the NIC first (it travels back), then the tap.
      const ack = (seq + 65_160) >>> 0;
      recordAck(nicAcks, nic, { ack, tsVal: i, window: 0, time: t + 0.0004 }, true);
      recordAck(tapAcks, tap, { ack, tsVal: i, window: 0, time: t + 0.0005 }, true);
    }
    for (const d of [tap, nic]) {
      expect(sampleCount(d)).toBeLessThanOrEqual(MAX_SAMPLES);
      expect(d.level).toBeGreaterThan(0);
      // From the first tenth of the transfer to the last tenth, not only its first segments.
      expect(sampleTime(d, 0)).toBeLessThan(superFrames * 0.001 * 0.1);
      expect(sampleTime(d, sampleCount(d) - 1)).toBeGreaterThan(superFrames * 0.001 * 0.9);
    }
    // The same hash at both hops: the super-frame starts the tap kept that the NIC's stricter
    // level also passes are in the NIC's sample too.
    const nicSeqs = new Set(Array.from({ length: sampleCount(nic) }, (_, i) => sampleSeq(nic, i)));
    const tapSeqs = Array.from({ length: sampleCount(tap) }, (_, i) => sampleSeq(tap, i));
    const common = tapSeqs.filter((seq) => nicSeqs.has(seq));
    expect(common.length).toBeGreaterThanOrEqual(3);
    expect(common.length).toBe(tapSeqs.filter((seq) => sampled(seq, nic.level)).length);
    // Each sampled segment learnt how long it waited for its ACK: 0.5 ms at the tap, 0.3 at the NIC.
    const waits = (d: ReturnType<typeof createDirectionTrace>) =>
      Array.from({ length: sampleCount(d) }, (_, i) => sampleWait(d, i)).filter((w) => !Number.isNaN(w));
    expect(waits(tap).length).toBeGreaterThan(sampleCount(tap) * 0.9);
    for (const w of waits(tap)) expect(w).toBeCloseTo(0.0005, 6);
    const nicFirst = waits(nic).filter((_, i) => common.includes(sampleSeq(nic, i)));
    for (const w of nicFirst) expect(w).toBeCloseTo(0.0003, 6);
    expect(ackCount(tapAcks)).toBeLessThanOrEqual(MAX_SAMPLES);
  });

  it('thins to exactly the entries the lowest level keeping at most half passes, old ones dropped', () => {
    // The rule, written plainly (what thin computes in two passes): a full sample raises the level
    // one at a time until at most half of it would stay, then keeps the recent entries sampled
    // there; a segment is sampled when it passes the level of the moment.
    const trace = createDirectionTrace();
    const model: Array<{ seq: number; time: number }> = [];
    let level = 0;
    let staleAtThinning = 0;
    let seed = 7;
    const random = () => {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
      return seed / 2 ** 32;
    };
    let time = 0;
    const seqs = () => Array.from({ length: sampleCount(trace) }, (_, i) => sampleSeq(trace, i));
    // After each thinning, before later ageing can hide a difference.
    const afterThinning: Array<[number[], number[]]> = [];
    for (let frame = 1; frame <= 400_000; frame++) {
      // Mostly 1 ms apart; now and then a jump of most of the window, so that some entries are
      // past it (and dropped) when the sample is next thinned.
      time += random() < 0.0002 ? WINDOW_SEC * 0.6 : 0.001;
      const seq = Math.floor(random() * 2 ** 32);
      recordSegment(trace, segment(seq, 1448, time, frame), true);
      if (!sampled(seq, level)) continue;
      const oldest = time - WINDOW_SEC;
      if ((model[0]?.time ?? time) < time - WINDOW_SEC * 1.25) {
        while ((model[0]?.time ?? time) < oldest) model.shift();
      }
      if (model.length >= MAX_SAMPLES) {
        let kept = model.length;
        while (kept > model.length / 2 && level < 32) {
          level++;
          kept = model.filter((e) => e.time >= oldest && sampled(e.seq, level)).length;
        }
        const survivors = model.filter((e) => e.time >= oldest && sampled(e.seq, level));
        staleAtThinning += model.filter((e) => e.time < oldest).length;
        model.length = 0;
        model.push(...survivors);
        if (sampled(seq, level)) model.push({ seq, time });
        afterThinning.push([seqs(), model.map((e) => e.seq)]);
        continue;
      }
      model.push({ seq, time });
    }
    // Both paths were taken: several levels raised, and entries past the window dropped by thinning.
    expect(level).toBeGreaterThanOrEqual(3);
    expect(staleAtThinning).toBeGreaterThan(0);
    expect(trace.level).toBe(level);
    expect(seqs()).toEqual(model.map((e) => e.seq));
    expect(afterThinning.length).toBeGreaterThan(3);
    for (const [got, want] of afterThinning) expect(got).toEqual(want);
  });

  it('keeps the last hour of a flow that runs for hours', () => {
    const d = createDirectionTrace();
    // Five hours of one segment a second.
    for (let i = 0; i < 5 * 3600; i++) recordSegment(d, segment(i * 1000, 1000, i, i + 1), true);
    const last = 5 * 3600 - 1;
    expect(sampleTime(d, sampleCount(d) - 1)).toBe(last);
    expect(sampleTime(d, 0)).toBeGreaterThanOrEqual(last - WINDOW_SEC * 1.25);
    expect(sampleTime(d, 0)).toBeLessThan(last - WINDOW_SEC * 0.5);
  });
});
