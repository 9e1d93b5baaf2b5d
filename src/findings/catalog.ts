/**
 * The findings catalogue: every finding hopscope can report, registered once (Wireshark's expert
 * info, Zeek's weird table). Data, not code: a stable dotted code, a group, a severity, a scope
 * and all the words an operator reads. Codes are part of the JSON interface and never change
 * meaning once released; a new finding is one new entry here.
 *
 * Observers and the correlator record facts only: numbers, hop names, enums (`mechanism:
 * 'software-gso'`), lists. The words are templates filled from those facts when a report is made:
 *
 *   {name}        the fact's value ("1400"; a list is joined with ", ")
 *   {name|list}   a list as "a, b and c"
 *   {~phrase}     the entry's phrase chosen by the value of the fact it is keyed `by`: the exact
 *                 value, else 'none' (fact absent, null or an empty list), else '*' (any other);
 *                 a phrase is itself a template
 *
 * An unknown fact stays visible as {name}, so a gap is noticed in tests.
 */

export type Severity = 'chat' | 'note' | 'warn' | 'error';
export type FindingGroup = 'checksum' | 'segmentation' | 'fragmentation' | 'pmtu' | 'capture' | 'nat';
/**
 * What a finding is about: one capture file, one hop as a whole, one flow at one hop, or one
 * flow along its path (drawn across hops). Reported in the JSON; the summary names the flow of
 * flow and path findings and groups hop findings across hops.
 */
export type FindingScope = 'capture' | 'hop' | 'flow' | 'path';

export type FactValue = string | number | boolean | null | readonly (string | number)[];
export type Facts = Record<string, FactValue>;

export interface Phrase {
  /** The fact whose value chooses the words. */
  by: string;
  /** Value (or 'none' / '*') -> template. */
  values: Readonly<Record<string, string>>;
}

export interface CatalogEntry {
  code: string;
  group: FindingGroup;
  severity: Severity;
  scope: FindingScope;
  title: string;
  explanation: string;
  fix: string;
  /** One sentence for the terminal summary of notes, when the finding has one. */
  summary?: string;
  phrases?: Readonly<Record<string, Phrase>>;
}

/**
 * The MTU that cut the fragments, in words (fragment findings): the hop's own, or a range read off
 * the largest fragment (a link cuts fragment data at 8-byte steps, so its MTU is that fragment's
 * size .. 7 bytes more), here or on a link before this capture point.
 */
const HOP_MTU: Phrase = {
  by: 'mtuSource',
  values: {
    inferred:
      '{mtu}..{mtuMax} (the largest fragment is {maxFragment} bytes and fragments are cut at 8-byte steps)',
    upstream:
      '{mtu}..{mtuMax} on a link before this capture point (the largest fragment is {maxFragment} bytes, ' +
      'smaller than the {hopMtu}-byte MTU here would cut)',
    '*': '{mtu}',
  },
};

/** How super-frames came to be, by the direction the capture recorded (TCP and UDP alike). */
const SUPER_DIRECTION: Phrase = {
  by: 'direction',
  values: {
    outgoing: 'TSO/GSO, outgoing',
    'incoming-from-guest': 'the guest’s TSO/GSO, incoming',
    incoming: 'GRO/LRO, incoming',
    unknown: 'TSO/GSO or GRO',
  },
};

const SUPER_MECHANISM: Phrase = {
  by: 'direction',
  values: {
    outgoing:
      'The sender’s stack handed down super-frames (TSO/GSO); GSO or the NIC splits them into ' +
      'MSS-sized segments after this point.',
    'incoming-from-guest':
      'The guest’s TSO/GSO made them and the tap (virtio) hands them to the host unsplit; the ' +
      'host splits them later, or its NIC does.',
    incoming:
      'Received as super-frames: GRO (kernel) or LRO (NIC) merged segments, or a virtual device ' +
      '(veth, tap) passed a sender’s super-frame on unsplit.',
    unknown:
      'Either the sender’s TSO/GSO has not split them yet, or GRO/LRO on the receiving side ' +
      'merged them; this capture does not record the direction. Analyse captures of the ' +
      'neighbouring hops together to tell which.',
  },
};

/**
 * What the device's offload features (ethtool -k, read by `hopscope live`) say about its
 * super-frames: `systemOffload` is 'gro-on', 'gro-off', 'tso-on', 'tso-off', or 'either' when the
 * capture does not record the direction (observe/hop-view.ts).
 */
const SYSTEM_OFFLOAD: Phrase = {
  by: 'systemOffload',
  values: {
    'gro-on':
      ' GRO is on at {offloadHop} (ethtool -k), so the kernel merges the segments it receives there: ' +
      'super-frames on receive are expected, not a fault.',
    'gro-off':
      ' GRO is off at {offloadHop} (ethtool -k), so they were not merged there: they arrived whole ' +
      '(a virtual device passed a sender’s super-frame on unsplit).',
    'tso-on':
      ' TSO/GSO is on at {offloadHop} (ethtool -k): the stack hands super-frames down whole and ' +
      'they are split after this point.',
    'tso-off':
      ' TSO and GSO are off at {offloadHop} (ethtool -k): these super-frames were made before it ' +
      '(a guest’s offload, through its tap) and pass through unsplit.',
    either:
      ' At {offloadHop} GRO is {gro} and TSO/GSO is {tso} (ethtool -k): received super-frames were ' +
      'merged there only if GRO is on, sent ones split after it only if TSO/GSO is on.',
    none: '',
  },
};

