/**
 * The overlay/underlay MTU arithmetic along one flow's path: where the tunnel's outer packets were
 * fragmented (the first hop that rebuilt this flow's data from fragments), or, with no fragment,
 * the ICMP "fragmentation needed" a hop saw for this flow. Either proves the overlay MTU plus the
 * encapsulation exceeds the underlay: mtu.overlay-exceeds-underlay, with the fix in numbers.
 */

import { CODE_INDEX } from '../findings/catalog.js';
import { MTU_ADVICE_FACTS, mtuAdvice } from '../findings/mtu-advice.js';
import type { FindingRecord } from '../findings/store.js';
import { sameFlow } from '../observe/flow-key.js';
import type { HopView } from '../observe/hop-view.js';
import { pathFinding } from './finding.js';
import type { Seen, Sides } from './order.js';
import type { PathShape } from './segmentation.js';
import type { PathReport } from './types.js';

/**
 * VXLAN/Geneve without options over an IPv4 underlay adds this much to an inner IP packet (70 over
 * IPv6). With no capture of the tunnel, the underlay's IP version is unknown (the inner flow's says
 * nothing about it): the common IPv4 is assumed, and said to be.
 */
const ASSUMED_OVERHEAD = 50;

/** The hop's ICMP need-to-frag finding about this flow, if it saw one. */
function pmtuRecord(hop: HopView, shape: PathShape): FindingRecord | null {
  const records = hop.state.findings.byCode[CODE_INDEX['pmtu.frag-needed']];
  for (const record of records?.values() ?? []) {
    if (record.flow !== null && sameFlow(record.flow, shape.flow)) return record;
  }
  return null;
}

export function overlayMtu(shape: PathShape, report: PathReport, findings: FindingRecord[]): void {
  const { order, sides, dataHops, flow } = shape;
  const fragIndex = dataHops.find((i) => (sides[i] as Sides).data.fragmented > 0);
  const overheadHop = dataHops.find((i) => (sides[i] as Sides).data.overhead >= 0);
  const overhead = overheadHop !== undefined ? (sides[overheadHop] as Sides).data.overhead : -1;
  const senderMss = Math.max(-1, ...sides.map((s) => s.data.mss));
  const ipTcp = flow.ipVersion === 6 ? 60 : 40;
  // The overlay's largest packet: the MSS the sender announced plus headers, else the largest
  // wire-sized packet any hop saw.
  const overlaySize =
    senderMss > 0
      ? senderMss + ipTcp
      : Math.max(...sides.map((s) => Math.min(s.data.maxIpLength, shape.limit + ipTcp)));
  const base = { overlayMtu: overlaySize, mss: senderMss > 0 ? senderMss : null };

  if (fragIndex !== undefined) {
    const s = (sides[fragIndex] as Sides).data;
    const hop = (order[fragIndex] as Seen).hop;
    report.fragmentedAt = {
      hop: hop.name,
      mtu: hop.mtu,
      overhead: s.overhead >= 0 ? s.overhead : null,
      innerSize: s.maxIpLength,
    };
    const underlay = hop.mtu;
    if (underlay === null || overhead < 0 || overlaySize + overhead <= underlay) return;
    findings.push(
      pathFinding(
        'mtu.overlay-exceeds-underlay',
        hop.name,
        flow,
        1,
        {
          ...base,
          ...mtuAdvice(underlay, overhead, overlaySize, ipTcp),
          overhead,
          overheadSource: 'seen',
          underlayMtu: underlay,
          underlayMtuSource: hop.mtuSource,
          via: 'fragments',
          hop: hop.name,
          fragmentedSegments: s.fragmented,
        },
        [{ hop: hop.name, frame: s.firstFragmentedFrame }],
        [s],
        [...MTU_ADVICE_FACTS, ...(hop.mtuSource === 'inferred' ? ['underlayMtu'] : [])],
      ),
    );
    return;
  }
  // No fragments: the kernel may have answered with ICMP need-to-frag instead (PMTU discovery).
  for (let i = 0; i < order.length; i++) {
    const seen = order[i] as Seen;
    const record = pmtuRecord(seen.hop, shape);
    // Only the tunnel's own answer (sent from the flow's destination, for the guest) measures the
    // underlay; a router on the overlay path reports its own MTU (pmtu.frag-needed says so).
    if (record === null || record.facts.sender !== 'flow-destination') continue;
    const icmpMtu = record.facts.mtu;
    if (typeof icmpMtu !== 'number' || icmpMtu <= 0 || overlaySize <= icmpMtu) continue;
    const oh = overhead >= 0 ? overhead : ASSUMED_OVERHEAD;
    const underlay = icmpMtu + oh;
    findings.push(
      pathFinding(
        'mtu.overlay-exceeds-underlay',
        seen.hop.name,
        flow,
        1,
        {
          ...base,
          ...mtuAdvice(underlay, oh, overlaySize, ipTcp),
          overhead: oh,
          overheadSource: overhead >= 0 ? 'seen' : 'assumed',
          underlayMtu: underlay,
          underlayMtuSource: 'icmp',
          via: 'icmp',
          hop: seen.hop.name,
          icmpMtu,
          icmpMessages: record.count,
        },
        record.evidence.map((frame) => ({ hop: seen.hop.name, frame })),
        [(sides[i] as Sides).data],
        [...MTU_ADVICE_FACTS, 'underlayMtu', ...(overhead >= 0 ? [] : ['overhead'])],
      ),
    );
    return;
  }
}
