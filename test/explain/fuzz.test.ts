// Seeded fuzzing of the explainer: real tcpdump and tshark text cut at random places, lines
// wrapped, glued, duplicated, dropped, bytes flipped and binary junk mixed in. Whatever comes in,
// the explainer never throws, hands every line back unchanged and in order, and every verdict's
// words are filled (no template left open). Each failure replays from its seed.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createExplainer } from '../../src/explain/explain.js';
import { renderOutput, renderSummary } from '../../src/explain/render.js';
import { lineText } from '../../src/findings/catalog.js';
import { SAMPLES } from '../decode/helpers.js';
import { prng } from '../helpers/prng.js';

const TCPDUMP = spawnSync('tcpdump', ['--version'], { encoding: 'utf8' }).status === 0;
const TSHARK = spawnSync('tshark', ['--version'], { encoding: 'utf8' }).status === 0;

function source(): string[] {
  const lines: string[] = [];
  const add = (tool: string, args: string[]) => {
    const r = spawnSync(tool, args, { encoding: 'utf8', maxBuffer: 1 << 26 });
    if (r.status === 0) lines.push(...r.stdout.split('\n').slice(0, 600));
  };
  add('tcpdump', ['-vv', '-nn', '-r', join(SAMPLES, 'fragmenting-underlay', 'host1-phy0.pcap')]);
  add('tcpdump', ['-vv', '-nn', '-e', '-r', join(SAMPLES, 'pmtu-underlay', 'host1-tap0.pcap')]);
  add('tcpdump', ['-vv', '-nn', '-r', join(SAMPLES, 'geneve-jumbo-underlay', 'host1-phy0.pcap')]);
  add('tshark', ['-r', join(SAMPLES, 'fragmenting-underlay', 'host1-phy0.pcap')]);
  return lines;
}

/** One mangled copy of the lines. */
function mangle(lines: readonly string[], random: () => number): string[] {
  const out: string[] = [];
  const pick = (n: number) => Math.floor(random() * n);
  for (const line of lines) {
    const r = random();
    if (r < 0.05) continue; // dropped
    if (r < 0.15) {
      out.push(line.slice(0, pick(line.length + 1))); // cut
    } else if (r < 0.22) {
      const at = pick(line.length + 1); // wrapped
      out.push(line.slice(0, at), line.slice(at));
    } else if (r < 0.27 && out.length > 0) {
      out[out.length - 1] += line; // glued to the line before
    } else if (r < 0.32) {
      const chars = [...line];
      for (let k = 0; k < 3 && chars.length > 0; k++)
        chars[pick(chars.length)] = String.fromCharCode(pick(0x3000));
      out.push(chars.join('')); // characters flipped
    } else if (r < 0.34) {
      out.push(Array.from({ length: pick(200) }, () => String.fromCharCode(pick(256))).join('')); // junk
    } else if (r < 0.37) {
      out.push(line, line); // duplicated
    } else {
      out.push(line);
    }
  }
  return out;
}

describe.skipIf(!TCPDUMP || !TSHARK)(
  `explain under mangled text${TCPDUMP && TSHARK ? '' : ' (skipped: tcpdump or tshark not installed)'}`,
  () => {
    it('never throws, echoes every line in order, fills every verdict’s words', () => {
      const lines = source();
      expect(lines.length).toBeGreaterThan(1000);
      let verdicts = 0;
      for (let seed = 1; seed <= 25; seed++) {
        const input = mangle(lines, prng(seed)).map((l) => l.replace(/[\r\n]/g, ' '));
        const explainer = createExplainer();
        const options = { json: false, summaryOnly: false, color: false };
        const echoed: string[] = [];
        const take = (outputs: ReturnType<typeof explainer.push>) => {
          for (const o of outputs) {
            if (o.kind === 'line') echoed.push(o.text);
            else
              for (const v of o.explained.verdicts.filter((x) => x.notable)) {
                verdicts++;
                const words = lineText(v.code, v.facts);
                expect(words, `seed ${seed}: ${v.code}`).not.toMatch(/\{~?\w+(\|list)?\}/);
              }
            expect(() => renderOutput(o, options)).not.toThrow();
            expect(() => renderOutput(o, { ...options, json: true })).not.toThrow();
          }
        };
        for (const line of input) take(explainer.push(line));
        take(explainer.flush());
        expect(echoed, `seed ${seed}`).toEqual(input);
        const summary = renderSummary(explainer.summary(), options);
        expect(summary, `seed ${seed}`).not.toMatch(/\{~?\w+(\|list)?\}/);
      }
      expect(verdicts).toBeGreaterThan(1000);
    });
  },
);
