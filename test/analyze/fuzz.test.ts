// Seeded fuzzing of the whole analysis (read -> decode -> observe -> findings -> report): lab
// captures with flipped bytes, cut tails, lying lengths and splices of two captures. No exception
// may escape, frame counts stay sane, and the report still builds. A failure prints its seed.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import { analyzeCaptures } from '../../src/pipeline/analyze.js';
import { emptyOverrides } from '../../src/pipeline/hops.js';
import { buildReport } from '../../src/report/model.js';
import { renderText } from '../../src/report/text.js';
import { prng } from '../helpers/prng.js';

const samples = join(import.meta.dirname, '..', '..', 'samples');
const sources = [
  'pmtu-underlay/guest1-eth0.pcap',
  'fragmenting-underlay/host1-vxlan-97.pcap',
  'geneve-jumbo-underlay/host2-tap0.pcap',
  'ipv6-jumbo-underlay/guest2-eth0.pcap',
].map((f) => readFileSync(join(samples, f)));
const pcapng = readFileSync(join(import.meta.dirname, '..', 'fixtures', 'pmtu-guest1-eth0.pcapng'));
const dir = mkdtempSync(join(tmpdir(), 'hopscope-fuzz-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function mutate(seed: number): Buffer {
  const rand = prng(seed);
  const pick = (n: number) => Math.floor(rand() * n);
  const all = [...sources, pcapng];
  let bytes = Buffer.from(all[pick(all.length)] as Buffer);
  const kind = pick(5);
  if (kind === 0) {
    // Flip bytes, mostly in the first 2 KB where the headers are.
    for (let i = pick(40) + 1; i > 0; i--) {
      const at = rand() < 0.7 ? pick(Math.min(2048, bytes.length)) : pick(bytes.length);
      bytes[at] = pick(256);
    }
  } else if (kind === 1) {
    bytes = bytes.subarray(0, pick(bytes.length));
  } else if (kind === 2) {
    // A huge or zero length field somewhere after the file header.
    const at = 24 + pick(Math.max(1, bytes.length - 32));
    bytes.writeUInt32LE(rand() < 0.5 ? 0xffffffff : 0, at - (at % 4));
  } else if (kind === 3) {
    const other = all[pick(all.length)] as Buffer;
    const cut = pick(bytes.length);
    bytes = Buffer.concat([bytes.subarray(0, cut), other.subarray(pick(other.length))]);
  } else {
    // Random bytes inside packets: decoders meet nonsense behind valid record headers.
    for (let i = 0; i < 400; i++) bytes[40 + pick(Math.max(1, bytes.length - 40))] = pick(256);
  }
  return bytes;
}

describe('fuzzing the whole analysis', () => {
  const logger = pino({ level: 'silent' });
  // HOPSCOPE_FUZZ_RUNS=5000 npx vitest run test/analyze/fuzz.test.ts for a longer hunt.
  const runs = Number(process.env.HOPSCOPE_FUZZ_RUNS ?? 150);
  it(`survives ${runs} mutated captures with sane counts and a report that builds`, async () => {
    for (let seed = 1; seed <= runs; seed++) {
      const bytes = mutate(seed);
      const path = join(dir, `fuzz-${seed}.pcap`);
      writeFileSync(path, bytes);
      try {
        // Two copies as two hops, so correlation runs on hostile input too.
        const twin = `${path}.twin.pcap`;
        writeFileSync(twin, bytes);
        const result = await analyzeCaptures([path, twin], { overrides: emptyOverrides(), logger });
        const frames = result.hops.reduce((sum, hop) => sum + hop.state.frames, 0);
        expect(frames).toBeLessThanOrEqual(2 * Math.ceil(bytes.length / 12));
        expect(result.captures[0]?.frames ?? 0).toBe(result.captures[1]?.frames ?? 0);
        const report = buildReport(result, 'fuzz');
        for (const finding of report.findings) {
          expect(finding.count).toBeGreaterThan(0);
          expect(finding.evidence.length).toBeLessThanOrEqual(10);
          for (const e of finding.evidence) expect(e.frame).toBeLessThanOrEqual(Math.max(frames + 1, 1));
        }
        for (const hop of report.hops) {
          for (const value of Object.values(hop.checksums)) expect(value).toBeGreaterThanOrEqual(0);
          expect(hop.fragments.reassembled).toBeLessThanOrEqual(hop.fragments.count);
        }
        expect(() => JSON.stringify(report)).not.toThrow();
        expect(renderText(report, { color: false }).length).toBeGreaterThan(0);
      } catch (error) {
        throw new Error(`seed ${seed}: ${(error as Error).stack}`);
      }
    }
  });
});
