// IPv6 and plain UDP, which the lab's overlays do not carry: hand-built frames with a correct, a
// partial (offload) and a wrong checksum, written as a pcap, printed by tcpdump -vv -nn and read
// by the explainer, which must agree with analyze on every frame and prove each class.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { lineText } from '../../src/findings/catalog.js';
import { fold, pseudoHeaderSumV4, pseudoHeaderSumV6, sumWords } from '../../src/observe/checksum.js';
import { buildPcap } from '../capture/helpers.js';
import { compareWithAnalyze, createTally, explainText } from '../helpers/explain-compare.js';
import { frameClasses } from '../helpers/frame-classes.js';

const TCPDUMP = spawnSync('tcpdump', ['--version'], { encoding: 'utf8' }).status === 0;
const dir = mkdtempSync(join(tmpdir(), 'hopscope-explain-v6-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

type Sum = 'good' | 'partial' | 'bad';

function checksum(kind: Sum, pseudo: number, segment: Buffer): number {
  if (kind === 'partial') return fold(pseudo);
  const good = ~fold(pseudo + sumWords(segment, 0, segment.length)) & 0xffff;
  return kind === 'good' ? good : (good + 0x1111) & 0xffff;
}

/** Ethernet + IPv6 (fd00::1 -> fd00::2) + TCP with `payload` bytes. */
function tcp6(kind: Sum, payload: number): Buffer {
  const tcp = Buffer.alloc(20 + payload);
  tcp.writeUInt16BE(40000, 0);
  tcp.writeUInt16BE(5201, 2);
  tcp.writeUInt32BE(1000, 4);
  tcp[12] = 5 << 4;
  tcp[13] = 0x10;
  tcp.writeUInt16BE(512, 14);
  for (let i = 20; i < tcp.length; i++) tcp[i] = (i * 13) & 0xff;
  const ip = Buffer.alloc(40);
  ip[0] = 0x60;
  ip.writeUInt16BE(tcp.length, 4);
  ip[6] = 6;
  ip[7] = 64;
  ip[8] = 0xfd;
  ip[23] = 1;
  ip[24] = 0xfd;
  ip[39] = 2;
  tcp.writeUInt16BE(checksum(kind, pseudoHeaderSumV6(ip, 0, 6, tcp.length), tcp), 16);
  const eth = Buffer.alloc(14);
  eth.writeUInt16BE(0x86dd, 12);
  return Buffer.concat([eth, ip, tcp]);
}

/** Ethernet + IPv4 (10.1.0.1 -> 10.1.0.2) + UDP 5353 with `payload` bytes. */
function udp4(kind: Sum, payload: number): Buffer {
  const udp = Buffer.alloc(8 + payload);
  udp.writeUInt16BE(40000, 0);
  udp.writeUInt16BE(9999, 2);
  udp.writeUInt16BE(udp.length, 4);
  for (let i = 8; i < udp.length; i++) udp[i] = (i * 7) & 0xff;
  const ip = Buffer.alloc(20);
  ip[0] = 0x45;
  ip.writeUInt16BE(20 + udp.length, 2);
  ip[8] = 64;
  ip[9] = 17;
  Buffer.from([10, 1, 0, 1, 10, 1, 0, 2]).copy(ip, 12);
  ip.writeUInt16BE(~fold(sumWords(ip, 0, 20)) & 0xffff, 10);
  udp.writeUInt16BE(checksum(kind, pseudoHeaderSumV4(ip, 0, 17, udp.length), udp), 6);
  const eth = Buffer.alloc(14);
  eth.writeUInt16BE(0x0800, 12);
  return Buffer.concat([eth, ip, udp]);
}

describe.skipIf(!TCPDUMP)(
  `IPv6 TCP and plain UDP checksums${TCPDUMP ? '' : ' (skipped: tcpdump not installed)'}`,
  () => {
    it('correct, partial and wrong: each proved from tcpdump -vv text, as analyze says', () => {
      const kinds: Sum[] = ['good', 'partial', 'bad'];
      const frames = [...kinds.map((k) => tcp6(k, 100)), ...kinds.map((k) => udp4(k, 60))];
      const path = join(dir, 'sums.pcap');
      writeFileSync(
        path,
        buildPcap(
          true,
          0xa1b2c3d4,
          frames.map((f, i) => [1000, i, f, f.length]),
        ),
      );
      const text = spawnSync('tcpdump', ['-vv', '-nn', '-r', path], { encoding: 'utf8' }).stdout;
      const records = explainText(text);
      const analyze = frameClasses(path);
      expect(records.length).toBe(frames.length);
      const tally = createTally();
      compareWithAnalyze(path, records, analyze, tally);
      expect(tally.disagreements).toEqual([]);
      const classes = records.map((r) => r.verdicts.find((v) => v.proof.checksum)?.proof.checksum?.cls);
      expect(classes).toEqual([...kinds, ...kinds]);
      const partial6 = records[1]?.verdicts.find((v) => v.notable);
      expect(lineText('checksum.partial', partial6?.facts ?? {})).toContain(
        'TCP length 120 (IPv6 payload length)',
      );
      const bad4 = records[5]?.verdicts.find((v) => v.notable);
      expect(bad4?.code).toBe('checksum.bad');
    });
  },
);
