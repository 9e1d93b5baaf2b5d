// pcapng reader: a file written by Wireshark's editcap from a lab capture must give the same
// frames as the classic reader on the original; hand-built files cover both byte orders,
// several sections, if_name/if_tsresol/if_tsoffset, EPB flags and comments, SPB, unknown
// blocks, and a block length that lies.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parsePcap } from '../src/capture/pcap.js';
import { isPcapng, parsePcapng } from '../src/capture/pcapng.js';

const root = join(import.meta.dirname, '..');

/** Builds pcapng blocks in one byte order. */
function writer(le: boolean) {
  const u32 = (v: number) => {
    const b = Buffer.alloc(4);
    le ? b.writeUInt32LE(v >>> 0) : b.writeUInt32BE(v >>> 0);
    return b;
  };
  const u16 = (v: number) => {
    const b = Buffer.alloc(2);
    le ? b.writeUInt16LE(v) : b.writeUInt16BE(v);
    return b;
  };
  const pad = (b: Buffer) => Buffer.concat([b, Buffer.alloc((4 - (b.length % 4)) % 4)]);
  const opt = (code: number, value: Buffer) => Buffer.concat([u16(code), u16(value.length), pad(value)]);
  const endOpt = Buffer.alloc(4);
  const block = (type: number, body: Buffer, lie = 0) => {
    const len = 12 + body.length;
    return Buffer.concat([u32(type), u32(len + lie), body, u32(len)]);
  };
  return {
    u32,
    shb: () => block(0x0a0d0d0a, Buffer.concat([u32(0x1a2b3c4d), u16(1), u16(0), Buffer.alloc(8, 0xff)])),
    idb: (linkType: number, opts: Buffer[]) =>
      block(1, Buffer.concat([u16(linkType), u16(0), u32(262144), ...opts, endOpt])),
    epb: (ifId: number, ts: bigint, data: Buffer, opts: Buffer[] = [], lie = 0) =>
      block(
        6,
        Buffer.concat([
          u32(ifId),
          u32(Number(ts >> 32n)),
          u32(Number(ts & 0xffffffffn)),
          u32(data.length),
          u32(data.length + 10),
          pad(data),
          ...opts,
          ...(opts.length ? [endOpt] : []),
        ]),
        lie,
      ),
    spb: (data: Buffer) => block(3, Buffer.concat([u32(data.length), pad(data)])),
    raw: block,
    opt,
  };
}

describe('pcapng reader', () => {
  it('reads what editcap wrote exactly as the classic reader reads the original', () => {
    const ng = readFileSync(join(root, 'test/fixtures/pmtu-guest1-eth0.pcapng'));
    const classic = parsePcap(readFileSync(join(root, 'samples/pmtu-underlay/guest1-eth0.pcap')));
    expect(isPcapng(ng)).toBe(true);
    const f = parsePcapng(ng);
    expect(f.error).toBeNull();
    expect(f.interfaces).toHaveLength(1);
    expect(f.interfaces[0]?.linkType).toBe(classic.linkType);
    expect(f.records).toHaveLength(classic.records.length);
    f.records.forEach((r, i) => {
      const c = classic.records[i];
      expect(r.timeNs).toBe(c?.timeNs);
      expect([r.capturedLength, r.originalLength]).toEqual([c?.capturedLength, c?.originalLength]);
      expect(Buffer.from(r.data).equals(Buffer.from(c?.data ?? []))).toBe(true);
    });
  });

  it.each([true, false])(
    'hand-built file, little-endian=%s: sections, options, SPB, unknown blocks',
    (le) => {
      const w = writer(le);
      const name = (s: string) => w.opt(2, Buffer.from(s));
      const file = Buffer.concat([
        w.shb(),
        w.idb(1, [name('host1-phy0'), w.opt(9, Buffer.from([9]))]), // nanoseconds
        w.raw(0x00000004, Buffer.alloc(8)), // name resolution block: skipped
        w.epb(0, 1_700_000_000_123_456_789n, Buffer.from([1, 2, 3, 4, 5]), [
          w.opt(2, w.u32(2)),
          w.opt(1, Buffer.from('outbound super-frame')),
        ]),
        w.raw(0x0badcafe, Buffer.alloc(16)), // unknown block type: skipped
        w.shb(), // a second section: interface ids start again at 0
        w.idb(276, [
          name('any'),
          w.opt(9, Buffer.from([0x80 | 10])),
          w.opt(14, Buffer.from(le ? [10, 0, 0, 0, 0, 0, 0, 0] : [0, 0, 0, 0, 0, 0, 0, 10])),
        ]),
        w.epb(0, 3n * 1024n + 512n, Buffer.from([9, 9]), [w.opt(2, w.u32(1))]),
        w.spb(Buffer.from([7, 7, 7])),
      ]);
      const f = parsePcapng(file);
      expect(f.error).toBeNull();
      expect(f.sections).toBe(2);
      expect(f.interfaces.map((i) => [i.index, i.linkType, i.name])).toEqual([
        [0, 1, 'host1-phy0'],
        [1, 276, 'any'],
      ]);
      expect(
        f.records.map((r) => [r.frame, r.interfaceIndex, r.direction, r.capturedLength, r.originalLength]),
      ).toEqual([
        [1, 0, 2, 5, 15],
        [2, 1, 1, 2, 12],
        [3, 1, 0, 3, 3],
      ]);
      expect(f.records[0]?.timeNs).toBe(1_700_000_000_123_456_789n);
      expect(f.records[0]?.comment).toBe('outbound super-frame');
      // 2^-10 s units: 3.5 s, plus if_tsoffset 10 s
      expect(f.records[1]?.timeNs).toBe(13_500_000_000n);
      expect([...(f.records[2]?.data ?? [])]).toEqual([7, 7, 7]);
    },
  );

  it('stops at a block whose length lies, keeping the frames before it', () => {
    const w = writer(true);
    const file = Buffer.concat([
      w.shb(),
      w.idb(1, []),
      w.epb(0, 1n, Buffer.from([1])),
      w.epb(0, 2n, Buffer.from([2]), [], 4000),
      w.epb(0, 3n, Buffer.from([3])),
    ]);
    const f = parsePcapng(file);
    expect(f.records).toHaveLength(1);
    // SHB 28 bytes, IDB 24 (with its end-of-options), first EPB 36: the lying block starts at 88
    expect(f.error?.offset).toBe(28 + 24 + 36);
    expect(f.error?.message).toMatch(/block length 4036/);
  });

  it('rejects a packet block naming an interface nobody described', () => {
    const w = writer(true);
    const f = parsePcapng(Buffer.concat([w.shb(), w.idb(1, []), w.epb(3, 1n, Buffer.from([1]))]));
    expect(f.records).toHaveLength(0);
    expect(f.error?.message).toMatch(/interface 3/);
  });
});
