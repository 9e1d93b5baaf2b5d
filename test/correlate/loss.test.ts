// Loss and capture gaps along a path (src/correlate/loss.ts), on hand-built traces: captures that
// drop frames under load miss data at every hop, sometimes the same burst at every later hop. A
// verdict of loss must then rest on what TCP shows (the receiver's ACKs, the sender's
// retransmissions), not on the captures' holes alone. The lab's real losses (samples/loss-*,
// pmtu-underlay) are checked in faults.test.ts and the goldens.
import { describe, expect, it } from 'vitest';
import { lossAndGaps } from '../../src/correlate/loss.js';
import type { Sides } from '../../src/correlate/order.js';
import type { PathShape } from '../../src/correlate/segmentation.js';
import type { PathReport } from '../../src/correlate/types.js';
import type { FindingRecord } from '../../src/findings/store.js';
import { createDirectionTrace, recordAck, recordSegment } from '../../src/observe/trace.js';

const MSS = 1448;
const BASE = 0xfffe_0000; // wraps within the transfer: the arithmetic is modulo 2^32
const SEGMENTS = 40;

const seqOf = (i: number) => (BASE + i * MSS) >>> 0;

interface Hop {
  name: string;
  /** Segment indexes this hop's capture has (each once), then any sent again. */
  seen: number[];
  again?: number[];
  /** How far (in segments) the receiver's ACKs this hop captured go; none when undefined. */
  ackedTo?: number;
}

function sidesOf(hop: Hop): Sides {
  const data = createDirectionTrace();
  const back = createDirectionTrace();
  let time = 0;
  for (const i of [...hop.seen, ...(hop.again ?? [])]) {
    time += 0.001;
    const facts = {
      seq: seqOf(i),
      payload: MSS,
      time,
      frame: i + 1,
      isSuper: false,
      checksum: null,
      fragmented: false,
      overhead: -1,
      ipLength: MSS + 52,
    };
    recordSegment(data, facts, true);
  }
  if (hop.ackedTo !== undefined) {
    for (let i = 1; i <= hop.ackedTo; i++) {
      time += 0.001;
      recordAck(back, data, { ack: seqOf(i), tsVal: i, window: 512, time }, true);
    }
  }
  return { data, back };
}

/** Runs lossAndGaps over these hops' sides, in this order, every one carrying data. */
function lossOf(
  sides: Sides[],
  names: string[],
  limit: number,
): { report: PathReport; findings: FindingRecord[] } {
  const flow = {
    protocol: 6,
    ipVersion: 4,
    src: '10.0.0.1',
    dst: '10.0.0.2',
    srcPort: 40000,
    dstPort: 5201,
    vni: null,
  };
  const shape = {
    flow,
    order: [],
    sides,
    names,
    dataHops: names.map((_, i) => i),
    supers: names.map(() => 0),
    limit,
  } as unknown as PathShape;
  const report = { gaps: [], lostAt: null } as unknown as PathReport;
  const findings: FindingRecord[] = [];
  lossAndGaps(shape, report, findings);
  return { report, findings };
}

function analyse(hops: Hop[]): { report: PathReport; findings: FindingRecord[] } {
  return lossOf(
    hops.map(sidesOf),
    hops.map((h) => h.name),
    MSS,
  );
}

const all = Array.from({ length: SEGMENTS }, (_, i) => i);
const without = (...gone: number[]) => all.filter((i) => !gone.includes(i));

