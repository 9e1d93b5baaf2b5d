// Two tenants using the same inner 5-tuple in two VNIs are two paths: the underlay hop that
// carries both keeps them apart by VNI, and each tenant's own hops join the one whose sequence
// space they share. Hand-built captures: each tenant's tap, and the physical NIC carrying both.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { analyzeJson } from '../analyze/helpers.js';
import { buildPcap } from '../capture/helpers.js';
import { tcpFrame } from '../helpers/tcp-frames.js';

const dir = mkdtempSync(join(tmpdir(), 'hopscope-tenants-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

type Record = [number, number, Buffer, number];

describe('two tenants, one 5-tuple', () => {
  it('are two paths, each through its own tap and the shared NIC, told apart by VNI', async () => {
    const tenants = [
      { name: 'tap-a', vni: 97, isn: 1_000_000, segments: 60 },
      { name: 'tap-b', vni: 98, isn: 3_000_000_000, segments: 30 },
    ];
    const nic: Record[] = [];
    for (const [t, tenant] of tenants.entries()) {
      const tap: Record[] = [];
      for (let i = 0; i < tenant.segments; i++) {
        const seq = tenant.isn + i * 1448;
        const usec = i * 1000 + t * 300;
        const plain = tcpFrame({ seq, payload: 1448 });
        const wrapped = tcpFrame({ seq, payload: 1448, vni: tenant.vni });
        tap.push([1_800_000_000, usec, plain.bytes, plain.length]);
        nic.push([1_800_000_000, usec + 50, wrapped.bytes, wrapped.length]);
        const ack = tcpFrame({ seq: 1, ack: seq + 1448, payload: 0, reverse: true });
        const ackWrapped = tcpFrame({ seq: 1, ack: seq + 1448, payload: 0, reverse: true, vni: tenant.vni });
        nic.push([1_800_000_000, usec + 200, ackWrapped.bytes, ackWrapped.length]);
        tap.push([1_800_000_000, usec + 250, ack.bytes, ack.length]);
      }
      writeFileSync(join(dir, `${tenant.name}.pcap`), buildPcap(true, 0xa1b2c3d4, tap, 128));
    }
    nic.sort((x, y) => x[1] - y[1]);
    writeFileSync(join(dir, 'phy0.pcap'), buildPcap(true, 0xa1b2c3d4, nic, 128));

    const { report } = await analyzeJson(['tap-a', 'tap-b', 'phy0'].map((n) => join(dir, `${n}.pcap`)));
    expect(report.paths).toHaveLength(2);
    const byVni = new Map(report.paths.map((p) => [p.flowKey.vni, p]));
    expect(byVni.get(97)?.hops.map((h) => h.hop)).toEqual(['tap-a', 'phy0']);
    expect(byVni.get(98)?.hops.map((h) => h.hop)).toEqual(['tap-b', 'phy0']);
    expect(byVni.get(97)?.hops[1]?.frames).toBe(60);
    expect(byVni.get(98)?.hops[1]?.frames).toBe(30);
    expect(byVni.get(97)?.flow).toBe('TCP 10.97.0.150:40000 -> 10.97.0.103:5201 (VNI 97)');
  });
});
