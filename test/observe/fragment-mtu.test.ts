// The MTU a fragment finding names, and the fix it gives: read off the fragments when the hop's MTU
// is unknown (a range, since links cut fragment data at 8-byte steps; the fix for its lower bound)
// or when the fragments are smaller than the capturing hop's MTU would cut (fragmented upstream).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { analyzeJson } from '../analyze/helpers.js';
import type { Topology } from '../helpers/lab-signatures.js';

const dir = join(import.meta.dirname, '..', '..', 'samples', 'fragmenting-underlay');
const topology = JSON.parse(readFileSync(join(dir, 'topology.json'), 'utf8')) as Topology;
const phy = topology.path.find((p) => p.host === 'host1' && p.kind === 'physical');
if (!phy) throw new Error('no host1 physical capture');
const file = join(dir, phy.file);
const hopName = phy.file.replace(/\.pcap$/, '');
const { underlayMtu, overlayMtu } = topology.knobs;
/** IPv4 fragments carry data in 8-byte steps after a 20-byte header. */
const largest = 20 + Math.floor((underlayMtu - 20) / 8) * 8;
const overhead = 50; // VXLAN over IPv4

async function outerFinding(extra: string[]) {
  const { report, run } = await analyzeJson([...extra, file]);
  expect(run.code).toBe(0);
  const f = report.findings.find((x) => x.code === 'fragment.outer');
  if (!f) throw new Error('no fragment.outer');
  return f;
}

describe('fragment MTU facts', () => {
  it('unknown hop MTU: a range from the largest fragment, the fix for its lower bound', async () => {
    const f = await outerFinding([]);
    expect(f.facts.maxFragment).toBe(largest);
    expect(f.facts.mtu).toBe(largest);
    expect(f.facts.mtuMax).toBe(largest + 7);
    expect(f.explanation).toContain(`${largest}..${largest + 7}`);
    expect(f.explanation).toMatch(/8-byte steps/);
    expect(f.fix).toContain(`${largest - overhead} or less`);
    expect(f.fix).toContain(`${overlayMtu + overhead} or more`);
    expect(f.derived).toEqual(expect.arrayContaining(['mtu', 'mtuMax', 'maxOverlayMtu']));
  });

  it('fragments smaller than the capturing hop would cut: the fragment evidence, not the hop MTU', async () => {
    const hopMtu = 9000;
    const f = await outerFinding(['--mtu', `${hopName}=${hopMtu}`]);
    expect(f.facts.mtuSource).toBe('upstream');
    expect(f.facts.hopMtu).toBe(hopMtu);
    expect(f.facts.mtu).toBe(largest);
    expect(f.explanation).toContain(`${largest}..${largest + 7} on a link before this capture point`);
    expect(f.explanation).toContain(`${hopMtu}-byte MTU here`);
    expect(f.fix).toContain(`${largest - overhead} or less`);
    expect(f.fix).not.toContain(`${hopMtu - overhead}`);
  });

  it('the hop MTU that made these fragments stays the hop MTU', async () => {
    const f = await outerFinding(['--mtu', `${hopName}=${underlayMtu}`]);
    expect(f.facts.mtu).toBe(underlayMtu);
    expect(f.facts.mtuMax).toBeUndefined();
    expect(f.fix).toContain(`${underlayMtu - overhead} or less`);
  });
});
