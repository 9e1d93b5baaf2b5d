// explain and analyze agree, frame by frame, on every capture of every lab scenario: the text that
// `tcpdump -vv -nn -r` and `tshark -r` print for a capture, read by the explainer, proves for a
// frame only classes that analyze gives that frame from the bytes (a checksum's class on the same
// layer, a TCP super-frame or not). Where the text lacks what a verdict needs it proves nothing,
// which is allowed; but the comparison must bite: thousands of checksums and super-frame verdicts
// are compared, of every class the lab shows.
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SAMPLES } from '../decode/helpers.js';
import { compareWithAnalyze, createTally, explainText } from '../helpers/explain-compare.js';
import { frameClasses } from '../helpers/frame-classes.js';

const TCPDUMP = spawnSync('tcpdump', ['--version'], { encoding: 'utf8' }).status === 0;
const TSHARK = spawnSync('tshark', ['--version'], { encoding: 'utf8' }).status === 0;

function captures(): string[] {
  const out: string[] = [];
  for (const scenario of readdirSync(SAMPLES, { withFileTypes: true })) {
    if (!scenario.isDirectory()) continue;
    const dir = join(SAMPLES, scenario.name);
    for (const f of readdirSync(dir)) if (/\.pcap$/.test(f)) out.push(join(dir, f));
  }
  return out.sort();
}

describe.skipIf(!TCPDUMP || !TSHARK)(
  'explain agrees with analyze on the lab captures (skipped: tcpdump or tshark not installed)',
  () => {
    it('frame by frame, from tcpdump -vv -nn -r and tshark -r text', () => {
      const tally = createTally();
      const tsharkTally = createTally();
      const all = captures();
      expect(all.length).toBeGreaterThan(50);
      for (const path of all) {
        const analyze = frameClasses(path);
        const dump = spawnSync('tcpdump', ['-vv', '-nn', '-r', path], {
          encoding: 'utf8',
          maxBuffer: 1 << 28,
        });
        expect(dump.status, `tcpdump on ${path}`).toBe(0);
        const fromDump = explainText(dump.stdout);
        // One record per frame: the explainer found where every packet's text starts.
        expect(fromDump.length, `${path}: tcpdump records`).toBe(analyze.length);
        compareWithAnalyze(`${path} tcpdump`, fromDump, analyze, tally);
        const shark = spawnSync('tshark', ['-n', '-r', path], { encoding: 'utf8', maxBuffer: 1 << 28 });
        expect(shark.status, `tshark on ${path}`).toBe(0);
        const fromShark = explainText(shark.stdout);
        expect(fromShark.length, `${path}: tshark lines`).toBe(analyze.length);
        compareWithAnalyze(`${path} tshark`, fromShark, analyze, tsharkTally);
      }
      console.log(
        `explain vs analyze: ${all.length} captures; tcpdump ${JSON.stringify(tally.checksums)} checksums, ` +
          `super-frames ${JSON.stringify(tally.superFrames)}; tshark super-frames ${JSON.stringify(tsharkTally.superFrames)}`,
      );
      expect([...tally.disagreements, ...tsharkTally.disagreements].slice(0, 20)).toEqual([]);
      // The comparison bites: every class the lab shows in tcpdump's text is proved and agreed on.
      expect(tally.checksums.partial ?? 0).toBeGreaterThan(1000);
      expect(tally.checksums.lco ?? 0).toBeGreaterThan(100);
      expect(tally.checksums.good ?? 0).toBeGreaterThan(10);
      expect(tally.superFrames.yes).toBeGreaterThan(100);
      expect(tally.superFrames.no).toBeGreaterThan(1000);
      expect(tsharkTally.superFrames.yes).toBeGreaterThan(100);
    });
  },
);
