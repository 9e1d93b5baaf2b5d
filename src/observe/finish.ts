/**
 * Once a hop's capture has been read: what the traffic says about the hop itself (its kind, a
 * lower bound of its MTU) and the facts hop-wide findings need. Values derived here are marked as
 * derived (kindSource 'traffic', mtuSource 'inferred').
 */

import type { FindingCode } from '../findings/catalog.js';
import { noteFinding } from '../findings/store.js';
import { describeLayers, type HopState } from './hop.js';

/** Checksum classes are counted per layer on the hot path; their findings are drawn here, once. */
function drawChecksumFindings(hop: HopState): void {
  const classes: Array<['partial' | 'lco' | 'bad' | 'unverifiable', FindingCode]> = [
    ['partial', 'checksum.partial'],
    ['lco', 'checksum.lco'],
    ['bad', 'checksum.bad'],
    ['unverifiable', 'checksum.unverifiable'],
  ];
  for (const [cls, code] of classes) {
    const count = hop.checksums[cls];
    if (count === 0) continue;
    const evidence = hop.checksumEvidence[cls];
    const record = noteFinding(hop.findings, code, 0, evidence[0] ?? 0);
    record.count = count;
    record.evidence = [...evidence];
    record.facts.pathPart = '';
  }
}

export function finishHop(hop: HopState): void {
  if (hop.kind === 'unknown' && hop.tunnels.vxlan + hop.tunnels.geneve + hop.tunnels.gre > 0) {
    // Captures that show tunnel packets were taken on the underlay side of the tunnel endpoint.
    hop.kind = 'physical';
    hop.kindSource = 'traffic';
  }
  if (hop.mtu === null && hop.fragments.maxFragment > 0) {
    // The largest fragment is the MTU rounded down to the 8-byte fragment unit (plus header).
    hop.mtu = hop.fragments.maxFragment;
    hop.mtuSource = 'inferred';
  }

  drawChecksumFindings(hop);
  for (const byFlow of hop.findings.byCode) {
    for (const record of byFlow.values()) {
      const facts = record.facts;
      facts.count = record.count;
      switch (record.code) {
        case 'checksum.partial':
          facts.layers = describeLayers(hop.checksumLayers.partial);
          break;
        case 'checksum.bad':
          facts.layers = describeLayers(hop.checksumLayers.bad);
          break;
        case 'checksum.unverifiable':
          facts.layers = describeLayers(hop.checksumLayers.unverifiable);
          facts.snaplen = hop.snaplen;
          break;
        case 'checksum.lco':
          facts.inner = 'TCP';
          break;
        case 'fragment.ip':
        case 'fragment.outer': {
          facts.maxFragment = hop.fragments.maxFragment;
          const mtu = hop.mtu ?? hop.fragments.maxFragment;
          facts.mtu = hop.mtuSource === 'inferred' ? `about ${mtu} (its largest fragment)` : mtu;
          if (record.code === 'fragment.outer' && typeof facts.overhead === 'number') {
            const overhead = facts.overhead;
            const maxInnerMtu = mtu - overhead;
            facts.maxInnerMtu = maxInnerMtu;
            facts.minUnderlayMtu = (facts.innerSize as number) + overhead;
            facts.clampMss = maxInnerMtu - ((facts.innerHeaders as number | undefined) ?? 40);
            facts.clampPayload = (facts.clampMss as number) - 12;
          }
          break;
        }
        default:
          break;
      }
    }
  }
}