describe('loss and capture gaps', () => {
  it('data every later capture missed but the receiver acknowledged is a capture gap, not loss', () => {
    // One burst (segments 10-12) missed at b and at every hop after it, as captures starved of
    // CPU at the same moment miss it; the receiver's ACKs, captured at the sender, go past it.
    const hops: Hop[] = [
      { name: 'a', seen: all, ackedTo: SEGMENTS },
      { name: 'b', seen: without(10, 11, 12) },
      { name: 'c', seen: without(10, 11, 12) },
    ];
    const { report, findings } = analyse(hops);
    expect(report.lostAt).toBeNull();
    expect(report.gaps).toEqual([{ hop: 'b', bytes: 3 * MSS, frames: 3 }]);
    const gap = findings.find((f) => f.code === 'capture.gap');
    expect(gap?.facts).toMatchObject({ hop: 'b', from: 'a', after: null, proof: 'acknowledged' });
    expect(findings.some((f) => f.code === 'loss.between-hops')).toBe(false);
  });

  it('acknowledgements are followed past 4 GiB, where sequence numbers wrap', () => {
    // A 5 GiB transfer in 65,000-byte segments; a burst at 3 GiB missed at b and c; the ACKs seen
    // at a, one every 1,000 segments, go to the end (read each against the origin alone, those
    // past 2 GiB would fall before it, and those past 4 GiB near it).
    const size = 65_000;
    const count = Math.ceil((5 * 2 ** 30) / size);
    const burst = Math.floor((3 * 2 ** 30) / size);
    const seq = (i: number) => (BASE + i * size) >>> 0;
    const make = (gone: boolean, acks: boolean): Sides => {
      const data = createDirectionTrace();
      const back = createDirectionTrace();
      for (let i = 0; i < count; i++) {
        const t = i * 1e-4;
        if (!gone || i < burst || i >= burst + 3) {
          const facts = { seq: seq(i), payload: size, time: t, frame: i + 1, isSuper: false };
          recordSegment(
            data,
            { ...facts, checksum: null, fragmented: false, overhead: -1, ipLength: size + 52 },
            true,
          );
        }
        if (acks && i % 1000 === 999)
          recordAck(back, data, { ack: seq(i + 1), tsVal: i, window: 512, time: t }, true);
      }
      return { data, back };
    };
    const { report } = lossOf(
      [make(false, true), make(true, false), make(true, false)],
      ['a', 'b', 'c'],
      size,
    );
    expect(report.lostAt).toBeNull();
    expect(report.gaps).toEqual([{ hop: 'b', bytes: 3 * size, frames: 3 }]);
  });

  it('the same burst, not acknowledged (the receiver stopped short of it), is lost', () => {
    const hops: Hop[] = [
      { name: 'a', seen: all, ackedTo: 10 },
      { name: 'b', seen: without(10, 11, 12) },
      { name: 'c', seen: without(10, 11, 12), ackedTo: 9 },
    ];
    const { report, findings } = analyse(hops);
    expect(report.lostAt).toEqual({ from: 'a', to: 'b', bytes: 3 * MSS, frames: 3 });
    expect(report.gaps).toEqual([]);
    expect(findings.find((f) => f.code === 'loss.between-hops')?.facts).toMatchObject({ from: 'a', to: 'b' });
  });

  it('acknowledged up to the middle of a burst: the part before the ACK is a gap, the rest lost', () => {
    const hops: Hop[] = [
      { name: 'a', seen: all, ackedTo: 11 },
      { name: 'b', seen: without(10, 11, 12) },
    ];
    const { report } = analyse(hops);
    expect(report.gaps).toEqual([{ hop: 'b', bytes: MSS, frames: 1 }]);
    expect(report.lostAt).toEqual({ from: 'a', to: 'b', bytes: 2 * MSS, frames: 2 });
  });

  it('a hole no one later hop has whole, but the later hops have between them, is seen later', () => {
    // b misses 20-22; c has 20 and 22 (it misses 21), d has 21 (it misses 20 and 22).
    const hops: Hop[] = [
      { name: 'a', seen: all, ackedTo: SEGMENTS },
      { name: 'b', seen: without(20, 21, 22) },
      { name: 'c', seen: without(21) },
      { name: 'd', seen: without(20, 22) },
    ];
    const { report, findings } = analyse(hops);
    expect(report.lostAt).toBeNull();
    expect(report.gaps).toEqual([
      { hop: 'b', bytes: 3 * MSS, frames: 3 },
      { hop: 'd', bytes: 2 * MSS, frames: 2 },
    ]);
    const gapAt = (hop: string) => findings.find((f) => f.code === 'capture.gap' && f.facts.hop === hop);
    // Seen later (in pieces), not only acknowledged.
    expect(gapAt('b')?.facts).toMatchObject({ after: 'c', proof: 'later-hop' });
    expect(gapAt('d')?.facts).toMatchObject({ after: null, proof: 'acknowledged' });
  });

  it('bytes seen twice at one hop and once everywhere else were not sent again: no loss', () => {
    // A frame duplicated on the way to c (or by c's capture): no hop before it saw it twice.
    const hops: Hop[] = [
      { name: 'a', seen: all, ackedTo: SEGMENTS },
      { name: 'b', seen: all },
      { name: 'c', seen: all, again: [15] },
      { name: 'd', seen: all },
    ];
    const { findings } = analyse(hops);
    expect(findings.filter((f) => f.code === 'loss.between-hops')).toEqual([]);
  });

  it('bytes sent again, seen twice from the sender up to c and once at d, were lost between c and d', () => {
    const hops: Hop[] = [
      { name: 'a', seen: all, again: [15], ackedTo: SEGMENTS },
      { name: 'b', seen: all, again: [15] },
      { name: 'c', seen: all, again: [15] },
      { name: 'd', seen: all },
    ];
    const { findings } = analyse(hops);
    const losses = findings.filter((f) => f.code === 'loss.between-hops');
    expect(losses).toHaveLength(1);
    expect(losses[0]?.facts).toMatchObject({ from: 'c', to: 'd', how: 'repaired', bytes: MSS });
  });

  it('a copy missed by the next capture and seen twice in pieces further on is no loss there', () => {
    // Segments 15-16 sent again: c's capture missed a copy of both; d saw 15 twice, e 16 twice
    // (and 15 once: as far as these captures tell, 15's first copy was lost between d and e).
    const hops: Hop[] = [
      { name: 'a', seen: all, again: [15, 16], ackedTo: SEGMENTS },
      { name: 'b', seen: all, again: [15, 16] },
      { name: 'c', seen: all },
      { name: 'd', seen: all, again: [15] },
      { name: 'e', seen: all, again: [16] },
    ];
    const { findings } = analyse(hops);
    const losses = findings.filter((f) => f.code === 'loss.between-hops').map((f) => f.facts);
    expect(losses).toEqual([expect.objectContaining({ from: 'd', to: 'e', bytes: MSS, how: 'repaired' })]);
  });

  it('a long lossy flow keeps its latest repeats whole: no bytes between two of them claimed lost', () => {
    // 1,500 segments, every 5th sent again (300 repeats, more than a direction keeps ranges of);
    // the next hop saw the last 256 of them. Merged to fit, the sender's ranges claimed the bytes
    // between two repeats seen twice, which the next hop saw once: a loss that never was.
    const many = Array.from({ length: 1500 }, (_, i) => i);
    const resent = many.filter((i) => i % 5 === 0);
    const hops: Hop[] = [
      { name: 'a', seen: many, again: resent, ackedTo: 1500 },
      { name: 'b', seen: many, again: resent.slice(-256) },
    ];
    const { findings } = analyse(hops);
    expect(findings.filter((f) => f.code === 'loss.between-hops')).toEqual([]);
    const a = sidesOf(hops[0] as Hop).data;
    // What it keeps is exact: each range one resent segment, the oldest dropped below the floor.
    expect(a.repeats).toBe(300);
    const ranges = a.repeated ?? [];
    expect(ranges.length / 2).toBeLessThanOrEqual(256);
    for (let i = 0; i < ranges.length; i += 2)
      expect((ranges[i + 1] as number) - (ranges[i] as number)).toBe(MSS);
    expect(a.repeatedFloor).toBeGreaterThan(0);
    expect(a.repeatedFloor).toBeLessThanOrEqual(ranges[0] as number);
  });

  it('claims nothing about repeats a hop no longer lists (below its floor)', () => {
    // a lists all its 256 repeats; b the same and 50 more, so it dropped its 50 oldest: that b saw
    // those once is not known. c missed copies that d saw twice but forgot the same way.
    const many = Array.from({ length: 1500 }, (_, i) => i);
    const resent = many.filter((i) => i % 5 === 0).slice(0, 256);
    const extra = Array.from({ length: 50 }, (_, i) => 1300 + i);
    const hops: Hop[] = [
      { name: 'a', seen: many, again: resent, ackedTo: 1500 },
      { name: 'b', seen: many, again: [...resent, ...extra] },
    ];
    expect(analyse(hops).findings.filter((f) => f.code === 'loss.between-hops')).toEqual([]);
    const later: Hop[] = [
      { name: 'a', seen: many, again: resent, ackedTo: 1500 },
      { name: 'b', seen: many, again: resent },
      { name: 'c', seen: many, again: resent.slice(20) },
      { name: 'd', seen: many, again: [...resent, ...extra] },
    ];
    expect(analyse(later).findings.filter((f) => f.code === 'loss.between-hops')).toEqual([]);
  });

  it('sent again and seen twice at the sender only (the copy lost at once) is a loss there', () => {
    const hops: Hop[] = [
      { name: 'a', seen: all, again: [15], ackedTo: SEGMENTS },
      { name: 'b', seen: all },
    ];
    const { findings } = analyse(hops);
    expect(findings.find((f) => f.code === 'loss.between-hops')?.facts).toMatchObject({
      from: 'a',
      to: 'b',
      how: 'repaired',
    });
  });
});
