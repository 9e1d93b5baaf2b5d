// A fragment lost before the capture point, and the 16-bit IPv4 ID coming round again later: on a
// real recording (fragmenting-underlay's sending NIC), one second fragment is removed and a
// datagram far later is given the same ID. Linux retires the stale queue (ipfrag_max_dist); so
// must hopscope: an incomplete datagram, not "overlapping fragments ... corruption or evasion".
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { analyzeJson } from '../analyze/helpers.js';

const source = join(import.meta.dirname, '..', '..', 'samples', 'fragmenting-underlay', 'host1-phy0.pcap');
const tmp = mkdtempSync(join(tmpdir(), 'hopscope-idreuse-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

interface Rec {
  header: Buffer;
  frame: Buffer;
}

function records(buf: Buffer): Rec[] {
  const out: Rec[] = [];
  for (let pos = 24; pos + 16 <= buf.length; ) {
    const incl = buf.readUInt32LE(pos + 8);
    out.push({
      header: Buffer.from(buf.subarray(pos, pos + 16)),
      frame: Buffer.from(buf.subarray(pos + 16, pos + 16 + incl)),
    });
    pos += 16 + incl;
  }
  return out;
}

const isV4 = (f: Buffer) => f.length >= 34 && f.readUInt16BE(12) === 0x0800;
const fragField = (f: Buffer) => f.readUInt16BE(14 + 6);
const ipId = (f: Buffer) => f.readUInt16BE(14 + 4);

function setId(f: Buffer, id: number): void {
  f.writeUInt16BE(id, 14 + 4);
  const ihl = ((f[14] as number) & 0x0f) * 4;
  f.writeUInt16BE(0, 14 + 10);
  let sum = 0;
  for (let i = 0; i < ihl; i += 2) sum += f.readUInt16BE(14 + i);
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  f.writeUInt16BE(~sum & 0xffff, 14 + 10);
}

describe('IPv4 ID reuse after a lost fragment', () => {
  it('reports the stale datagram incomplete and rebuilds the later one, with no overlap', async () => {
    const buf = readFileSync(source);
    const recs = records(buf);
    // Fragmented datagrams in capture order: first fragments (offset 0, MF) by ID.
    const firsts = recs.filter((r) => isV4(r.frame) && fragField(r.frame) === 0x2000);
    expect(firsts.length).toBeGreaterThan(200);
    const lostId = ipId((firsts[10] as Rec).frame);
    const laterId = ipId((firsts[10 + 150] as Rec).frame);
    const kept = recs.filter(
      // The second fragment of datagram `lostId` never reached the capture point.
      (r) => !(isV4(r.frame) && ipId(r.frame) === lostId && (fragField(r.frame) & 0x1fff) !== 0),
    );
    // 150 datagrams later the ID counter is back at lostId.
    for (const r of kept)
      if (isV4(r.frame) && ipId(r.frame) === laterId && fragField(r.frame) !== 0x4000) setId(r.frame, lostId);
    const out = join(tmp, 'host1-phy0.pcap');
    writeFileSync(out, Buffer.concat([buf.subarray(0, 24), ...kept.flatMap((r) => [r.header, r.frame])]));

    const { report, run } = await analyzeJson([out]);
    expect(run.code).toBe(0);
    expect(report.findings.filter((f) => f.code === 'fragment.overlap')).toEqual([]);
    const incomplete = report.findings.find((f) => f.code === 'fragment.incomplete');
    expect(incomplete?.count).toBe(1);
    expect(incomplete?.explanation).toMatch(/ipfrag_max_dist/);
    const hop = report.hops[0];
    expect(hop?.fragments.overlaps).toBe(0);
    // Every datagram but the one that lost its fragment is rebuilt, the later one with the reused ID too.
    expect(hop?.fragments.reassembled).toBe(firsts.length - 1);
  });
});