export const CATALOG = [
  {
    code: 'checksum.partial',
    group: 'checksum',
    severity: 'note',
    scope: 'hop',
    title: '{~title}',
    explanation:
      '{count} {layers|list} checksums hold exactly the folded pseudo-header sum, not a full checksum: the ' +
      'sending stack used checksum offload (CHECKSUM_PARTIAL) and the NIC, or the host on a virtual ' +
      'path, completes them later. tcpdump and Wireshark call these "incorrect"; the checksums are ' +
      'not errors, but the payload is not verifiable here.' +
      '{~path}',
    fix:
      'Nothing to fix. Ignore the "incorrect" checksum warnings on this hop, or capture on the wire ' +
      'to see final checksums. To have captures show full sums, turn offload off for the test only: ' +
      'ethtool -K <dev> tx off.',
    summary: '{~summary}',
    phrases: {
      // One flow followed along its path (the correlator's verdict), or one hop's counters.
      path: {
        by: 'along',
        values: {
          path:
            ' Along this flow\'s path they are partial at {partialHops}: ignore tcpdump\'s "incorrect" ' +
            'there.{~gro}{~complete}{~errors}',
          '*': '',
        },
      },
      summary: {
        by: 'along',
        values: {
          path: 'Partial (offload, not errors) at {partialHops}.{~gro}{~complete}{~errors}',
          '*': '',
        },
      },
      title: {
        by: 'groHops',
        values: {
          none: 'Checksums left for the NIC (transmit checksum offload)',
          '*': 'Checksums left partial: transmit offload, and GRO on the receiving side',
        },
      },
      gro: {
        by: 'groHops',
        values: {
          none: '',
          '*':
            ' At {groHops}, after the merge, GRO wrote them: it leaves a merged frame’s sum partial ' +
            'for the receiver, not the sender’s transmit offload.',
        },
      },
      complete: {
        by: 'goodHops',
        values: {
          none:
            ' They stay partial along every captured hop: the path is virtual (veth, tap, bridge, ' +
            'tunnel) and the sum is completed, or not needed, at the end.',
          '*': ' They are complete and correct at {goodHops} (after the NIC).',
        },
      },
      errors: {
        by: 'badHops',
        values: {
          none: ' None of this flow’s TCP checksums is really wrong.',
          '*': ' Real errors: {badHops} (see checksum.bad there).',
        },
      },
    },
  },
  {
    code: 'checksum.lco',
    group: 'checksum',
    severity: 'note',
    scope: 'hop',
    title: 'Tunnel UDP checksums computed ahead of the inner checksum (local checksum offload)',
    explanation:
      '{count} outer UDP checksums of tunnel packets do not verify over the captured bytes, but do ' +
      'once the inner {inner} checksum, left partial for the NIC, is completed: the kernel computed ' +
      'the outer checksum for the packet as it will leave the NIC (local checksum offload). The ' +
      'inner checksum is only a partial sum, so the payload is not verifiable here.',
    fix: 'Nothing to fix; ignore these "incorrect" outer UDP checksums.',
  },
  {
    code: 'checksum.gro-merged',
    group: 'checksum',
    severity: 'chat',
    scope: 'hop',
    title: 'Merged frames carry the first segment’s checksum (GRO/LRO)',
    explanation:
      '{count} TCP frames larger than the MSS do not verify as a whole, but their checksum is exactly ' +
      'the one of their first segment (the headers and the first MSS bytes of payload verify with ' +
      'it): fraglist GRO in the kernel or LRO in the NIC merged received segments and kept the first ' +
      'one’s checksum. The rest of the payload is not verifiable here; counted as unverifiable.',
    fix: 'Nothing to fix. To see the wire’s segments and their checksums: ethtool -K <dev> gro off lro off (for the test only).',
  },
  {
    code: 'checksum.ipv4-tso',
    group: 'checksum',
    severity: 'note',
    scope: 'hop',
    title: 'IPv4 headers left to the NIC by a TSO sender (total length 0, checksum 0)',
    explanation:
      '{count} IPv4 headers carry total length 0 and header checksum 0: a sending stack other than ' +
      'Linux (whose BIG TCP headers verify) handed TSO super-frames to the NIC with both fields ' +
      'left empty, and the NIC writes them into every segment it cuts. Not a bad header checksum; ' +
      'the header is not verifiable here. Counted as zero.',
    fix: 'Nothing to fix. Capture after the NIC (on the wire) to see the final headers.',
  },
  {
    code: 'checksum.udp6-zero',
    group: 'checksum',
    severity: 'warn',
    scope: 'hop',
    title: 'UDP over IPv6 without a checksum, outside a tunnel',
    explanation:
      '{count} UDP datagrams over IPv6 carry checksum 0 ("none"). IPv6 makes the UDP checksum ' +
      'mandatory (RFC 8200 8.1) except for tunnel encapsulation (RFC 6935, 6936), and these carry ' +
      'no VXLAN or Geneve tunnel: receivers drop them. The sender did not compute the checksum; the ' +
      'payload is not verifiable here. Counted as zero.',
    fix:
      'Have the sender compute UDP checksums over IPv6. For a tunnel on a port hopscope does not ' +
      'decode, the receiving tunnel device must accept zero checksums (Linux: udp6zerocsumrx).',
  },
  {
    code: 'checksum.bad',
    group: 'checksum',
    severity: 'error',
    scope: 'hop',
    title: 'Checksums that are really wrong',
    explanation:
      '{count} {layers|list} checksums match neither the full sum nor the partial pseudo-header sum of ' +
      'offload, on frames whose bytes were all captured. These packets were corrupted, or rewritten ' +
      'by something that did not update the checksum; receivers drop them.',
    fix:
      'Find where the bytes change: capture the same flow one hop earlier and compare. Suspect NAT or ' +
      'encapsulation code without checksum update, a faulty NIC or cable (check ethtool -S <dev> ' +
      'for rx_crc_errors), or a driver bug with offload (try ethtool -K <dev> tx off rx off).',
  },
  {
    code: 'checksum.unverifiable',
    group: 'checksum',
    severity: 'chat',
    scope: 'hop',
    title: 'Checksums that cannot be checked (payload cut by the snap length)',
    explanation:
      '{count} {layers|list} checksums are neither the partial offload sum nor checkable, because the ' +
      'snap length ({snaplen} bytes) cut the payload off.',
    fix: 'Capture with a larger snap length (tcpdump -s 0) if these checksums matter.',
  },
  {
    code: 'segment.super-frame',
    group: 'segmentation',
    severity: 'note',
    scope: 'flow',
    title: 'TCP super-frames larger than the MSS ({~direction})',
    explanation:
      '{count} TCP segments carry up to {maxPayload} payload bytes, more than the flow’s MSS of ' +
      '{~mss}{~hopMtu}. {~mechanism}{~system}',
    fix:
      'Nothing to fix by itself. To see where they are split, capture further along the path and ' +
      'analyse the captures together; to see wire-sized frames here, disable the offload for the ' +
      'test only: ethtool -K <dev> tso off gso off (sender) or gro off (receiver).',
    phrases: {
      direction: SUPER_DIRECTION,
      mechanism: SUPER_MECHANISM,
      mss: { by: 'mss', values: { none: 'not seen (no SYN in the capture)', '*': '{mss}' } },
      hopMtu: { by: 'hopMtu', values: { none: '', '*': ' and the hop MTU of {hopMtu}' } },
      system: SYSTEM_OFFLOAD,
    },
  },
  {
    code: 'segment.udp-super-frame',
    group: 'segmentation',
    severity: 'note',
    scope: 'flow',
    title: 'UDP datagrams larger than the link carries ({~direction})',
    explanation:
      '{count} UDP datagrams carry up to {maxPayload} payload bytes, more than {~hopMtu}: UDP ' +
      'segmentation offload (UDP GSO/USO, as QUIC and WireGuard use) hands down one large datagram ' +
      'and a segment size, and the kernel or the NIC cuts it into datagrams of that size later; on ' +
      'a receiver, UDP GRO forwarding merges them.{~system}',
    fix:
      'Nothing to fix by itself. Analyse the captures of the neighbouring hops together to see where ' +
      'they are cut and into which size; to see wire-sized datagrams here, for the test only: ethtool ' +
      '-K <dev> tx-udp-segmentation off (sender) or rx-udp-gro-forwarding off (receiver).',
    phrases: {
      direction: SUPER_DIRECTION,
      system: SYSTEM_OFFLOAD,
      hopMtu: {
        by: 'hopMtu',
        values: { none: 'any Ethernet link carries (9,216 bytes)', '*': 'the hop MTU of {hopMtu}' },
      },
    },
  },
  {
    code: 'segment.split',
    group: 'segmentation',
    severity: 'note',
    scope: 'path',
    title: 'Super-frames split into {segmentSize}-byte segments between {from} and {~to} ({~mechanism})',
    explanation:
      'The same TCP data is seen whole at {from} (up to {maxPayload} bytes per frame, {fromFrames} ' +
      'frames) and as {segmentSize}-byte segments at {~to} ({~toFrames} frames). {~why}',
    fix: '{~fix}',
    phrases: {
      to: { by: 'to', values: { none: 'the wire', '*': '{to}' } },
      toFrames: { by: 'toFrames', values: { none: 'no capture', '*': '{toFrames}' } },
      mechanism: {
        by: 'mechanism',
        values: {
          'software-gso-tunnel': 'software GSO at the tunnel’s physical NIC',
          'software-gso': 'software GSO',
          'nic-tso': 'NIC hardware TSO after the capture point',
          'nic-tso-wire': 'the sending NIC’s hardware TSO, on the wire',
          'not-split':
            'not split between capture points (NIC TSO after the last one, or a virtual path end to end)',
        },
      },
      why: {
        by: 'mechanism',
        values: {
          'software-gso-tunnel':
            "The kernel's GSO cut them after {from} and before or at {to}, in software: the NIC under " +
            'the tunnel does not segment encapsulated TCP itself (tx-udp_tnl-segmentation off or ' +
            "absent), so the host's CPU does it.",
          'software-gso':
            'The split happened between these two capture points, in software (GSO) or by a device ' +
            'without TSO.',
          'nic-tso':
            "{from} is the last capture point before the wire and still shows super-frames: the NIC's " +
            'TSO (tx-udp_tnl-segmentation for tunnels) splits them in hardware after the capture ' +
            'point, so no capture on this host shows the wire-sized segments.',
          'not-split':
            'No capture point shows them split: the split happens after the last capture point (NIC ' +
            'TSO), or the path is virtual from end to end and never needs it.',
          'nic-tso-wire':
            '{from} and {to} both capture the tunnel’s outer packets, before and after the wire: the ' +
            'sending NIC’s TSO (tx-udp_tnl-segmentation for tunnels) cut them in hardware after ' +
            '{from}’s capture point, and {to} receives the segments.',
        },
      },
      fix: {
        by: 'mechanism',
        values: {
          'nic-tso':
            'Nothing to fix: hardware segmentation offload. Capture on the wire (a mirror port) to see the segments.',
          'nic-tso-wire': 'Nothing to fix: hardware segmentation offload working.',
          'not-split':
            'Nothing to fix: hardware segmentation offload. Capture on the wire (a mirror port) to see the segments.',
          '*':
            'Nothing to fix: this is segmentation offload working. Captures at {from} show frames ' +
            "larger than the MTU because they are taken before the split. If the host's CPU is busy " +
            'segmenting, a NIC with tx-udp_tnl-segmentation moves the work to hardware.',
        },
      },
    },
  },
  {
    code: 'segment.merged',
    group: 'segmentation',
    severity: 'note',
    scope: 'path',
    title: 'Segments merged again between {from} and {to} (GRO/LRO)',
    explanation:
      'The TCP data arrives as segments of up to {segmentSize} bytes at {from} ({fromFrames} frames) and ' +
      'as frames of up to {maxPayload} bytes at {to} ({toFrames} frames): GRO in the kernel (or LRO in ' +
      'the NIC) merged them on the receiving side. Normal; the receiver’s captures show super-frames ' +
      'again.',
    fix: 'Nothing to fix. To see wire-sized frames at {to}: ethtool -K <dev> gro off (for the test only).',
  },
  {
    code: 'mtu.overlay-exceeds-underlay',
    group: 'pmtu',
    severity: 'error',
    scope: 'path',
    title:
      'Overlay MTU {overlayMtu} + {overhead} bytes of encapsulation exceeds the underlay MTU {underlayMtu}',
    explanation:
      'The guest sends packets of up to {overlayMtu} bytes (MSS {~mss}); the tunnel adds {overhead} bytes, ' +
      'so the underlay must carry {needed} bytes but its MTU is {underlayMtu}. {~consequence}',
    fix:
      'Set the guest/overlay MTU to {maxOverlayMtu} or less (OpenStack: global_physnet_mtu / path_mtu; ' +
      'DHCP option 26 hands it to guests), or raise the underlay MTU to {needed} or more (jumbo ' +
      'frames), or clamp the TCP MSS to {clampMss} ({clampPayload} bytes of payload with TCP timestamps).',
    phrases: {
      mss: { by: 'mss', values: { none: 'not seen', '*': '{mss}' } },
      consequence: {
        by: 'via',
        values: {
          fragments:
            "The tunnel's outer packets are IP-fragmented at {hop}: {fragmentedSegments} segments of " +
            'this flow arrived there in fragments{~inferred}.',
          icmp:
            'No fragment is seen because the tunnel answers the guest with ICMP "fragmentation needed" ' +
            '(MTU {icmpMtu}, {icmpMessages} messages at {hop}) and the guest lowers its segments; ' +
            'guests or firewalls that drop that ICMP stall instead (a PMTU black hole).{~assumed}',
        },
      },
      inferred: {
        by: 'underlayMtuSource',
        values: { inferred: ' (underlay MTU inferred from the largest fragment, {underlayMtu})', '*': '' },
      },
      assumed: {
        by: 'overheadSource',
        values: { assumed: ' The overhead ({overhead}) is assumed: no capture shows the tunnel.', '*': '' },
      },
    },
  },
  {
    code: 'loss.between-hops',
    group: 'capture',
    severity: 'error',
    scope: 'path',
    title: 'Data lost between {from} and {to}',
    explanation: '{~how}',
    fix:
      'Look at the drop counters between them (ip -s link, ethtool -S, the bridge, tc qdisc, ' +
      'nftables/iptables rules) and at the MTU of each device: a frame larger than the next device’s ' +
      'MTU is dropped silently.',
    phrases: {
      how: {
        by: 'how',
        values: {
          none:
            '{bytes} bytes of TCP data (about {frames} segments) seen at {from} never appear at {to} or ' +
            'any later hop, in the time both captures cover. They were dropped between these two ' +
            'capture points.',
          repaired:
            '{bytes} bytes of TCP data (about {frames} segments) were seen twice at {from}, sent and ' +
            'sent again, but once at {to}: the first copy was dropped between these two capture points ' +
            'and TCP retransmitted it. The transfer went on, slower (each loss costs a retransmission ' +
            'and shrinks the congestion window). Segments that only repeated bytes seen before: ' +
            '{repeatsFrom} at {from}, {repeatsTo} at {to}.',
        },
      },
    },
  },
  {
    code: 'mtu.black-hole',
    group: 'pmtu',
    severity: 'error',
    scope: 'path',
    title: 'MTU black hole between {from} and {to}: full-size segments never pass',
    explanation:
      'Segments of {vanishing|list} bytes of payload reach {from} and never {to} or any later hop, ' +
      'though the sender sent them again and again (segments that only repeated bytes seen before: ' +
      '{resentCounts|list} at ' +
      '{resentAt|list}); only segments of up to {largestPassing} bytes pass, and the transfer stalls. ' +
      'The guest sends packets of {overlayMtu} bytes (MSS {~mss}); with {overhead} bytes of ' +
      'encapsulation that is {needed} bytes, more than the underlay MTU {underlayMtu} ({underlayHop}). ' +
      '{~icmp}',
    fix:
      'Set the guest/overlay MTU to {maxOverlayMtu} or less (OpenStack: global_physnet_mtu / path_mtu; ' +
      'DHCP option 26 hands it to guests), or raise the underlay MTU to {needed} or more, or clamp the ' +
      'TCP MSS to {clampMss} ({clampPayload} bytes of payload with TCP timestamps).{~icmpFix}',
    phrases: {
      mss: { by: 'mss', values: { none: 'not seen', '*': '{mss}' } },
      icmp: {
        by: 'icmp',
        values: {
          none:
            'Nothing tells the sender: no outer packet is fragmented (a tunnel over IPv6, or over IPv4 ' +
            'with DF set, does not fragment) and no ICMP "fragmentation needed" is seen at any hop.',
          filtered:
            'The tunnel answers with ICMP "fragmentation needed" (MTU {icmpMtu}), seen at {icmpAt}, but ' +
            'it never reaches the sender at {sender}: something between them filters it.',
          reached:
            'ICMP "fragmentation needed" (MTU {icmpMtu}) reaches the sender at {sender}, which does not ' +
            'lower its segments (path MTU discovery off, or the ICMP is not accepted).',
        },
      },
      icmpFix: {
        by: 'icmp',
        values: {
          filtered:
            ' Let ICMP "fragmentation needed" pass from {icmpAt} to {sender}, so the guest lowers its ' +
            'segments itself.',
          '*': '',
        },
      },
    },
  },
  {
    code: 'capture.gap',
    group: 'capture',
    severity: 'warn',
    scope: 'path',
    title: 'The capture at {hop} missed frames that the path carried',
    explanation:
      '{bytes} bytes of TCP data (about {frames} segments) are missing at {hop} but seen before it ' +
      '({from}) {~proof}: the capture point dropped them, not the network.',
    fix:
      'Capture with a larger buffer (tcpdump -B 16384), a snap length as small as needed, and write to ' +
      'a fast disk; check tcpdump’s "dropped by kernel" count.',
    phrases: {
      proof: {
        by: 'proof',
        values: {
          acknowledged:
            'and acknowledged by the receiver, though no later capture has them either (each of them ' +
            'dropped the same frames; TCP acknowledges only what arrived, and did not send them again)',
          '*': 'and after it ({~after})',
        },
      },
      after: { by: 'after', values: { none: 'later hops', '*': '{after}' } },
    },
  },
  {
    code: 'capture.order-contradicted',
    group: 'capture',
    severity: 'warn',
    scope: 'path',
    title: 'The hop order given by {~source} contradicts the captures',
    explanation:
      '{~source} puts this flow’s hops in the order {given}; how long the data waits for its ACKs ' +
      'at each hop (near the sender the whole round trip, near the receiver almost nothing) orders ' +
      'them {evidence}. The verdicts along this path (splits, merges, losses) follow the given ' +
      'order.',
    fix:
      'Check the order: a capture named after the wrong device, or two names swapped, moves every ' +
      'verdict along the path. Without --path or a topology, hopscope orders the hops by the ACK waits.',
    phrases: {
      source: { by: 'source', values: { path: '--path', topology: 'the topology file', '*': '{source}' } },
    },
  },
  {
    code: 'capture.order-uncertain',
    group: 'capture',
    severity: 'warn',
    scope: 'path',
    title: 'The hop order rests on captures that missed much of the data',
    explanation:
      'Without --path or a topology, hopscope ordered this flow’s hops by how long the data waits ' +
      'for its ACKs at each; but at {hops|list} the capture missed a tenth of the data or more (up ' +
      'to {percent}%: the capture point dropped frames, as tcpdump does when it falls behind), and an ' +
      'ACK a capture missed stretches the waits measured there. The order, and every verdict placed ' +
      'along it (splits, merges, losses), may be wrong.',
    fix:
      'Give the order: --topology FILE or --path a,b,c (hopscope then follows it, and says where the ' +
      'waits disagree). Capture with a larger buffer (tcpdump -B 16384) and a snap length as small as ' +
      'needed.',
  },
  {
    code: 'nat.between-hops',
    group: 'nat',
    severity: 'note',
    scope: 'path',
    title: 'Addresses translated between {from} and {to} (NAT)',
    explanation:
      'The same TCP data (the same sequence numbers) is {before} at {beforeHops} and {after} at ' +
      '{afterHops}: addresses or ports were rewritten between {from} and {to} (DNAT, a floating IP, ' +
      'kube-proxy). hopscope follows the connection across the translation.',
    fix: 'Nothing to fix if the translation is meant; to see it happen, capture on both sides of the device that rewrites.',
  },
  {
    code: 'capture.hop-missing',
    group: 'capture',
    severity: 'chat',
    scope: 'path',
    title: 'No capture of {missing}',
    explanation:
      'The topology places {missing} between {before} and {after} on this path, but no capture of it ' +
      'was given: whatever happens there (a split, a merge, a loss) can only be placed between ' +
      '{before} and {after}.',
    fix: 'Capture {missing} too (tcpdump -i <dev> -w {missing}.pcap) and analyse it with the others.',
  },
  {
    code: 'fragment.ip',
    group: 'fragmentation',
    severity: 'warn',
    scope: 'flow',
    title: 'IP fragments',
    explanation:
      '{count} IP fragments in {datagrams} datagrams ({reassembled} reassembled), cut by a link MTU ' +
      'of {~mtu}. Fragmentation costs CPU and loses the whole datagram when one fragment is lost.',
    fix: 'Lower the sender’s MTU or MSS below the path MTU, or raise the MTU of the link that fragments.',
    phrases: {
      mtu: {
        by: 'mtuSource',
        values: { ...HOP_MTU.values, '*': '{mtu} (the largest fragment is {maxFragment} bytes)' },
      },
    },
  },
  {
    code: 'fragment.outer',
    group: 'fragmentation',
    severity: 'error',
    scope: 'flow',
    title: 'Tunnel packets fragmented on the underlay',
    explanation:
      '{count} outer fragments in {datagrams} {tunnel} packets ({reassembled} reassembled): an inner ' +
      'packet of {innerSize} bytes (TCP payload {innerPayload}) plus {overhead} bytes of encapsulation ' +
      'makes {outerSize}-byte outer packets, more than the underlay MTU of {~mtu}. The host ' +
      'fragments every full-size segment: double the packets, CPU on both hosts, and lost ' +
      'fragments lose whole segments.',
    fix:
      'Set the guest/overlay MTU to {maxOverlayMtu} or less (OpenStack: global_physnet_mtu / path_mtu, ' +
      'DHCP option 26), or raise the underlay MTU to {needed} or more, or clamp the TCP MSS ' +
      'to {clampMss} ({clampPayload} bytes of payload with TCP timestamps).',
    phrases: { mtu: HOP_MTU },
  },
  {
    code: 'fragment.incomplete',
    group: 'fragmentation',
    severity: 'warn',
    scope: 'hop',
    title: 'Fragments whose datagram never completed',
    explanation:
      '{count} fragmented datagrams never got all their fragments at this hop ({reason}): fragments ' +
      'were lost before this capture point, or the capture started or stopped in the middle.',
    fix: 'Compare with a capture one hop earlier; if fragments are lost on the way, avoid fragmentation (MTU/MSS).',
  },
  {
    code: 'fragment.overlap',
    group: 'fragmentation',
    severity: 'error',
    scope: 'hop',
    title: 'Overlapping fragments with different bytes',
    explanation:
      '{count} fragments overlap earlier fragments of the same datagram with different bytes ({reason}). ' +
      'Receivers drop such datagrams (RFC 5722); this is corruption or an evasion attempt.',
    fix: 'Find the sender of these fragments; check middleboxes that re-fragment.',
  },
  {
    code: 'fragment.too-big',
    group: 'fragmentation',
    severity: 'error',
    scope: 'hop',
    title: 'Fragments that make a datagram larger than 65,535 bytes',
    explanation: '{count} fragmented datagrams would exceed the IP maximum ({reason}); receivers drop them.',
    fix: 'Find the sender of these fragments: this is a bug or an attack (ping of death).',
  },
  {
    code: 'pmtu.frag-needed',
    group: 'pmtu',
    severity: 'warn',
    scope: 'flow',
    title: 'ICMP "fragmentation needed" / "packet too big": path MTU {mtu}',
    explanation:
      '{count} ICMP messages from {from} tell the sender of this flow that the path carries at most ' +
      '{mtu} bytes{~quoted}. {~who}',
    fix:
      'If {mtu} is the tunnel’s MTU (underlay MTU minus encapsulation), set the guest/overlay MTU to ' +
      '{mtu} (DHCP option 26, OpenStack path_mtu) so guests do not depend on ICMP, or raise the ' +
      'underlay MTU. Make sure firewalls pass these ICMP messages.',
    phrases: {
      quoted: { by: 'quotedSize', values: { none: '', '*': ' (the quoted packet was {quotedSize} bytes)' } },
      who: {
        by: 'sender',
        values: {
          'flow-destination':
            "The message comes from the flow's own destination address: on a VXLAN/Geneve bridge this " +
            "is the host's tunnel device answering for the guest, because inner packet + " +
            'encapsulation exceed the underlay MTU ({mtu} = underlay MTU - overhead).',
          '*':
            'A router on the overlay path ({from}) sent it: its link carries at most {mtu} bytes, and the ' +
            'sender lowers its packets to this size. This is that router’s MTU, not the tunnel’s.',
        },
      },
    },
  },
  {
    code: 'capture.malformed',
    group: 'capture',
    severity: 'warn',
    scope: 'hop',
    title: 'Malformed frames or capture records',
    explanation: '{count} frames or records could not be decoded: {problem} (first at frame {firstFrame}).',
    fix: 'Check how the capture was written and transferred; the rest of the capture was analysed.',
  },
  {
    code: 'capture.dropped',
    group: 'capture',
    severity: 'warn',
    scope: 'hop',
    title: 'The capture dropped frames',
    explanation:
      'Capturing at this hop lost {dropped} frames ({~counter}{~received}): what this hop ' +
      'shows is incomplete, and a verdict drawn from it (a loss or gap between hops, a missing ' +
      'segment, a count) may be the capture’s, not the network’s.',
    fix:
      'Capture with a larger kernel buffer (--buffer-size), a BPF filter for the traffic in question ' +
      '(-f), or fewer hops at once on a busy host; then look again.',
    phrases: {
      counter: {
        by: 'counter',
        values: {
          kernel: 'the kernel’s capture buffer overflowed',
          interface: 'the interface dropped them',
          both: '{osDropped} in the kernel’s capture buffer, {ifDropped} at the interface',
          '*': 'as the capture counted',
        },
      },
      received: { by: 'received', values: { none: '', '*': '; the interface received {received}' } },
    },
  },
  {
    code: 'capture.truncated-file',
    group: 'capture',
    severity: 'warn',
    scope: 'capture',
    title: 'Capture file ends in the middle of a record',
    explanation: '{problem}. Every frame before it was analysed.',
    fix: 'The capture was cut short (disk full, copied while tcpdump was writing, killed). Record it again.',
  },
] as const satisfies readonly CatalogEntry[];

