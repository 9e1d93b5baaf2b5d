// UDP segmentation offload (UDP GSO, as QUIC and WireGuard use): datagrams larger than any link
// carries, seen whole at one hop, are super-frames, and across hops the split into segment-sized
// datagrams is found like TCP's. Hand-built captures of one QUIC-like flow at two hops.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { analyzeJson } from '../analyze/helpers.js';
import { buildPcap } from '../capture/helpers.js';
import { datagram } from '../helpers/udp-datagram.js';

const dir = mkdtempSync(join(tmpdir(), 'hopscope-udpgso-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('UDP GSO', () => {
  it('counts whole datagrams as super-frames at one hop and finds the split into 1,200-byte datagrams at the next', async () => {
    const segment = 1200;
    const bursts = 20;
    const sender: Array<[number, number, Buffer, number]> = [];
    const wire: Array<[number, number, Buffer, number]> = [];
    let id = 0;
    for (let burst = 0; burst < bursts; burst++) {
      const usec = burst * 2000;
      // 15 full segments and a short last one, handed down as one datagram.
      const whole = datagram(4, 15 * segment + 700, id++);
      sender.push([1_800_000_000, usec, whole.bytes, whole.length]);
      for (let k = 0; k < 16; k++) {
        const d = datagram(4, k < 15 ? segment : 700, id++);
        wire.push([1_800_000_000, usec + 50 + k, d.bytes, d.length]);
      }
    }
    const a = join(dir, 'quic-sender.pcap');
    const b = join(dir, 'quic-wire.pcap');
    writeFileSync(a, buildPcap(true, 0xa1b2c3d4, sender, 64));
    writeFileSync(b, buildPcap(true, 0xa1b2c3d4, wire, 64));
    const { report } = await analyzeJson([b, a]);

    const hopA = report.hops.find((h) => h.name === 'quic-sender');
    expect(hopA?.superFrames).toMatchObject({ count: bursts, udp: bursts, maxPayload: 15 * segment + 700 });
    expect(report.hops.find((h) => h.name === 'quic-wire')?.superFrames.count).toBe(0);
    const finding = report.findings.find((f) => f.code === 'segment.udp-super-frame');
    expect(finding).toMatchObject({
      hop: 'quic-sender',
      count: bursts,
      flow: 'UDP 10.1.0.1:4433 -> 10.2.0.2:50000',
    });
    expect(finding?.title).toMatch(/^UDP datagrams larger than the link carries/);

    const path = report.paths.find((p) => p.flowKey.protocol === 17);
    expect(path?.hops.map((h) => h.hop)).toEqual(['quic-sender', 'quic-wire']);
    expect(path?.mssEstimated).toEqual({ mss: segment, from: 'segments' });
    expect(path?.splitAt).toMatchObject({ from: 'quic-sender', to: 'quic-wire', segmentSize: segment });
  });
});
