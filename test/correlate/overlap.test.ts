// Captures that do not overlap in time share no data: their clock offset is unknown (reported as
// null, never "clocks agree"), and no split or merge is drawn from sizes seen at different moments.
// A lab recording cut in two with editcap: the guest's first half against the NIC's second half.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readCapture } from '../../src/capture/read.js';
import { analyzeJson, runCli } from '../analyze/helpers.js';

const root = join(import.meta.dirname, '..', '..');
const haveEditcap = spawnSync('editcap', ['-h'], { stdio: 'ignore' }).status === 0;
if (!haveEditcap) console.log('overlap: editcap missing (apt-get install wireshark-common): skipped');
const scratch = mkdtempSync(join(tmpdir(), 'hopscope-overlap-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

/** The time of the capture's middle frame: half its frames (and of its data) before, half after. */
async function middleTime(path: string): Promise<number> {
  const times: number[] = [];
  await readCapture(path, {
    onInterface: () => {},
    onProblem: () => {},
    onFrame: (f) => times.push(f.timeSec + f.timeNs / 1e9),
  });
  return times[times.length >> 1] as number;
}

describe.skipIf(!haveEditcap)('captures that do not overlap', () => {
  it('leave the clock offset unknown and draw no split from different moments', async () => {
    const dir = join(root, 'samples', 'jumbo-underlay');
    const guest = join(dir, 'guest1-eth0.pcap');
    const nic = join(dir, 'host1-phy0.pcap');
    const middle = await middleTime(guest);
    const early = join(scratch, 'guest1-eth0.pcap');
    const late = join(scratch, 'host1-phy0.pcap');
    execFileSync('editcap', ['-B', middle.toFixed(6), guest, early]);
    execFileSync('editcap', ['-A', (middle + 0.001).toFixed(6), nic, late]);

    // Whole, the two captures give a split with a measured offset: the cut is what changes it.
    const whole = await analyzeJson([guest, nic]);
    expect(whole.report.paths[0]?.splitAt).not.toBeNull();
    expect(Object.values(whole.report.clockOffsets).every((o) => o !== null)).toBe(true);

    const { report } = await analyzeJson([early, late]);
    const path = report.paths[0];
    expect(path?.hops.map((h) => h.hop).sort()).toEqual(['guest1-eth0', 'host1-phy0']);
    expect(path?.splitAt?.to ?? null).toBeNull();
    expect(report.findings.some((f) => f.code === 'segment.split' && f.facts.to !== null)).toBe(false);
    expect(Object.values(report.clockOffsets).filter((o) => o === null)).toHaveLength(1);
    const text = await runCli(['analyze', '--no-color', early, late]);
    expect(text.stdout).not.toMatch(/clocks agree/);
    expect(text.stdout).toMatch(/clock unknown, no data in common: (guest1-eth0|host1-phy0)/);
  });
});
