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
import { createExplainer, type Explained } from '../../src/explain/explain.js';
import { SAMPLES } from '../decode/helpers.js';
import { type FrameClasses, frameClasses } from '../helpers/frame-classes.js';

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

/** The explainer's records for a text, in order. */
export function explainText(text: string): Explained[] {
  const explainer = createExplainer();
  const out: Explained[] = [];
  const take = (outputs: ReturnType<typeof explainer.push>) => {
    for (const o of outputs) if (o.kind === 'explained') out.push(o.explained);
  };
  for (const line of text.split('\n')) take(explainer.push(line));
  take(explainer.flush());
  return out;
}

interface Tally {
  checksums: Record<string, number>;
  superFrames: { yes: number; no: number };
  disagreements: string[];
}

function compare(
  path: string,
  tool: string,
  records: Explained[],
  analyze: FrameClasses[],
  tally: Tally,
): void {
  for (const { record, verdicts } of records) {
    const frame = analyze[record.frame - 1];
    if (frame === undefined) {
      tally.disagreements.push(`${path} ${tool}: record ${record.frame} has no frame`);
      continue;
    }
    for (const v of verdicts) {
      const c = v.proof.checksum;
      if (c !== undefined) {
        const found = frame.checksums.some(
          (a) => a.cls === c.cls && a.transport === c.transport && a.inner === c.inner,
        );
        if (!found)
          tally.disagreements.push(
            `${path} ${tool} frame ${record.frame}: explain ${c.inner ? 'inner ' : ''}${c.transport} ${c.cls}, analyze ${JSON.stringify(frame.checksums)}`,
          );
        else tally.checksums[c.cls] = (tally.checksums[c.cls] ?? 0) + 1;
      }
      if (v.proof.superFrame !== undefined) {
        const analyzed = frame.superFrames > 0;
        if (analyzed !== v.proof.superFrame)
          tally.disagreements.push(
            `${path} ${tool} frame ${record.frame}: explain super-frame ${v.proof.superFrame}, analyze ${analyzed}`,
          );
        else if (analyzed) tally.superFrames.yes++;
        else tally.superFrames.no++;
      }
    }
  }
}

describe.skipIf(!TCPDUMP || !TSHARK)(
  'explain agrees with analyze on the lab captures (skipped: tcpdump or tshark not installed)',
  () => {
    it('frame by frame, from tcpdump -vv -nn -r and tshark -r text', () => {
      const tally: Tally = { checksums: {}, superFrames: { yes: 0, no: 0 }, disagreements: [] };
      const tsharkTally: Tally = { checksums: {}, superFrames: { yes: 0, no: 0 }, disagreements: [] };
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
        compare(path, 'tcpdump', fromDump, analyze, tally);
        const shark = spawnSync('tshark', ['-n', '-r', path], { encoding: 'utf8', maxBuffer: 1 << 28 });
        expect(shark.status, `tshark on ${path}`).toBe(0);
        const fromShark = explainText(shark.stdout);
        expect(fromShark.length, `${path}: tshark lines`).toBe(analyze.length);
        compare(path, 'tshark', fromShark, analyze, tsharkTally);
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
