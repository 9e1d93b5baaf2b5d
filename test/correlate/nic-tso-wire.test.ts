// A split between two underlay captures (whole at the sender's NIC, segments at the receiver's) is
// the sending NIC's tunnel TSO on the wire, not software GSO. Hand-built VXLAN captures of the
// two physical NICs, headers only as tcpdump -s 128 would keep them.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { analyzeJson } from '../analyze/helpers.js';
import { buildPcap } from '../capture/helpers.js';
import { tcpFrame } from '../helpers/tcp-frames.js';

const dir = mkdtempSync(join(tmpdir(), 'hopscope-tsowire-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('a split between two underlay captures', () => {
  it('is the sending NIC’s TSO on the wire', async () => {
    const mss = 1448;
    const sender: Array<[number, number, Buffer, number]> = [];
    const receiver: Array<[number, number, Buffer, number]> = [];
    let seq = 1_000_000;
    for (let i = 0; i < 40; i++) {
      const whole = tcpFrame({ seq, payload: 10 * mss, vni: 97 });
      sender.push([1_800_000_000, i * 1000, whole.bytes, whole.length]);
      for (let k = 0; k < 10; k++) {
        const s = tcpFrame({ seq: seq + k * mss, payload: mss, vni: 97 });
        receiver.push([1_800_000_000, i * 1000 + 100 + k, s.bytes, s.length]);
      }
      seq += 10 * mss;
      // The receiver's ACK passes its own NIC first, then the sender's: the order of the hops.
      const back = tcpFrame({ seq: 1, ack: seq, payload: 0, reverse: true, vni: 97 });
      receiver.push([1_800_000_000, i * 1000 + 200, back.bytes, back.length]);
      sender.push([1_800_000_000, i * 1000 + 300, back.bytes, back.length]);
    }
    const a = join(dir, 'host1-nic.pcap');
    const b = join(dir, 'host2-nic.pcap');
    writeFileSync(a, buildPcap(true, 0xa1b2c3d4, sender, 128));
    writeFileSync(b, buildPcap(true, 0xa1b2c3d4, receiver, 128));
    const { report } = await analyzeJson([b, a]);
    const path = report.paths[0];
    expect(path?.hops.map((h) => h.hop)).toEqual(['host1-nic', 'host2-nic']);
    expect(path?.splitAt).toMatchObject({
      from: 'host1-nic',
      to: 'host2-nic',
      segmentSize: mss,
      mechanism: 'nic-tso-wire',
    });
    const split = report.findings.find((f) => f.code === 'segment.split');
    expect(split?.title).toMatch(/sending NIC’s hardware TSO, on the wire/);
    expect(split?.explanation).not.toMatch(/software/);
  });
});