export type FindingCode = (typeof CATALOG)[number]['code'];

/**
 * Said after any verdict drawn at a hop whose capture dropped frames (`capture.dropped`): the
 * facts `captureDroppedAt` (the hops) and `captureDropped` (their drops in all) are added by the
 * report (report/model.ts).
 */
export const CAPTURE_DROPS_NOTE =
  ' The capture dropped frames at {captureDroppedAt|list} ({captureDropped} in all): part of what ' +
  'this verdict counts may be the capture’s loss, not the network’s.';

const BY_CODE = new Map<string, CatalogEntry>(CATALOG.map((entry) => [entry.code, entry]));

export function catalogEntry(code: FindingCode): CatalogEntry {
  return BY_CODE.get(code) as CatalogEntry;
}

/** Index of each code in CATALOG, for array-indexed per-frame counters. */
export const CODE_INDEX: Readonly<Record<FindingCode, number>> = Object.fromEntries(
  CATALOG.map((entry, index) => [entry.code, index]),
) as Record<FindingCode, number>;

export const SEVERITY_RANK: Readonly<Record<Severity, number>> = { chat: 0, note: 1, warn: 2, error: 3 };

function valueText(value: FactValue | undefined, asList: boolean): string {
  if (Array.isArray(value)) {
    const items = value.map(String);
    if (!asList || items.length <= 1) return items.join(', ');
    return `${items.slice(0, -1).join(', ')} and ${items[items.length - 1]}`;
  }
  return String(value);
}

