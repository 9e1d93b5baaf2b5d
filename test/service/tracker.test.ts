// The finding stream's logic on hand-made snapshots: once when new, updates only when material and
// not more often than allowed, withdrawals, bounded memory and history.
import { describe, expect, it } from 'vitest';
import type { Report, ReportFinding } from '../../src/report/model.js';
import { createTracker, DEFAULT_TRACKER } from '../../src/service/tracker.js';

function finding(
  code: string,
  hop: string,
  count: number,
  lastSeen = '2026-11-27T10:00:00.000Z',
): ReportFinding {
  return {
    code: code as ReportFinding['code'],
    severity: 'warn',
    group: 'fragmentation',
    scope: 'hop',
    hop,
    flow: null,
    flowKey: null,
    title: `${code} at ${hop}`,
    explanation: '',
    fix: '',
    count,
    evidence: [],
    facts: {},
    derived: [],
    firstSeen: '2026-11-27T10:00:00.000Z',
    lastSeen,
  };
}

const report = (...findings: ReportFinding[]): Report => ({
  version: 1,
  tool: { name: 'hopscope', version: 'x' },
  captures: [],
  hops: [],
  findings,
  paths: [],
  clockOffsets: {},
});

describe('the finding tracker', () => {
  it('tells a finding once, then an update only when it grew materially and the wait is over', () => {
    const t = createTracker({ ...DEFAULT_TRACKER, minUpdateMs: 10_000, growth: 0.1, staleMs: 60_000 });
    expect(t.observe(report(finding('fragment.ip', 'a', 100)), 0).map((e) => e.type)).toEqual(['new']);
    // Every second the same or a little more: nothing.
    for (let s = 1; s <= 9; s++)
      expect(t.observe(report(finding('fragment.ip', 'a', 100 + s)), s * 1000)).toEqual([]);
    // 10 s on, grown by 10 %: one update with the count before.
    const [update] = t.observe(report(finding('fragment.ip', 'a', 111)), 10_000);
    expect(update).toMatchObject({ type: 'update', previousCount: 100, finding: { count: 111 } });
    // Grown by less than 10 %: told only once a minute has passed since the last update.
    expect(t.observe(report(finding('fragment.ip', 'a', 115)), 30_000)).toEqual([]);
    expect(t.observe(report(finding('fragment.ip', 'a', 116)), 70_000)).toMatchObject([
      { type: 'update', previousCount: 111 },
    ]);
    // Unchanged for ever: never repeated.
    expect(t.observe(report(finding('fragment.ip', 'a', 116)), 10_000_000)).toEqual([]);
    expect(t.lastId()).toBe(3);
  });

  it('tells a new last-seen time alone after the stale wait', () => {
    const t = createTracker({ ...DEFAULT_TRACKER, minUpdateMs: 10_000, staleMs: 60_000 });
    t.observe(report(finding('checksum.bad', 'a', 1, '2026-11-27T10:00:00.000Z')), 0);
    expect(t.observe(report(finding('checksum.bad', 'a', 1, '2026-11-27T10:00:30.000Z')), 30_000)).toEqual(
      [],
    );
    expect(
      t.observe(report(finding('checksum.bad', 'a', 1, '2026-11-27T10:01:00.000Z')), 60_000),
    ).toHaveLength(1);
  });

  it('withdraws a finding gone from the snapshots for the wait, and tells it as new when it returns', () => {
    const t = createTracker({ ...DEFAULT_TRACKER, minUpdateMs: 10_000 });
    t.observe(report(finding('segment.split', 'a', 1), finding('fragment.ip', 'b', 1)), 0);
    expect(t.observe(report(finding('fragment.ip', 'b', 1)), 5_000)).toEqual([]);
    expect(t.observe(report(finding('fragment.ip', 'b', 1)), 10_000)).toMatchObject([
      { type: 'withdrawn', finding: { code: 'segment.split' } },
    ]);
    expect(t.current().map((f) => f.code)).toEqual(['fragment.ip']);
    expect(
      t.observe(report(finding('segment.split', 'a', 2), finding('fragment.ip', 'b', 1)), 11_000),
    ).toMatchObject([{ type: 'new', finding: { code: 'segment.split', count: 2 } }]);
  });

  it('keeps at most maxTracked findings and historySize events', () => {
    const t = createTracker({ ...DEFAULT_TRACKER, maxTracked: 3, historySize: 4 });
    const many = Array.from({ length: 6 }, (_, i) =>
      finding('fragment.ip', `h${i}`, 1, `2026-11-27T10:00:0${i}.000Z`),
    );
    expect(t.observe(report(...many), 0)).toHaveLength(6);
    // The three seen longest ago are forgotten; the latest three kept.
    expect(
      t
        .current()
        .map((f) => f.hop)
        .sort(),
    ).toEqual(['h3', 'h4', 'h5']);
    expect(t.since(2)?.map((e) => e.id)).toEqual([3, 4, 5, 6]);
    expect(t.since(1)).toBeNull();
    expect(t.since(6)).toEqual([]);
  });
});
