// UDP super-frames in tcpdump's text: a whole datagram above any Ethernet link's largest packet
// (UDP GSO before the split, or UDP GRO forwarding after a merge) is said as such, and exactly
// the datagrams analyze counts as UDP super-frames, over IPv4 and IPv6; wire-sized datagrams, a
// tunnel's own UDP and fragments are not. Hand-built captures of a QUIC-like flow, read by the
// real tcpdump -vv -nn.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { lineText } from '../../src/findings/catalog.js';
import { buildPcap } from '../capture/helpers.js';
import { compareWithAnalyze, createTally, explainText } from '../helpers/explain-compare.js';
import { frameClasses } from '../helpers/frame-classes.js';
import { datagram } from '../helpers/udp-datagram.js';

const TCPDUMP = spawnSync('tcpdump', ['--version'], { encoding: 'utf8' }).status === 0;
const dir = mkdtempSync(join(tmpdir(), 'hopscope-explain-udp-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe.skipIf(!TCPDUMP)('explain: UDP super-frames', () => {
  it('says exactly the datagrams analyze counts as UDP super-frames, over IPv4 and IPv6', () => {
    for (const version of [4, 6] as const) {
      const records: Array<[number, number, Buffer, number]> = [];
      // Whole datagrams of 15 segments of 1,200 bytes and a short one, then the wire's datagrams.
      for (let burst = 0; burst < 10; burst++) {
        const whole = datagram(version, 15 * 1200 + 700, burst * 20);
        records.push([1_800_000_000, burst * 2000, whole.bytes, whole.length]);
        for (let k = 0; k < 16; k++) {
          const d = datagram(version, k < 15 ? 1200 : 700, burst * 20 + k + 1);
          records.push([1_800_000_000, burst * 2000 + 50 + k, d.bytes, d.length]);
        }
      }
      // A datagram just under the bound (9,216 bytes of IP packet) is not one.
      const under = datagram(version, 9216 - (version === 4 ? 28 : 48), 999);
      records.push([1_800_000_001, 0, under.bytes, under.length]);
      const path = join(dir, `udp-gso-v${version}.pcap`);
      writeFileSync(path, buildPcap(true, 0xa1b2c3d4, records, 80));
      const text = spawnSync('tcpdump', ['-vv', '-nn', '-r', path], { encoding: 'utf8' });
      expect(text.status).toBe(0);
      const explained = explainText(text.stdout);
      const tally = createTally();
      compareWithAnalyze(path, explained, frameClasses(path), tally);
      expect(tally.disagreements.slice(0, 5)).toEqual([]);
      expect(tally.udpSuperFrames).toEqual({ yes: 10, no: 161 });
      const said = explained.flatMap((e) =>
        e.verdicts.filter((v) => v.code === 'segment.udp-super-frame' && v.notable),
      );
      expect(said).toHaveLength(10);
      expect(lineText('segment.udp-super-frame', said[0]?.facts ?? {})).toMatch(
        new RegExp(
          `^UDP datagram of IP length ${version === 4 ? 18728 : 18748} is more than any Ethernet link carries`,
        ),
      );
    }
  });
});
