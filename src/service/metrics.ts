/**
 * GET /metrics: the session's counters in Prometheus text, through prom-client. Nothing is counted
 * per frame for it: each metric's collect() reads the hops' own counters (and the capture side's
 * InterfaceStats, and the finding tracker's latest state) when Prometheus scrapes.
 *
 * The hop counters only grow (a session never forgets frames), so they are counters (`_total`,
 * rate() works); collect() sets them to the session's values.
 */

import { Counter, Gauge, Registry } from 'prom-client';
import { CATALOG, type Severity } from '../findings/catalog.js';
import type { HopState } from '../observe/hop.js';
import type { CaptureState, InterfaceStats } from './live-run.js';
import type { StreamFinding } from './tracker.js';

export interface MetricsSources {
  /** The session's hops as they stand (session.exportSources(): no copy, no correlation). */
  hops(): Array<Omit<HopState, 'reassembly'>>;
  interfaces(): InterfaceStats[];
  findings(): StreamFinding[];
  /** Seconds the last snapshot took, and how many snapshots were taken. */
  snapshotSeconds(): number;
}

const CAPTURE_STATES: readonly CaptureState[] = [
  'starting',
  'capturing',
  'waiting',
  'gone',
  'failed',
  'stopped',
];
const CHECKSUM_CLASSES = ['good', 'partial', 'lco', 'zero', 'bad', 'unverifiable'] as const;

export function createMetrics(sources: MetricsSources): Registry {
  const registry = new Registry();
  // Counters set to a value read elsewhere: prom-client counters only add, so from zero (reset in
  // collect). Zeros are series too: increase() in an alert needs the series before its first rise.
  const setCounter = (counter: Counter<string>, labels: Record<string, string>, value: number) => {
    counter.inc(labels, value);
  };
  const hopCounter = (name: string, help: string, value: (hop: Omit<HopState, 'reassembly'>) => number) =>
    new Counter({
      name,
      help,
      labelNames: ['hop'],
      registers: [registry],
      collect() {
        this.reset();
        for (const hop of sources.hops()) setCounter(this, { hop: hop.name }, value(hop));
      },
    });

  hopCounter('hopscope_frames_total', 'Frames observed at the hop', (hop) => hop.frames);
  hopCounter('hopscope_bytes_total', 'Captured bytes observed at the hop', (hop) => hop.bytes);
  hopCounter(
    'hopscope_super_frames_total',
    'TSO/GSO/GRO super-frames (larger than the flow MSS) at the hop',
    (hop) => hop.superFrames.count,
  );
  hopCounter('hopscope_fragments_total', 'IP fragments at the hop', (hop) => hop.fragments.count);
  hopCounter(
    'hopscope_fragmented_datagrams_total',
    'IP datagrams that arrived in fragments at the hop',
    (hop) => hop.fragments.datagrams,
  );
  hopCounter(
    'hopscope_tunnel_packets_total',
    'Tunnel-encapsulated packets (VXLAN, Geneve, GRE, IPIP) at the hop',
    (hop) => hop.tunnels.vxlan + hop.tunnels.geneve + hop.tunnels.gre + hop.tunnels.ipip,
  );
  hopCounter('hopscope_malformed_frames_total', 'Malformed frames at the hop', (hop) => hop.malformed);

  new Counter({
    name: 'hopscope_checksums_total',
    help: 'Checksums by class (good, partial: offload pending, lco, zero, bad: real corruption, unverifiable)',
    labelNames: ['hop', 'class'],
    registers: [registry],
    collect() {
      this.reset();
      for (const hop of sources.hops())
        for (const cls of CHECKSUM_CLASSES)
          setCounter(this, { hop: hop.name, class: cls }, hop.checksums.counts[cls]);
    },
  });

  const interfaceLabels = (s: InterfaceStats) => ({ hop: s.hop, interface: s.interface, backend: s.backend });
  const captureCounter = (name: string, help: string, value: (s: InterfaceStats) => number | null) =>
    new Counter({
      name,
      help,
      labelNames: ['hop', 'interface', 'backend'],
      registers: [registry],
      collect() {
        this.reset();
        for (const s of sources.interfaces()) {
          const v = value(s);
          // null: the backend cannot tell; no sample rather than a zero that would be a claim.
          if (v !== null) this.inc(interfaceLabels(s), v);
        }
      },
    });
  captureCounter('hopscope_capture_frames_total', 'Frames the capture delivered', (s) => s.frames);
  captureCounter('hopscope_capture_bytes_total', 'Bytes the capture delivered', (s) => s.bytes);
  captureCounter(
    'hopscope_capture_dropped_total',
    'Frames the kernel or capture buffer dropped (pcap_stats ps_drop, isb_osdrop)',
    (s) => s.dropped,
  );
  captureCounter(
    'hopscope_capture_interface_dropped_total',
    'Frames the interface itself dropped (ps_ifdrop, isb_ifdrop)',
    (s) => s.ifDropped,
  );
  new Gauge({
    name: 'hopscope_capture_state',
    help: 'The capture state of each interface (1 for its current state)',
    labelNames: ['hop', 'interface', 'backend', 'state'],
    registers: [registry],
    collect() {
      this.reset();
      for (const s of sources.interfaces())
        for (const state of CAPTURE_STATES)
          this.set({ ...interfaceLabels(s), state }, s.state === state ? 1 : 0);
    },
  });

  const severities = new Map<string, Severity>(CATALOG.map((entry) => [entry.code, entry.severity]));
  new Gauge({
    name: 'hopscope_findings',
    help: 'Distinct findings (code at a hop, flow or path) by code and severity',
    labelNames: ['code', 'severity'],
    registers: [registry],
    collect() {
      this.reset();
      // Every code, zero included: an alert on a code that never fired still has a series to read.
      for (const [code, severity] of severities) this.set({ code, severity }, 0);
      for (const f of sources.findings()) this.inc({ code: f.code, severity: f.severity });
    },
  });
  new Counter({
    name: 'hopscope_finding_occurrences_total',
    help: 'Occurrences counted by the findings, by code and severity',
    labelNames: ['code', 'severity'],
    registers: [registry],
    collect() {
      this.reset();
      for (const [code, severity] of severities) this.inc({ code, severity }, 0);
      for (const f of sources.findings()) this.inc({ code: f.code, severity: f.severity }, f.count);
    },
  });
  new Gauge({
    name: 'hopscope_snapshot_seconds',
    help: 'How long the last analysis snapshot took (the finding stream diffs snapshots)',
    registers: [registry],
    collect() {
      this.set(sources.snapshotSeconds());
    },
  });
  // The process metrics every exporter has, by their standard names. prom-client's default set is
  // not used: promtool's lint rejects some of its names (gauges named _total), and it adds an
  // event-loop monitor to a process whose event loop is the capture's.
  new Counter({
    name: 'process_cpu_seconds_total',
    help: 'User and system CPU time spent in seconds',
    registers: [registry],
    collect() {
      const { user, system } = process.cpuUsage();
      this.reset();
      this.inc((user + system) / 1e6);
    },
  });
  new Gauge({
    name: 'process_resident_memory_bytes',
    help: 'Resident memory size in bytes',
    registers: [registry],
    collect() {
      this.set(process.memoryUsage.rss());
    },
  });
  const started = Date.now() / 1000 - process.uptime();
  new Gauge({
    name: 'process_start_time_seconds',
    help: 'Start time of the process since the epoch in seconds',
    registers: [registry],
    collect() {
      this.set(started);
    },
  });
  return registry;
}
