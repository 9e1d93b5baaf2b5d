// explain and analyze agree, frame by frame, on every capture of every lab scenario: the text that
// `tcpdump -vv -nn -r` and `tshark -r` print for a capture, read by the explainer, proves for a
// frame only classes that analyze gives that frame from the bytes (a checksum's class on the same
// layer, a TCP super-frame or not). Where the text lacks what a verdict needs it proves nothing,
// which is allowed; but the comparison must bite: thousands of checksums and super-frame verdicts
// are compared, of every class the lab shows. One test per scenario, the tools run asynchronously:
// the worker stays responsive.
import { execFile, spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { SAMPLES } from '../decode/helpers.js';
import { compareWithAnalyze, createTally, explainText } from '../helpers/explain-compare.js';
import { frameClasses } from '../helpers/frame-classes.js';

const run = promisify(execFile);
const TCPDUMP = spawnSync('tcpdump', ['--version'], { encoding: 'utf8' }).status === 0;
const TSHARK = spawnSync('tshark', ['--version'], { encoding: 'utf8' }).status === 0;

function scenarios(): Array<{ name: string; captures: string[] }> {
  const out: Array<{ name: string; captures: string[] }> = [];
  for (const entry of readdirSync(SAMPLES, { withFileTypes: true })) {
    if (!entry.isDirectory()) continue;
    const dir = join(SAMPLES, entry.name);
    const captures = readdirSync(dir)
      .filter((f) => /\.pcap$/.test(f))
      .map((f) => join(dir, f))
      .sort();
    if (captures.length > 0) out.push({ name: entry.name, captures });
  }
  return out.sort((a, b) => a.name.localeCompare(b.name));
}

async function text(tool: string, args: string[]): Promise<string> {
  const { stdout } = await run(tool, args, { encoding: 'utf8', maxBuffer: 1 << 28 });
  return stdout;
}

describe.skipIf(!TCPDUMP || !TSHARK)(
  `explain agrees with analyze on the lab captures${TCPDUMP && TSHARK ? '' : ' (skipped: tcpdump or tshark not installed)'}`,
  () => {
    const tally = createTally();
    const tsharkTally = createTally();
    let captures = 0;
    const all = scenarios();

    for (const scenario of all) {
      it(`${scenario.name}: frame by frame, from tcpdump -vv -nn -r and tshark -r text`, async () => {
        for (const path of scenario.captures) {
          captures++;
          const analyze = frameClasses(path);
          const fromDump = explainText(await text('tcpdump', ['-vv', '-nn', '-r', path]));
          // One record per frame: the explainer found where every packet's text starts.
          expect(fromDump.length, `${path}: tcpdump records`).toBe(analyze.length);
          compareWithAnalyze(`${path} tcpdump`, fromDump, analyze, tally);
          const fromShark = explainText(await text('tshark', ['-r', path]));
          expect(fromShark.length, `${path}: tshark lines`).toBe(analyze.length);
          compareWithAnalyze(`${path} tshark`, fromShark, analyze, tsharkTally);
        }
        expect([...tally.disagreements, ...tsharkTally.disagreements].slice(0, 20)).toEqual([]);
      });
    }

    it('the comparison bites: every class the lab shows in the text is proved and agreed on', () => {
      console.log(
        `explain vs analyze: ${captures} captures; tcpdump ${JSON.stringify(tally.checksums)} checksums, ` +
          `super-frames ${JSON.stringify(tally.superFrames)}; tshark super-frames ${JSON.stringify(tsharkTally.superFrames)}`,
      );
      expect(all.length).toBeGreaterThan(10);
      expect(captures).toBeGreaterThan(50);
      expect(tally.checksums.partial ?? 0).toBeGreaterThan(1000);
      expect(tally.checksums.lco ?? 0).toBeGreaterThan(100);
      expect(tally.checksums.good ?? 0).toBeGreaterThan(10);
      expect(tally.superFrames.yes).toBeGreaterThan(100);
      expect(tally.superFrames.no).toBeGreaterThan(1000);
      expect(tsharkTally.superFrames.yes).toBeGreaterThan(100);
    });
  },
);
