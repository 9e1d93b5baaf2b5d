// NAT between hops: DNAT on the receiving host (a floating IP) rewrites the server's address, the
// TCP sequence space stays. A lab recording edited as the translation would show it: the server is
// 10.97.0.200 up to host2's NIC and 10.97.0.103 from host2's tunnel device on.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readCapture } from '../../src/capture/read.js';
import { decodeFrameAt } from '../../src/decode/decode.js';
import { createPacket } from '../../src/decode/packet.js';
import { analyzeJson } from '../analyze/helpers.js';

const root = join(import.meta.dirname, '..', '..');
const scratch = mkdtempSync(join(tmpdir(), 'hopscope-nat-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

const SERVER = [10, 97, 0, 103];
const FLOATING = [10, 97, 0, 200];

/** A copy of a classic (little-endian) pcap with the server's address rewritten in every IPv4 header. */
async function translate(path: string, out: string): Promise<number> {
  const parts: Buffer[] = [readFileSync(path).subarray(0, 24)];
  const packet = createPacket();
  let rewritten = 0;
  await readCapture(path, {
    onInterface: () => {},
    onProblem: () => {},
    onFrame: (frame) => {
      const bytes = Buffer.from(
        frame.buffer.subarray(frame.dataOffset, frame.dataOffset + frame.capturedLength),
      );
      decodeFrameAt(
        frame.linkType,
        frame.buffer,
        frame.dataOffset,
        frame.capturedLength,
        frame.originalLength,
        packet,
      );
      for (let i = 0; i < packet.levelCount; i++) {
        const level = packet.levels[i];
        if (level === undefined || level.ipVersion !== 4) continue;
        const ip = level.ipOffset - frame.dataOffset;
        for (const at of [level.srcOffset - frame.dataOffset, level.dstOffset - frame.dataOffset]) {
          if (SERVER.every((b, k) => bytes[at + k] === b)) {
            FLOATING.forEach((b, k) => {
              bytes[at + k] = b;
            });
            rewritten++;
          }
        }
        bytes.writeUInt16BE(0, ip + 10);
        let sum = 0;
        for (let k = 0; k < level.ipHeaderLength; k += 2) sum += bytes.readUInt16BE(ip + k);
        while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
        bytes.writeUInt16BE(~sum & 0xffff, ip + 10);
      }
      const header = Buffer.alloc(16);
      header.writeUInt32LE(frame.timeSec, 0);
      header.writeUInt32LE(Math.round(frame.timeNs / 1000), 4);
      header.writeUInt32LE(frame.capturedLength, 8);
      header.writeUInt32LE(frame.originalLength, 12);
      parts.push(header, bytes);
    },
  });
  writeFileSync(out, Buffer.concat(parts));
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
    const files: string[] = [];
    for (const name of names) {
      const out = join(scratch, `${name}.pcap`);
      if (translated.has(name)) expect(await translate(join(dir, `${name}.pcap`), out)).toBeGreaterThan(0);
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
    expect(nat?.facts.before).toMatch(/^TCP 10\.97\.0\.150:\d+ -> 10\.97\.0\.200:5201$/);
    expect(nat?.facts.after).toMatch(/^TCP 10\.97\.0\.150:\d+ -> 10\.97\.0\.103:5201$/);
    expect(nat?.facts.beforeHops).toEqual([...translated]);
  });
});
