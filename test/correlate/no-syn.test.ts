// Captures started mid-connection (no SYN anywhere, the usual case): the MSS is estimated from what
// the hops carried, and splits, merges and NIC TSO are still found; a datagram rebuilt from
// fragments is not a super-frame even against a known MTU. Lab recordings with their SYNs cut out.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readCapture } from '../../src/capture/read.js';
import { decodeFrameAt } from '../../src/decode/decode.js';
import { createPacket, IpProto, TcpFlag } from '../../src/decode/packet.js';
import { analyzeJson } from '../analyze/helpers.js';

const root = join(import.meta.dirname, '..', '..');
const scratch = mkdtempSync(join(tmpdir(), 'hopscope-nosyn-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

/** A copy of a classic pcap without the frames that carry a TCP SYN (at any level). */
async function withoutSyns(path: string, out: string): Promise<number> {
  const bytes = readFileSync(path);
  const parts: Buffer[] = [bytes.subarray(0, 24)];
  const packet = createPacket();
  let dropped = 0;
  await readCapture(path, {
    onInterface: () => {},
    onProblem: () => {},
    onFrame: (frame) => {
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
        if (level?.protocol === IpProto.TCP && level.l4Offset >= 0 && (level.tcpFlags & TcpFlag.SYN) !== 0) {
          dropped++;
          return;
        }
      }
      // The record as it was: header (16 bytes, little-endian lab files) and data.
      const header = Buffer.alloc(16);
      header.writeUInt32LE(frame.timeSec, 0);
      header.writeUInt32LE(Math.round(frame.timeNs / 1000), 4);
      header.writeUInt32LE(frame.capturedLength, 8);
      header.writeUInt32LE(frame.originalLength, 12);
      parts.push(
        header,
        Buffer.from(frame.buffer.subarray(frame.dataOffset, frame.dataOffset + frame.capturedLength)),
      );
    },
  });
  writeFileSync(out, Buffer.concat(parts));
  return dropped;
}

async function scenarioWithoutSyns(scenario: string): Promise<string[]> {
  const dir = join(root, 'samples', scenario);
  const topology = JSON.parse(readFileSync(join(dir, 'topology.json'), 'utf8')) as {
    path: Array<{ file: string }>;
  };
  const outDir = mkdtempSync(join(scratch, `${scenario}-`));
  writeFileSync(join(outDir, 'topology.json'), readFileSync(join(dir, 'topology.json')));
  const files: string[] = [];
  let dropped = 0;
  for (const { file } of topology.path) {
    dropped += await withoutSyns(join(dir, file), join(outDir, file));
    files.push(join(outDir, file));
  }
  expect(dropped, 'the lab recordings hold the handshakes').toBeGreaterThan(0);
  return ['--topology', join(outDir, 'topology.json'), ...files];
}

describe('captures without SYNs', () => {
  it('fragmenting-underlay: split and merge found with an estimated MSS; rebuilt outer datagrams are not super-frames', async () => {
    const { report } = await analyzeJson(await scenarioWithoutSyns('fragmenting-underlay'));
    const path = report.paths[0];
    expect(path?.mss).toBeNull();
    expect(path?.mssEstimated).toEqual({ mss: 1448, from: 'segments' });
    expect(path?.splitAt).toMatchObject({ from: 'host1-vxlan-97', to: 'host1-phy0', segmentSize: 1448 });
    expect(path?.mergedAt).toMatchObject({ from: 'host2-phy0', to: 'host2-vxlan-97' });
    // The NIC's 1,550-byte outer datagrams came in 1,400-byte fragments: no super-frame there,
    // though the topology gives its MTU (1400) and no MSS is known.
    const nic = report.hops.find((h) => h.name === 'host1-phy0');
    expect(nic?.mtu).toBe(1400);
    expect(nic?.fragments.reassembled).toBeGreaterThan(1000);
    expect(nic?.superFrames.count).toBe(0);
    // The guest's 65,160-byte frames still are.
    expect(report.hops.find((h) => h.name === 'guest1-eth0')?.superFrames.count).toBeGreaterThan(0);
  });

  it('nic-tunnel-tso: the NIC hardware split after the last capture point is still named', async () => {
    const { report } = await analyzeJson(await scenarioWithoutSyns('nic-tunnel-tso'));
    const path = report.paths[0];
    expect(path?.mss).toBeNull();
    expect(path?.mssEstimated).not.toBeNull();
    expect(path?.splitAt).toMatchObject({ from: 'host1-phy0', to: null, mechanism: 'nic-tso' });
  });
});
