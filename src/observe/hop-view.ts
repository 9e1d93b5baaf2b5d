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
  if (view.kind === 'unknown' && hop.tunnels.vxlan + hop.tunnels.geneve + hop.tunnels.gre > 0) {
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
    out.push(record);
  }
  return out;
}

/** The MTU facts of a fragment finding, and for tunnels the numbers of the fix. */
function fragmentFacts(view: HopView, record: FindingRecord): void {
  const facts = record.facts;
  const maxFragment = view.state.fragments.maxFragment;
  const mtu = view.mtu ?? maxFragment;
  facts.maxFragment = maxFragment;
  facts.mtu = mtu;
  facts.mtuSource = view.mtuSource;
  if (view.mtuSource === 'inferred') record.derived.push('mtu');
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