/** The key a phrase is chosen by: the value itself, or 'none' when there is none. */
function phraseKey(value: FactValue | undefined): string {
  if (value === undefined || value === null) return 'none';
  if (Array.isArray(value)) return value.length === 0 ? 'none' : '*';
  return String(value);
}

/** Fills a template from facts and the entry's phrases (see the top of this file). */
export function fillTemplate(
  template: string,
  facts: Readonly<Facts>,
  phrases: Readonly<Record<string, Phrase>> = {},
  depth = 0,
): string {
  return template.replace(/\{(~?)(\w+)(\|list)?\}/g, (whole, tilde: string, name: string, list?: string) => {
    if (tilde === '~') {
      const phrase = phrases[name];
      if (phrase === undefined || depth > 4) return whole;
      const key = phraseKey(facts[phrase.by]);
      const words = phrase.values[key] ?? phrase.values['*'];
      return words === undefined ? whole : fillTemplate(words, facts, phrases, depth + 1);
    }
    return name in facts ? valueText(facts[name], list !== undefined) : whole;
  });
}

/** The words of one phrase of an entry for these facts (for renderers that quote a fact in words). */
export function phraseText(code: FindingCode, phrase: string, facts: Readonly<Facts>): string {
  const entry = catalogEntry(code);
  return fillTemplate(`{~${phrase}}`, facts, entry.phrases ?? {});
}

