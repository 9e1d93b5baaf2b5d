// The hops of one hypervisor only, as `hopscope live --follow TAP` captures them (tap, bridge,
// tunnel device, NIC), from the lab's real recordings: the order the traffic gives must be the
// path's, and a path given in that order must not be called contradicted. The bridge is the hard
// one: its own capture sees a forwarded frame only after the frame left the port it went to, so
// its timestamps (and its ACK waits) sit on the far side of its neighbours.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { analyzeJson } from '../analyze/helpers.js';
import { labScenarios, samplesDir, type Topology } from '../helpers/lab-signatures.js';

const cases = labScenarios().flatMap((scenario) => {
  const topology = JSON.parse(readFileSync(join(samplesDir, scenario, 'topology.json'), 'utf8')) as Topology;
  const hosts = [...new Set(topology.path.filter((p) => p.kind !== 'guest').map((p) => p.host))];
  // Only hosts whose path has a bridge: the case at stake.
  return hosts
    .filter((host) => topology.path.some((p) => p.host === host && p.kind === 'bridge'))
    .map((host) => [scenario, host, topology] as const);
});

describe.each(cases)('%s, the hops of %s alone', (scenario, host, topology) => {
  const entries = topology.path.filter((p) => p.host === host && p.kind !== 'any');
  const names = entries.map((p) => p.file.replace(/\.pcap$/, ''));
  const files = entries.map((p) => join(samplesDir, scenario, p.file)).sort();
  const kinds = entries.flatMap((p) => ['--hop', `${p.file.replace(/\.pcap$/, '')}=${p.kind}`]);

  it('orders them as the path runs, the bridge between the tap and the tunnel device', async () => {
    const { report } = await analyzeJson([...kinds, ...files]);
    const bulk = report.paths.find((p) => /:5201$/.test(p.flow));
    expect(bulk?.orderedBy).toBe('evidence');
    expect(bulk?.hops.map((h) => h.hop)).toEqual(names);
  });

  it('does not call the path order contradicted when given (as --follow gives it)', async () => {
    const { report } = await analyzeJson([...kinds, '--path', names.join(','), ...files]);
    const contradicted = report.findings.filter((f) => f.code === 'capture.order-contradicted');
    expect(contradicted.map((f) => f.facts)).toEqual([]);
  });
});
