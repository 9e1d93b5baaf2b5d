// NAT between hops: DNAT on the receiving host (a floating IP) rewrites the server's address, the
// TCP sequence space stays. A lab recording edited as the translation would show it: the server
// has a floating address up to host2's NIC and its own from host2's tunnel device on.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { analyzeJson } from '../analyze/helpers.js';
import { fixIpv4Checksum, rewritePcap } from '../helpers/rewrite-pcap.js';

const root = join(import.meta.dirname, '..', '..');
const scratch = mkdtempSync(join(tmpdir(), 'hopscope-nat-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

/** A copy of a recording with `from` rewritten to `to` in every IPv4 header (header checksums fixed). */
async function translate(path: string, out: string, from: number[], to: number[]): Promise<number> {
  let rewritten = 0;
  await rewritePcap(path, out, (e) => {
    for (let i = 0; i < e.packet.levelCount; i++) {
      const level = e.packet.levels[i];
      if (level === undefined || level.ipVersion !== 4) continue;
      for (const at of [e.at(level.srcOffset), e.at(level.dstOffset)]) {
        if (!from.every((b, k) => e.bytes[at + k] === b)) continue;
        to.forEach((b, k) => {
          e.bytes[at + k] = b;
        });
        rewritten++;
      }
      fixIpv4Checksum(e, level);
    }
    return true;
  });
  return rewritten;
}

describe('NAT between hops', () => {
  it('follows the connection across a translation and says where the addresses changed', async () => {
    const dir = join(root, 'samples', 'jumbo-underlay');
    const topology = JSON.parse(readFileSync(join(dir, 'topology.json'), 'utf8')) as {
      path: Array<{ file: string }>;
    };
    const names = topology.path.map((p) => p.file.replace(/\.pcap$/, ''));
    const translated = new Set(names.slice(0, names.indexOf('host2-phy0') + 1));
    // The server as recorded, and a floating address in its subnet it is reached by before the NAT.
    const plain = await analyzeJson(names.map((n) => join(dir, `${n}.pcap`)));
    const server = (plain.report.paths[0]?.flowKey.dst ?? '').split('.').map(Number);
    expect(server).toHaveLength(4);
    const floating = [...server.slice(0, 3), ((server[3] as number) + 97) % 254];
    const files: string[] = [];
    for (const name of names) {
      const out = join(scratch, `${name}.pcap`);
      if (translated.has(name))
        expect(await translate(join(dir, `${name}.pcap`), out, server, floating)).toBeGreaterThan(0);
      else writeFileSync(out, readFileSync(join(dir, `${name}.pcap`)));
      files.push(out);
    }
    const { report } = await analyzeJson(files.reverse());
    const path = report.paths[0];
    expect(path?.hops.map((h) => h.hop)).toEqual(names);
    expect(path?.splitAt).toMatchObject({ from: 'host1-vxlan-97', to: 'host1-phy0' });
    expect(path?.mergedAt).toMatchObject({ from: 'host2-phy0', to: 'host2-vxlan-97' });
    const nat = report.findings.find((f) => f.code === 'nat.between-hops');
    expect(nat?.facts).toMatchObject({ from: 'host2-phy0', to: 'host2-vxlan-97' });
    const flow = plain.report.paths[0]?.flow ?? '';
    expect(nat?.facts.after).toBe(flow);
    expect(nat?.facts.before).toBe(flow.replace(` -> ${server.join('.')}:`, ` -> ${floating.join('.')}:`));
    expect(nat?.facts.beforeHops).toEqual([...translated]);
  });
});