/**
 * `hopscope explain`: the words said under one line of tcpdump or Wireshark text, per verdict.
 * Keyed by the finding code the verdict stands for (its title, explanation and fix are the
 * summary's words), plus the verdicts that only text has: a checksum the text cannot decide, and
 * text that lacks what a verdict needs. Templates as above, filled from what the line prints and
 * the arithmetic done on it.
 */
export interface LineWords {
  /** Under one line. */
  line: string;
  /** In the summary, for verdicts that have no finding of their own in CATALOG. */
  summary?: string;
  phrases: Readonly<Record<string, Phrase>>;
}

/** Where to capture next to find where a packet's bytes change (by the direction tcpdump printed). */
const CAPTURE_BEFORE = {
  by: 'direction',
  values: {
    in: 'the sending side of {iface}’s link (the hop before it)',
    out: 'the hop this packet came from before {iface} (its tap or bridge)',
    '*': 'the hop before this one on the path (for a guest’s packet: its tap on the host)',
  },
} as const;

export const LINE_WORDS = {
  'checksum.partial': {
    line:
      '{layer} cksum {stored} is exactly the partial pseudo-header sum for {src} > {dst}, protocol ' +
      '{protocol}, {transport} length {l4Length}{~lengthFrom}: {arithmetic}. Transmit checksum offload; ' +
      'not an error: the NIC (or the host at the end of a virtual path) completes it{~completes}.',
    phrases: {
      lengthFrom: {
        by: 'lengthFrom',
        values: {
          ip: ' (IP length {ipLength} - {ipHeaderLength})',
          ipv6: ' (IPv6 payload length)',
          payload: ' (payload {payload} + TCP header {tcpHeaderLength} with the printed options)',
          udp: ' (UDP payload {payload} + 8)',
        },
      },
      completes: { by: 'correct', values: { none: '', '*': ' to {correct}, the value tcpdump computed' } },
    },
  },
  'checksum.lco': {
    line:
      '{layer} cksum {stored} does not verify over the captured bytes ({correct} would), but it is exactly ' +
      'the checksum of this packet once the NIC completes the inner {inner} checksum ({innerStored}, a ' +
      'partial sum, -> {innerCorrect}): {correct} + {innerStored} - {innerCorrect} = {stored} (one’s ' +
      'complement). Local checksum offload on the sending host; not an error.',
    phrases: {},
  },
  'checksum.bad': {
    line:
      '{layer} cksum {stored} is neither correct ({correct}) nor the partial pseudo-header sum ({partial}) ' +
      'for {src} > {dst}, protocol {protocol}, {transport} length {l4Length}: really wrong, or rewritten ' +
      'after capture. Capture the same flow at {~next} and compare: where the checksum changes is where ' +
      'the bytes change.',
    phrases: { next: CAPTURE_BEFORE },
  },
  'checksum.ipv4-bad': {
    summary:
      'IPv4 header checksums that are wrong: {count}. Linux computes every IPv4 header checksum itself ' +
      '(no offload leaves it to the NIC), so these headers were corrupted, or rewritten by something ' +
      'that did not update the checksum; receivers drop them.',
    line:
      '{layer} cksum {stored} is wrong ({correct} would verify). No offload explains it: Linux computes ' +
      'the IPv4 header checksum in software for every packet, its own super-frames included. Really ' +
      'wrong, or the header was rewritten after capture. Capture the same flow at {~next} and compare: ' +
      'where the checksum changes is where the bytes change.',
    phrases: { next: CAPTURE_BEFORE },
  },
  'checksum.ipv4-tso': {
    line:
      '{layer} with total length 0 and checksum 0 ({correct} would verify over these bytes): a TSO sender ' +
      '(Windows LSO, some BSD drivers) left both to the NIC, which writes them into every segment it cuts. ' +
      'Not an error; capture after the NIC to see the final header.',
    phrases: {},
  },
  'checksum.undecided': {
    summary:
      'Checksums that are neither correct nor the partial pseudo-header sum, where the text cannot tell ' +
      'offload from corruption (merged frames, or tunnel packets whose inner checksum is not printed): ' +
      '{count}; hopscope analyze on the capture can.',
    line: '{layer} cksum {stored} is not correct ({correct}) and not the partial pseudo-header sum ({partial}). {~why}',
    phrases: {
      why: {
        by: 'why',
        values: {
          merged:
            'This is a merged frame (more than the MSS): GRO or LRO may have kept its first segment’s ' +
            'checksum, which only the first segment’s bytes can check. The text cannot tell that from ' +
            'corruption; hopscope analyze on the capture can.',
          'size-unknown':
            'Whether this is a merged frame (more than the MSS), which may keep its first segment’s ' +
            'checksum, is not in the text (no MSS or no length): it cannot be told from corruption here.',
          tunnel:
            'On a {tunnel} port this is usually local checksum offload (the kernel sums the outer packet ' +
            'as it will leave the NIC, after the inner checksum is completed) or tunnel checksum offload on ' +
            'the sending host. The text cannot prove it: {~missing}.',
        },
      },
      missing: {
        by: 'missing',
        values: {
          inner:
            'the inner checksum is not printed (capture with tcpdump -s 0 -vv so the whole inner segment ' +
            'is there)',
          '*': '{missing}',
        },
      },
    },
  },
  'segment.super-frame': {
    line: '{~size} {~mechanism}',
    phrases: {
      size: {
        by: 'mss',
        values: {
          none:
            'IP length {ipTotal} is more than any Ethernet link carries (9,216 bytes): a super-frame ' +
            '({~direction}). The MSS is not in these lines (no SYN seen), so how many segments it ' +
            'becomes is not known.',
          '*':
            'length {payload} is more than the MSS of {mss} ({mssFrom}): a super-frame ({~direction}), ' +
            'carried as {segments} segments of up to {mss} bytes on the wire.',
        },
      },
      direction: SUPER_DIRECTION,
      mechanism: SUPER_MECHANISM,
    },
  },
  'segment.udp-super-frame': {
    line:
      'UDP datagram of IP length {ipTotal} is more than any Ethernet link carries (9,216 bytes): a UDP ' +
      'super-frame ({~direction}). UDP segmentation offload (GSO/USO, as QUIC and WireGuard use) hands ' +
      'down one datagram and a segment size, and the kernel or the NIC cuts it into datagrams of that ' +
      'size later; on a receiver, UDP GRO forwarding merged them. Not an oversized packet on the wire.',
    phrases: { direction: SUPER_DIRECTION },
  },
  'fragment.outer': {
    line:
      'The inner packet of {innerSize} bytes is cut short by IP fragmentation of the tunnel’s outer packet: ' +
      '{innerSize} + {overhead} ({tunnel} over IPv{outerVersion}) = {outerSize} bytes, more than the ' +
      'underlay MTU; the first fragment is {firstFragment} bytes ({~mtuFrom}), so the underlay MTU is ' +
      '{mtu}..{mtuMax}. {~fix}',
    phrases: {
      mtuFrom: {
        by: 'firstFrom',
        values: {
          header: 'its IP header says so',
          missing: '{innerSize} - {missing} missing + {overhead}',
        },
      },
      fix: {
        by: 'needed',
        values: {
          '*':
            'Set the guest/overlay MTU to {maxOverlayMtu} or less, or raise the underlay MTU to {needed} or ' +
            'more, or clamp the TCP MSS to {clampMss} ({clampPayload} bytes of payload with TCP timestamps).',
        },
      },
    },
  },
  'fragment.ip': {
    line: '{~which}',
    phrases: {
      which: {
        by: 'which',
        values: {
          first:
            'The first fragment (more fragments follow) of a {size}-byte IP packet: the link that cut it ' +
            'carries {size}..{sizeMax} bytes. On a tunnel’s underlay these are its outer packets: the ' +
            'inner packet plus encapsulation did not fit.',
          later:
            'A later fragment (offset {offset}) of a {protocolName} packet{~whole}: the fragments before it ' +
            'carried {offset} bytes of data, so if it is the second of two, the link that cut the first ' +
            'carries {firstSize}..{firstSizeMax} bytes. On a tunnel’s underlay these are its outer packets: ' +
            'the inner packet plus encapsulation did not fit.',
        },
      },
      whole: { by: 'total', values: { none: '', '*': ' that was {total} bytes whole' } },
    },
  },
  'pmtu.frag-needed': {
    line:
      '{~kind} from {from}: the path carries at most {mtu} bytes. {~who} The sender lowers its path ' +
      'MTU to {mtu}: TCP segments of at most {mss} bytes ({payload} of payload with TCP timestamps).',
    phrases: {
      kind: {
        by: 'icmp',
        values: { icmp: 'ICMP "fragmentation needed"', '*': 'ICMPv6 "packet too big"' },
      },
      who: {
        by: 'sender',
        values: {
          'flow-destination':
            'It comes from the destination of the packet it quotes ({quotedDst}): on a VXLAN/Geneve bridge ' +
            'that is the host’s tunnel device answering for the guest, because inner packet + ' +
            'encapsulation exceed the underlay MTU: {mtu} is the underlay MTU less the encapsulation ' +
            '({underlayV4} under VXLAN over IPv4, {underlayV6} over IPv6).',
          router:
            'A router on the path ({from}) sent it, not the packet’s destination ({quotedDst}): its link ' +
            'carries at most {mtu} bytes. That is the router’s MTU, not the tunnel’s.',
          '*': 'The quoted packet is not printed (tcpdump -v prints it), so who answered is not known.',
        },
      },
    },
  },
  'capture.previous-segment': {
    summary:
      'Segments after a gap in the sequence numbers (Wireshark’s "previous segment not captured"): {count}.',
    line:
      'Wireshark saw a gap in the sequence numbers before this segment: the bytes before it were lost ' +
      'before this capture point, dropped by the capture itself (tcpdump’s "dropped by kernel"), or ' +
      'carried in IP fragments that the list shows as "Fragmented IP protocol" lines.',
    phrases: {},
  },
  'text.needs-more': {
    summary: 'Lines that lack what a verdict needs: {count}; the flags that print it are said under each.',
    line: '{~what}',
    phrases: {
      what: {
        by: 'missing',
        values: {
          'stored-checksum':
            'Wireshark calls the checksum incorrect, but its list does not print the stored value, and only ' +
            'the value tells offload from error: print this frame with tcpdump -vv -nn -r FILE (or ' +
            'tshark -V) and explain that.',
          names:
            'Addresses or ports are printed as names, so the pseudo-header sum cannot be computed: run ' +
            'tcpdump with -nn.',
          'ip-length':
            'The TCP length the checksum covers is not in this text (no IP header and no options and ' +
            'length): run tcpdump with -v (or -vv).',
          mss:
            'length {payload} may be a super-frame, but the MSS is not in these lines (no SYN of this ' +
            'connection seen{~quiet}): capture the connection from its start.',
          'icmp-mtu': 'The MTU of this ICMP message is not in the list: tshark -V (or tcpdump -v) prints it.',
        },
      },
      quiet: {
        by: 'quiet',
        values: { true: '; tcpdump -q does not print options, run it without -q', '*': '' },
      },
    },
  },
} as const satisfies Readonly<Record<string, LineWords>>;

