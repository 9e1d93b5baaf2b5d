// Captures started mid-connection (no SYN anywhere, the usual case): the MSS is estimated from what
// the hops carried, and splits, merges and NIC TSO are still found where the SYNs put them; a
// datagram rebuilt from fragments is not a super-frame even against a known MTU. Lab recordings
// with their SYNs cut out, compared with the same recordings whole.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { IpProto, TcpFlag } from '../../src/decode/packet.js';
import type { Report } from '../../src/report/model.js';
import { analyzeJson } from '../analyze/helpers.js';
import { rewritePcap } from '../helpers/rewrite-pcap.js';

const root = join(import.meta.dirname, '..', '..');
const scratch = mkdtempSync(join(tmpdir(), 'hopscope-nosyn-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

interface Topology {
  path: Array<{ file: string; kind: string; host: string }>;
}

/** The scenario's captures as recorded, and copied without the frames that carry a TCP SYN. */
async function scenario(name: string): Promise<{ whole: string[]; cut: string[]; topology: Topology }> {
  const dir = join(root, 'samples', name);
  const topology = JSON.parse(readFileSync(join(dir, 'topology.json'), 'utf8')) as Topology;
  const outDir = mkdtempSync(join(scratch, `${name}-`));
  writeFileSync(join(outDir, 'topology.json'), readFileSync(join(dir, 'topology.json')));
  let dropped = 0;
  for (const { file } of topology.path) {
    await rewritePcap(join(dir, file), join(outDir, file), ({ packet }) => {
      for (let i = 0; i < packet.levelCount; i++) {
        const level = packet.levels[i];
        if (level?.protocol === IpProto.TCP && level.l4Offset >= 0 && (level.tcpFlags & TcpFlag.SYN) !== 0) {
          dropped++;
          return false;
        }
      }
      return true;
    });
  }
  expect(dropped, 'the lab recordings hold the handshakes').toBeGreaterThan(0);
  const args = (d: string) => [
    '--topology',
    join(d, 'topology.json'),
    ...topology.path.map((p) => join(d, p.file)),
  ];
  return { whole: args(dir), cut: args(outDir), topology };
}

/** The most frequent payload size on the wire: at the sending host's physical NIC. */
function wireSegment(report: Report, topology: Topology): number {
  const nic = topology.path
    .find((p) => p.host === 'host1' && p.kind === 'physical')
    ?.file.replace(/\.pcap$/, '');
  return report.paths[0]?.hops.find((h) => h.hop === nic)?.sizes[0]?.size ?? Number.NaN;
}

describe('captures without SYNs', () => {
  it('fragmenting-underlay: split and merge where the SYNs put them; rebuilt outer datagrams are not super-frames', async () => {
    const { whole, cut, topology } = await scenario('fragmenting-underlay');
    const withSyns = (await analyzeJson(whole)).report;
    const { report } = await analyzeJson(cut);
    const path = report.paths[0];
    expect(path?.mss).toBeNull();
    expect(path?.mssEstimated).toEqual({ mss: wireSegment(withSyns, topology), from: 'segments' });
    expect(path?.splitAt).toEqual(withSyns.paths[0]?.splitAt);
    expect(path?.mergedAt).toEqual(withSyns.paths[0]?.mergedAt);
    // The NIC's outer datagrams, larger than its MTU, came in fragments: no super-frame there,
    // though the topology gives its MTU and no MSS is known.
    const nicName = topology.path
      .find((p) => p.host === 'host1' && p.kind === 'physical')
      ?.file.replace(/\.pcap$/, '');
    const nic = report.hops.find((h) => h.name === nicName);
    expect(nic?.mtu).not.toBeNull();
    expect(nic?.fragments.reassembled).toBeGreaterThan(0);
    expect(nic?.superFrames.count).toBe(0);
    // The guest's super-frames still are, as many as with the SYNs.
    const guest = (r: Report) => r.hops.find((h) => h.kind === 'guest')?.superFrames.count;
    expect(guest(report)).toBeGreaterThan(0);
    expect(guest(report)).toBe(guest(withSyns));
  });

  it('nic-tunnel-tso: the NIC hardware split after the last capture point is still named', async () => {
    const { whole, cut } = await scenario('nic-tunnel-tso');
    const withSyns = (await analyzeJson(whole)).report;
    const { report } = await analyzeJson(cut);
    const path = report.paths[0];
    expect(path?.mss).toBeNull();
    expect(path?.mssEstimated).not.toBeNull();
    expect(withSyns.paths[0]?.splitAt?.mechanism).toBe('nic-tso');
    expect(path?.splitAt).toMatchObject({
      from: withSyns.paths[0]?.splitAt?.from,
      to: null,
      mechanism: 'nic-tso',
    });
  });
});
