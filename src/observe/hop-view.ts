/**
 * What a hop's counters say when a report is made, without disturbing the analysis (a live
 * session is asked again and again): the hop's kind and MTU where only the traffic tells them
 * (marked as derived: kindSource 'traffic', mtuSource 'inferred'), and the hop-wide findings
 * drawn from its counters, as new records with the facts the catalogue's templates need.
 */

import { MTU_ADVICE_FACTS, mtuAdvice } from '../findings/mtu-advice.js';
import { type FindingRecord, newRecord, storeRecords } from '../findings/store.js';
import { layerNames, type NotableClass } from './checksums.js';
import type { HopIdentity, HopState } from './hop.js';

export interface HopView extends HopIdentity {
  state: HopState;
}

export function viewHop(hop: HopState): HopView {
  const view: HopView = {
    name: hop.name,
    kind: hop.kind,
    kindSource: hop.kindSource,
    mtu: hop.mtu,
    mtuSource: hop.mtuSource,
    snaplen: hop.snaplen,
    state: hop,
  };
  if (hop.offloads !== undefined) view.offloads = hop.offloads;
  if (
    view.kind === 'unknown' &&
    hop.tunnels.vxlan + hop.tunnels.geneve + hop.tunnels.gre + hop.tunnels.ipip > 0
  ) {
    // Captures that show tunnel packets were taken on the underlay side of the tunnel endpoint.
    view.kind = 'physical';
    view.kindSource = 'traffic';
  }
  if (view.mtu === null && hop.fragments.maxFragment > 0) {
    // The largest fragment is the MTU rounded down to the 8-byte fragment unit (plus header).
    view.mtu = hop.fragments.maxFragment;
    view.mtuSource = 'inferred';
  }
  return view;
}

const CHECKSUM_FINDINGS: ReadonlyArray<[NotableClass, FindingRecord['code']]> = [
  ['partial', 'checksum.partial'],
  ['lco', 'checksum.lco'],
  ['bad', 'checksum.bad'],
  ['unverifiable', 'checksum.unverifiable'],
];

/** Zero checksum fields that are not "no checksum" as the protocol allows it. */
const ZERO_FINDINGS: ReadonlyArray<['ipv4Tso' | 'udp6', FindingRecord['code']]> = [
  ['ipv4Tso', 'checksum.ipv4-tso'],
  ['udp6', 'checksum.udp6-zero'],
];

/** The hop's findings with their facts complete: the store's records (copied) and the checksum classes. */
export function hopFindings(view: HopView): FindingRecord[] {
  const hop = view.state;
  const out: FindingRecord[] = [];
  const c = hop.checksums;
  for (const [cls, code] of CHECKSUM_FINDINGS) {
    const count = c.counts[cls];
    if (count === 0) continue;
    const seen = c.seen[cls];
    const record = newRecord(code, hop.name, seen.firstTime);
    record.lastTime = seen.lastTime;
    record.count = count;
    record.evidence = [...seen.frames];
    record.facts = { layers: layerNames(c.layers[cls]) };
    if (cls === 'unverifiable') record.facts.snaplen = hop.snaplen;
    if (cls === 'lco') record.facts.inner = 'TCP';
    out.push(record);
  }
  for (const [kind, code] of ZERO_FINDINGS) {
    const seen = c.zeroKinds[kind];
    if (seen.count === 0) continue;
    const record = newRecord(code, hop.name, seen.firstTime);
    record.lastTime = seen.lastTime;
    record.count = seen.count;
    record.evidence = [...seen.frames];
    out.push(record);
  }
  for (const stored of storeRecords(hop.findings)) {
    const record: FindingRecord = {
      ...stored,
      evidence: [...stored.evidence],
      facts: { ...stored.facts },
      derived: [...stored.derived],
    };
    if (record.code === 'fragment.ip' || record.code === 'fragment.outer') fragmentFacts(view, record);
    if (record.code === 'segment.super-frame' || record.code === 'segment.udp-super-frame')
      offloadFacts(view, record);
    out.push(record);
  }
  return out;
}

/**
 * What the device's own offload features say about its super-frames, when a live capture read
 * them (ethtool -k): received ones against GRO, sent ones (and a guest's, through its tap) against
 * TSO/GSO. The catalogue's `system` phrase turns it into words; files carry no features.
 */
export function offloadFacts(view: HopView, record: FindingRecord): void {
  const offloads = view.offloads;
  if (offloads === undefined) return;
  const direction = record.facts.direction;
  if (direction === 'unknown') {
    // Sent or received, the capture does not say: both features, for the reader to weigh.
    if (offloads.gro === undefined || (offloads.tso === undefined && offloads.gso === undefined)) return;
    record.facts.offloadHop = view.name;
    record.facts.gro = offloads.gro;
    record.facts.tso = offloads.tso === 'on' || offloads.gso === 'on' ? 'on' : 'off';
    record.facts.systemOffload = 'either';
    return;
  }
  const sending = direction === 'outgoing' || direction === 'incoming-from-guest';
  const state = sending
    ? offloads.tso === 'on' || offloads.gso === 'on'
      ? 'on'
      : offloads.tso === undefined && offloads.gso === undefined
        ? undefined
        : 'off'
    : offloads.gro;
  if (state !== 'on' && state !== 'off') return;
  record.facts.offloadHop = view.name;
  record.facts.systemOffload = `${sending ? 'tso' : 'gro'}-${state}`;
}

/** A fragmenting link cuts data at 8-byte steps: its MTU lies in [largest fragment, largest fragment + 7]. */
const FRAGMENT_STEP_SLACK = 7;

/**
 * The MTU facts of a fragment finding, and for tunnels the numbers of the fix. The MTU that cut
 * the fragments comes from the hop (given, topology) unless the fragments say otherwise: inferred
 * from the largest fragment when the hop's MTU is unknown, and also when the fragments are smaller
 * than the hop's MTU would cut (fragmented upstream of the capture point). From fragments it is a
 * range, largest fragment .. + 7, and the fix is given for its lower bound (it fits either way).
 */
function fragmentFacts(view: HopView, record: FindingRecord): void {
  const facts = record.facts;
  const maxFragment = view.state.fragments.maxFragment;
  let mtu = view.mtu ?? maxFragment;
  let source: string | null = view.mtuSource;
  facts.maxFragment = maxFragment;
  if (view.mtuSource === 'inferred') {
    facts.mtuMax = maxFragment + FRAGMENT_STEP_SLACK;
    record.derived.push('mtu', 'mtuMax');
  } else if (view.mtu !== null && maxFragment > 0 && maxFragment + FRAGMENT_STEP_SLACK < view.mtu) {
    // This hop would cut larger fragments (IPv4 or IPv6, its largest is within 7 bytes of its
    // MTU): they were cut before the capture point.
    facts.hopMtu = view.mtu;
    mtu = maxFragment;
    source = 'upstream';
    facts.mtuMax = maxFragment + FRAGMENT_STEP_SLACK;
    record.derived.push('mtu', 'mtuMax');
  }
  facts.mtu = mtu;
  facts.mtuSource = source;
  if (record.code !== 'fragment.outer' || typeof facts.overhead !== 'number') return;
  const advice = mtuAdvice(
    mtu,
    facts.overhead,
    facts.innerSize as number,
    (facts.innerHeaders as number | undefined) ?? 40,
  );
  Object.assign(facts, advice);
  record.derived.push(...MTU_ADVICE_FACTS);
}