export type LineCode = keyof typeof LINE_WORDS;

/** The words under one line for a verdict. */
export function lineText(code: LineCode, facts: Readonly<Facts>): string {
  const words: LineWords = LINE_WORDS[code];
  return fillTemplate(words.line, facts, words.phrases);
}

/** A verdict's summary sentence, when it has no finding in CATALOG; null otherwise. */
export function lineSummaryText(code: LineCode, facts: Readonly<Facts>): string | null {
  const words: LineWords = LINE_WORDS[code];
  return words.summary === undefined ? null : fillTemplate(words.summary, facts, words.phrases);
}

/**
 * The report's own sentences (report/html.ts, report/markdown.ts): the verdict at the top and the
 * labels of the path picture, as templates filled from the report's numbers the way entries are.
 * Renderers fill these and never write sentences of their own.
 */
export const REPORT_WORDS = {
  headline: '{~headline}',
  /** One line per problem in the verdict: what is wrong, and where. */
  wrong: '{title} — at {hops|list}.',
  wrongFlows: '{title} — at {hops|list}, in {flows} flows.',
  /** Checksums tcpdump calls "incorrect" that offload explains. */
  fineChecksums:
    'The {count} "incorrect" checksums at {hops|list} are checksum offload ({kinds|list}), not errors: ignore them.',
  fineSuperFrames:
    'The {count} frames larger than the MTU at {hops|list} are TSO/GSO super-frames or GRO merges: offload ' +
    'working as meant, not oversized packets.',
  fineSplit:
    'Super-frames are split into {segmentSize}-byte segments between {from} and {~to} ({~mechanism}).',
  fineNothingElse: 'Nothing else in these captures needs attention.',
  noWrong: 'No problem found in {frames} at {hops}.',
  unreadable: 'Not analysed: {error}',
  unreadableFix:
    'Check the file name and that the file is a pcap or pcapng capture (gzip is fine); the other captures were analysed.',
  problemHop: 'The problem is at {hop}: {title}.',
  /** Labels between two hops of the path picture. */
  edgeSplit: 'split into {segments} × {segmentSize}',
  edgeNotSplit: 'still whole ({~mechanism})',
  edgeFragmented: '{~fragmented}',
  edgeMerged: 'merged by GRO (up to {maxPayload})',
  edgeLost: 'lost {~segments} ({bytes} bytes)',
  edgeBlackHole: 'black hole for segments over {limit} bytes{~passing}',
  edgeNat: 'addresses translated (NAT)',
  hopGap: 'capture missed {~segments}',
  /** The path picture in words: hops joined by what happens between them ("a → [split] → b"). */
  pathAlt: 'The path of {flow}: {hops}.{~problem}',
  pathHop: '{hop} ({kind}{~mtu})',
  pathEdge: ' → [{labels}] → ',
  pathStep: '{from} → {to}: {what}',
  hopStep: '{hop}: {what}',
  pathQuiet: 'nothing changed between the captured hops',
  morePaths: '{count} more flows in the JSON report (hopscope analyze --json).',
  clockApplied: 'Times are on the clock of {reference}: each hop’s estimated offset is subtracted.',
  clockUnknown: 'Clock unknown (no data in common with the other hops): {hops|list}.',
} as const;

