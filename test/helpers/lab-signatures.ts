// Signature checks shared by the committed samples' tests and the fresh CI recording: the
// relations each scenario must show, derived from the capture (MSS from the SYN, MTUs from
// topology.json), not from our samples' sizes.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'vitest';
import { type CaptureSummary, max, mode, summarizeCapture } from './lab-summary.js';

export interface Topology {
  knobs: {
    underlayMtu: number;
    overlayMtu: number;
    underlay: string;
    encapsulation: string;
    nicTunnelTso: string;
    guestTso: string;
    pmtuDiscovery: string;
    snaplen: number;
    durationSec?: number;
    tunnelDf?: string;
    dropRxEvery?: number;
    dropBridgeEvery?: number;
    filterIcmpFrag?: boolean;
  };
  addresses: Record<string, string>;
  path: Array<{ file: string; host: string; interface: string; kind: string; mtu: number }>;
}

export const samplesDir = join(import.meta.dirname, '..', '..', 'samples');

/** Every committed lab scenario: every folder of samples/ with a topology.json. */
function allScenarios(): string[] {
  return readdirSync(samplesDir).filter((d) => {
    try {
      readFileSync(join(samplesDir, d, 'topology.json'));
      return true;
    } catch {
      return false;
    }
  });
}

/**
 * Recordings with a fault made on purpose (lab.sh --drop-*, --filter-icmp-frag, or a --duration
 * run that stalls): the transfer loses data or never ends, so the clean recordings' expectations
 * (nothing lost, the whole transfer at every hop) do not hold; test/correlate/faults.test.ts
 * checks them.
 */
export function isFaultScenario(knobs: Topology['knobs']): boolean {
  return (
    (knobs.dropRxEvery ?? 0) > 0 ||
    (knobs.dropBridgeEvery ?? 0) > 0 ||
    knobs.filterIcmpFrag === true ||
    (knobs.durationSec ?? 0) > 0
  );
}

function knobsOf(scenario: string): Topology['knobs'] {
  return (JSON.parse(readFileSync(join(samplesDir, scenario, 'topology.json'), 'utf8')) as Topology).knobs;
}

/** The committed clean lab scenarios: everything the lab recorded without a fault. */
export function labScenarios(): string[] {
  return allScenarios().filter((d) => !isFaultScenario(knobsOf(d)));
}

/** The committed scenarios recorded with a fault. */
export function faultScenarios(): string[] {
  return allScenarios().filter((d) => isFaultScenario(knobsOf(d)));
}

export function loadScenario(dir: string): { topology: Topology; hops: Map<string, CaptureSummary> } {
  const topology = JSON.parse(readFileSync(join(dir, 'topology.json'), 'utf8')) as Topology;
  const hops = new Map<string, CaptureSummary>();
  for (const p of topology.path) hops.set(`${p.host}-${p.kind}`, summarizeCapture(join(dir, p.file)));
  return { topology, hops };
}

export function hop(hops: Map<string, CaptureSummary>, key: string): CaptureSummary {
  const h = hops.get(key);
  if (!h) throw new Error(`no capture for ${key}`);
  return h;
}

/** Segment size the guest's TCP uses: MSS from the SYN less the options its data carries. */
export function segmentSize(guest: CaptureSummary): number {
  expect(guest.synMss, 'guest capture holds the SYN with its MSS').not.toBeNull();
  return (guest.synMss ?? 0) - (guest.dataOptionBytes ?? 0);
}

/** Scenario 1 and its variants: super-frames before the NIC, MSS-sized segments on it, GRO after. */
export function expectSoftwareGsoAtNic(dir: string): void {
  const { hops } = loadScenario(dir);
  const guest = hop(hops, 'guest1-guest');
  const seg = segmentSize(guest);
  for (const key of ['guest1-guest', 'host1-tap', 'host1-bridge']) {
    expect(max(hop(hops, key).dataPayloads), `${key} carries super-frames`).toBeGreaterThan(seg);
  }
  const tunnelKey = [...hops.keys()].find((k) => k.startsWith('host1-') && /vxlan|geneve/.test(k)) ?? '';
  expect(max(hop(hops, tunnelKey).dataPayloads), 'tunnel device still sees super-frames').toBeGreaterThan(
    seg,
  );
  const phy = hop(hops, 'host1-physical');
  expect(phy.tunnelPorts.size, 'physical NIC carries tunnel packets').toBeGreaterThan(0);
  expect(max(phy.dataPayloads), 'split into segments on the physical NIC').toBe(seg);
  expect(mode(phy.dataPayloads)).toBe(seg);
  expect(phy.fragments).toHaveLength(0);
  const rxTunnel = [...hops.keys()].find((k) => k.startsWith('host2-') && /vxlan|geneve/.test(k)) ?? '';
  expect(max(hop(hops, rxTunnel).dataPayloads), 'GRO merges again on the receiver').toBeGreaterThan(seg);
}
