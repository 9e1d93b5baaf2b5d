// The pcapng writer round-trips through hopscope's own reader and through tshark (when installed):
// interfaces with names, exact nanosecond timestamps, comments, direction, statistics.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { LinkType } from '../../src/capture/frame.js';
import { createPcapngParser } from '../../src/capture/pcapng.js';
import { createPcapngWriter, timeOffsetFor } from '../../src/report/pcapng-writer.js';
import { collect, prng, pushChunked } from '../capture/helpers.js';
import { tcpFrame } from '../helpers/tcp-frames.js';

function written(build: (w: ReturnType<typeof createPcapngWriter>) => void): Buffer {
  const chunks: Uint8Array[] = [];
  const writer = createPcapngWriter((c) => chunks.push(c), 'hopscope test');
  build(writer);
  const bytes = Buffer.concat(chunks);
  expect(writer.bytesWritten).toBe(bytes.length);
  return bytes;
}

const built = tcpFrame({ payload: 1000, seq: 7 });
// Headers and the payload's first bytes: a full-sized frame, then the same cut at a snap length of 40.
const frame = Buffer.concat([built.bytes, Buffer.alloc(1000, 0x5a)]);
// 2026-11-27 09:00:00.123456789 UTC: more than 2^53 nanoseconds since the epoch.
const sec = 1_795_770_000;

const bytes = written((w) => {
  const tap = w.addInterface({ name: 'tap0', linkType: LinkType.ETHERNET, snaplen: 262144 });
  const phy = w.addInterface({
    name: 'eth1',
    linkType: LinkType.ETHERNET,
    snaplen: 128,
    description: 'underlay',
  });
  w.writePacket({
    interfaceId: tap,
    timeSec: sec,
    timeNs: 123_456_789,
    data: frame,
    originalLength: frame.length,
  });
  w.writePacket({
    interfaceId: phy,
    timeSec: sec + 1,
    timeNs: 999_999_999,
    data: frame.subarray(0, 40),
    originalLength: frame.length,
    comments: ['hopscope checksum.partial: transmit checksum offload, not an error', 'second — ünïcode'],
    direction: 2,
  });
  w.writeStatistics({
    interfaceId: phy,
    timeSec: sec + 2,
    timeNs: 0,
    received: 2,
    osDropped: 5,
    ifDropped: 1,
  });
});

describe('pcapng writer', () => {
  it('is read back by hopscope: interfaces, timestamps, lengths, comments, direction', () => {
    const out = collect();
    const parser = createPcapngParser(out.sink);
    pushChunked(
      parser,
      bytes,
      (() => {
        const r = prng(3);
        return () => 1 + Math.floor(r() * 300);
      })(),
    );
    expect(out.problems).toEqual([]);
    expect(out.interfaces.map((i) => [i.name, i.linkType, i.snaplen, i.description])).toEqual([
      ['tap0', LinkType.ETHERNET, 262144, null],
      ['eth1', LinkType.ETHERNET, 128, 'underlay'],
    ]);
    expect(out.frames).toHaveLength(2);
    const [a, b] = out.frames;
    expect([a?.timeSec, a?.timeNs, a?.capturedLength, a?.originalLength]).toEqual([
      sec,
      123_456_789,
      frame.length,
      frame.length,
    ]);
    expect(a?.data.equals(frame)).toBe(true);
    expect([
      b?.interfaceId,
      b?.timeSec,
      b?.timeNs,
      b?.capturedLength,
      b?.originalLength,
      b?.direction,
    ]).toEqual([1, sec + 1, 999_999_999, 40, frame.length, 2]);
    expect(b?.comment).toContain('checksum.partial');
  });

  it('keeps times a count of nanoseconds since 1970 cannot hold, and never wraps one around', () => {
    // Hostile captures (an if_tsoffset of 2^44 s, or a negative one) have such times: each
    // interface counts from an if_tsoffset of its own, 292 years before its first. A time outside
    // the 584 years from there is written at the nearest end, and writePacket says so.
    const times = [-(2 ** 40) - 0.5, 2 ** 44, 1_795_770_000];
    const exact: boolean[] = [];
    const out = collect();
    const bytes = written((w) => {
      for (const [i, first] of times.entries()) {
        const id = w.addInterface({
          name: `if${i}`,
          linkType: LinkType.ETHERNET,
          snaplen: 0,
          tsOffsetSec: timeOffsetFor(first),
        });
        for (const timeSec of [Math.floor(first), Math.floor(first) + 86_400, Math.floor(first) - 86_400])
          exact.push(w.writePacket({ interfaceId: id, timeSec, timeNs: 5, data: frame, originalLength: 0 }));
      }
      // if2 counts from 1970: 2^40 s is past its span, -1 s before it
      for (const timeSec of [2 ** 40, -1])
        exact.push(w.writePacket({ interfaceId: 2, timeSec, timeNs: 7, data: frame, originalLength: 0 }));
    });
    pushChunked(createPcapngParser(out.sink), bytes, () => bytes.length);
    expect(out.problems).toEqual([]);
    expect(exact).toEqual([...Array(9).fill(true), false, false]);
    expect(out.frames.map((f) => [f.timeSec, f.timeNs])).toEqual([
      [-(2 ** 40) - 1, 5],
      [-(2 ** 40) - 1 + 86_400, 5],
      [-(2 ** 40) - 1 - 86_400, 5],
      [2 ** 44, 5],
      [2 ** 44 + 86_400, 5],
      [2 ** 44 - 86_400, 5],
      [1_795_770_000, 5],
      [1_795_770_000 + 86_400, 5],
      [1_795_770_000 - 86_400, 5],
      [18_446_744_073, 709_551_615], // the last instant 64 bits of nanoseconds hold
      [0, 0],
    ]);
  });

  it('refuses a packet on an interface it never declared', () => {
    expect(() =>
      written((w) =>
        w.writePacket({ interfaceId: 0, timeSec: 0, timeNs: 0, data: frame, originalLength: 0 }),
      ),
    ).toThrow(/not declared/);
  });

  const tshark = spawnSync('sh', ['-c', 'command -v tshark']).status === 0;
  if (!tshark) console.warn('pcapng writer: tshark check skipped (tshark not installed)');
  const dir = mkdtempSync(join(tmpdir(), 'hopscope-pcapng-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it.skipIf(!tshark)('is read by tshark: names, epoch times, comments and drop counters', () => {
    const path = join(dir, 'out.pcapng');
    writeFileSync(path, bytes);
    const fields = spawnSync(
      'tshark',
      [
        '-r',
        path,
        '-T',
        'fields',
        '-E',
        'separator=|',
        '-e',
        'frame.interface_name',
        '-e',
        'frame.time_epoch',
        '-e',
        'frame.comment',
        '-e',
        'frame.len',
      ],
      { encoding: 'utf8' },
    );
    expect(fields.status, fields.stderr).toBe(0);
    const rows = fields.stdout
      .trim()
      .split('\n')
      .map((l) => l.split('|'));
    expect(rows.map((r) => r[0])).toEqual(['tap0', 'eth1']);
    expect(rows[0]?.[1]).toMatch(/^1795770000\.123456789/);
    expect(rows[1]?.[2]).toContain('hopscope checksum.partial: transmit checksum offload, not an error');
    expect(rows[1]?.[2]).toContain('ünïcode');
    expect(rows[1]?.[3]).toBe(String(frame.length));
    const stats = spawnSync('capinfos', ['-M', path], { encoding: 'utf8' });
    if (stats.status === 0) expect(stats.stdout).toMatch(/Number of packets:\s+2/);
  });
});