export type ReportWord = keyof typeof REPORT_WORDS;

const REPORT_PHRASES: Readonly<Record<string, Phrase>> = {
  headline: {
    by: 'problems',
    values: {
      '0': 'No problem found',
      '1': 'One problem: {first}',
      '*': '{problems} problems; the first: {first}',
    },
  },
  to: { by: 'to', values: { none: 'the wire', '*': '{to}' } },
  mechanism: {
    by: 'mechanism',
    values: {
      'software-gso-tunnel': 'software GSO at the tunnel’s physical NIC',
      'software-gso': 'software GSO',
      'nic-tso': 'NIC hardware TSO after the capture point',
      'nic-tso-wire': 'the sending NIC’s hardware TSO',
      'not-split': 'NIC TSO after the last capture point, or a virtual path end to end',
    },
  },
  fragmented: {
    by: 'lastFragment',
    values: {
      none: 'fragmented: {outerSize}-byte packets, MTU {mtu}',
      '*': 'fragmented {firstFragment} + {lastFragment}',
    },
  },
  mtu: { by: 'mtu', values: { none: '', '*': ', MTU {mtu}' } },
  segments: { by: 'frames', values: { '1': '1 segment', '*': '{frames} segments' } },
  passing: {
    by: 'largestPassing',
    values: { none: '', '*': ' (the largest that passed: {largestPassing})' },
  },
  problem: { by: 'problemHop', values: { none: '', '*': ' The problem is at {problemHop}: {problemText}.' } },
};

/** A report sentence filled from facts (see REPORT_WORDS). */
export function reportWords(word: ReportWord, facts: Readonly<Facts>): string {
  return fillTemplate(REPORT_WORDS[word], facts, REPORT_PHRASES);
}
