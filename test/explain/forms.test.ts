// tcpdump's other forms of the same captures: -e, -tttt, -tt, -t, -# and -q, -v, the default, and
// `-i any` (the lab's recordings turned into Linux cooked v2 with each frame's direction). For each
// form every packet is found (one record per frame) and whatever the text proves agrees with
// analyze. And real corruption: a lab capture whose TCP checksums were changed after capture is
// "really wrong" for explain exactly where analyze calls it bad.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { lineText } from '../../src/findings/catalog.js';
import { SAMPLES } from '../decode/helpers.js';
import { compareWithAnalyze, createTally, explainText } from '../helpers/explain-compare.js';
import { frameClasses } from '../helpers/frame-classes.js';
import { parsePcap } from '../helpers/parse-pcap.js';
import { type Edit, rewritePcap } from '../helpers/rewrite-pcap.js';

const TCPDUMP = spawnSync('tcpdump', ['--version'], { encoding: 'utf8' }).status === 0;
const dir = mkdtempSync(join(tmpdir(), 'hopscope-explain-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const TAP = join(SAMPLES, 'jumbo-underlay', 'host1-tap0.pcap');
const PHY = join(SAMPLES, 'jumbo-underlay', 'host1-phy0.pcap');
const FRAGMENTING = join(SAMPLES, 'fragmenting-underlay', 'host1-phy0.pcap');

function tcpdump(path: string, flags: string[]): string {
  const r = spawnSync('tcpdump', [...flags, '-r', path], { encoding: 'utf8', maxBuffer: 1 << 28 });
  expect(r.status, `tcpdump ${flags.join(' ')} -r ${path}`).toBe(0);
  return r.stdout;
}

/**
 * The capture as Linux cooked v2 (tcpdump -i any): the Ethernet header replaced by SLL2's, with
 * packet type "outgoing" for frames the first guest sent and "host" (in) for the others.
 */
function asCookedV2(path: string, out: string): void {
  const file = parsePcap(readFileSync(path), path);
  const parts: Buffer[] = [];
  const header = Buffer.from(readFileSync(path).subarray(0, 24));
  header.writeUInt32LE(276, 20);
  parts.push(header);
  let sender: string | null = null;
  for (const r of file.records) {
    const data = Buffer.from(r.data);
    const ip = data.subarray(14);
    const source = data.readUInt16BE(12) === 0x0800 ? ip.subarray(12, 16).join('.') : '';
    sender ??= source;
    const sll = Buffer.alloc(20);
    sll.writeUInt16BE(data.readUInt16BE(12), 0);
    sll.writeUInt32BE(1, 4);
    sll.writeUInt16BE(1, 8);
    sll[10] = source === sender ? 4 : 0;
    sll[11] = 6;
    data.copy(sll, 12, 6, 12);
    const rec = Buffer.alloc(16);
    const seconds = Number(r.timeNs / 1_000_000_000n);
    rec.writeUInt32LE(seconds, 0);
    rec.writeUInt32LE(Number((r.timeNs % 1_000_000_000n) / 1000n), 4);
    rec.writeUInt32LE(r.capturedLength - 14 + 20, 8);
    rec.writeUInt32LE(r.originalLength - 14 + 20, 12);
    parts.push(rec, sll, ip);
  }
  writeFileSync(out, Buffer.concat(parts));
}

describe.skipIf(!TCPDUMP)(`tcpdump forms${TCPDUMP ? '' : ' (skipped: tcpdump not installed)'}`, () => {
  const forms: string[][] = [
    ['-vv', '-nn', '-e'],
    ['-vv', '-nn', '-tttt'],
    ['-vv', '-nn', '-tt'],
    ['-vv', '-nn', '-#'],
    ['-vv', '-nn', '-t'],
    ['-v', '-n'],
    ['-nn'],
    ['-nn', '-q'],
  ];
  for (const path of [TAP, PHY, FRAGMENTING]) {
    it(`finds every packet and agrees with analyze: ${path.split('/').slice(-2).join('/')}`, () => {
      const analyze = frameClasses(path);
      for (const flags of forms) {
        const records = explainText(tcpdump(path, flags));
        expect(records.length, `tcpdump ${flags.join(' ')}: records`).toBe(analyze.length);
        const tally = createTally();
        compareWithAnalyze(`${path} ${flags.join(' ')}`, records, analyze, tally);
        expect(tally.disagreements.slice(0, 5)).toEqual([]);
        if (flags.includes('-vv')) expect(tally.checksums.partial ?? 0).toBeGreaterThan(10);
        if (path === TAP) expect(tally.superFrames.yes).toBeGreaterThan(5);
      }
    });
  }

  it('-i any: In/Out say where super-frames come from', () => {
    const cooked = join(dir, 'tap0-any.pcap');
    asCookedV2(TAP, cooked);
    const analyze = frameClasses(cooked);
    const text = tcpdump(cooked, ['-vv', '-nn']);
    expect(text).toMatch(/ Out IP \(/);
    const records = explainText(text);
    expect(records.length).toBe(analyze.length);
    const tally = createTally();
    compareWithAnalyze(cooked, records, analyze, tally);
    expect(tally.disagreements.slice(0, 5)).toEqual([]);
    const supers = records.flatMap((r) => r.verdicts.filter((v) => v.proof.superFrame === true));
    expect(supers.length).toBeGreaterThan(5);
    for (const v of supers) {
      expect(v.facts.direction).toBe('outgoing');
      expect(lineText(v.code, v.facts)).toContain('TSO/GSO, outgoing');
      expect(v.facts.segments).toBe(Math.ceil((v.facts.payload as number) / (v.facts.mss as number)));
    }
  });

  /** Adds 0x0101 to the 16-bit field at offset `at` of the frame's data. */
  const flip = (e: Edit, at: number) => {
    const where = e.at(at);
    e.bytes.writeUInt16BE((e.bytes.readUInt16BE(where) + 0x0101) & 0xffff, where);
  };

  /** A copy of `path` changed by `change`, read by analyze and by explain from tcpdump -vv -nn, compared. */
  async function changedCopy(path: string, name: string, change: (e: Edit) => void) {
    const out = join(dir, `${name}-${path.split('/').pop()}`);
    await rewritePcap(path, out, (e) => {
      change(e);
      return true;
    });
    const analyze = frameClasses(out);
    const records = explainText(tcpdump(out, ['-vv', '-nn']));
    const tally = createTally();
    compareWithAnalyze(out, records, analyze, tally);
    expect(tally.disagreements.slice(0, 5)).toEqual([]);
    return { analyze, records, tally };
  }

  it('a checksum changed after capture is really wrong, where analyze says so too', async () => {
    for (const path of [TAP, PHY]) {
      const { records, tally } = await changedCopy(path, 'corrupt', (e) => {
        for (let i = 0; i < e.packet.levelCount; i++) {
          const level = e.packet.levels[i];
          if (level !== undefined && level.protocol === 6 && level.l4ChecksumOffset >= 0)
            flip(e, level.l4ChecksumOffset);
        }
      });
      expect(tally.checksums.bad ?? 0).toBeGreaterThan(20);
      const words = records.flatMap((r) =>
        r.verdicts.filter((v) => v.code === 'checksum.bad').map((v) => lineText(v.code, v.facts)),
      );
      expect(words[0]).toMatch(
        /really wrong, or rewritten after capture\. Capture the same flow at the hop before/,
      );
    }
  });

  it('an IPv4 header checksum changed after capture is wrong, outer or inner, where analyze says so too', async () => {
    // Every third frame's last IPv4 header: the guest's own on the tap, the inner one in the tunnel.
    for (const path of [TAP, PHY]) {
      let n = 0;
      const { analyze, records } = await changedCopy(path, 'ip-corrupt', (e) => {
        if (n++ % 3 !== 0) return;
        for (let i = e.packet.levelCount - 1; i >= 0; i--) {
          const level = e.packet.levels[i];
          if (level === undefined || level.ipVersion !== 4 || level.ipOffset < 0) continue;
          flip(e, level.ipOffset + 10);
          return;
        }
      });
      const said = records.flatMap((r) => r.verdicts.filter((v) => v.code === 'checksum.ipv4-bad'));
      const wrongHeaders = analyze.filter((f) =>
        f.checksums.some((c) => c.transport === 'ipv4' && c.cls === 'bad'),
      );
      // Each wrong header analyze counts is one tcpdump printed and explain called wrong.
      expect(said.length).toBe(wrongHeaders.length);
      expect(said.length).toBeGreaterThan(20);
      // compareWithAnalyze matched each one's layer (outer or inner) too; the NIC's are the tunnel's inner.
      expect(said.some((v) => v.proof.checksum?.inner === true)).toBe(path === PHY);
      expect(lineText('checksum.ipv4-bad', said[0]?.facts ?? {})).toMatch(
        /^(inner )?IPv4 header cksum 0x[0-9a-f]{4} is wrong \(0x[0-9a-f]{4} would verify\)\. No offload explains it/,
      );
    }
  });
});
