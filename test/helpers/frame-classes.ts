// What `analyze` decides about each frame of a capture, frame by frame: the classes of the
// checksums it counted (TCP, UDP, IPv4 headers) and whether it counted a TCP super-frame. It runs the real
// observers (observe/hop.ts observeFrame) over the frames in order and reads what each frame
// added to the hop's counters, so nothing on the hot path changes for it: the hop's per-class layer
// masks are swapped for a recorder that sees each counted checksum's layer bit (countChecksum does
// `layers[cls] |= bit`; the recorder answers 0 to the read, so the write is the bit itself).
import { readFileSync } from 'node:fs';
import { decodeFrame } from '../../src/decode/decode.js';
import { createPacket } from '../../src/decode/packet.js';
import type { ChecksumClass } from '../../src/observe/checksum.js';
import { INNER_SHIFT, LAYER } from '../../src/observe/checksums.js';
import { createHopState, observeFrame } from '../../src/observe/hop.js';
import { parsePcap } from './parse-pcap.js';

export interface CountedChecksum {
  cls: ChecksumClass;
  /** The transport's checksum, or 'ipv4': the IPv4 header's. */
  transport: 'tcp' | 'udp' | 'ipv4';
  inner: boolean;
}

export interface FrameClasses {
  /** Checksums counted at this frame, outer and inner: TCP, UDP and IPv4 headers. */
  checksums: CountedChecksum[];
  /** TCP super-frames counted at this frame (0 or 1 per TCP layer). */
  superFrames: number;
  /** UDP super-frames counted at this frame. */
  udpSuperFrames: number;
  /** TCP layers observed at this frame (a super-frame verdict needs one). */
  tcpLayers: number;
}

/** Per frame (index 0 = frame 1), what analyze counted. */
export function frameClasses(path: string): FrameClasses[] {
  const file = parsePcap(readFileSync(path), path);
  const hop = createHopState({
    name: 'hop',
    kind: 'unknown',
    kindSource: 'unknown',
    mtu: null,
    mtuSource: null,
    snaplen: file.snaplen,
  });
  let current: CountedChecksum[] = [];
  hop.checksums.layers = new Proxy(hop.checksums.layers, {
    get: () => 0,
    set: (_target, cls, bit: number) => {
      const inner = bit >= 1 << INNER_SHIFT;
      const b = inner ? bit >> INNER_SHIFT : bit;
      const transport = b === LAYER.TCP ? 'tcp' : b === LAYER.UDP ? 'udp' : b === LAYER.IPV4 ? 'ipv4' : null;
      if (transport !== null) current.push({ cls: cls as ChecksumClass, transport, inner });
      return true;
    },
  });
  const packet = createPacket();
  const out: FrameClasses[] = [];
  for (const r of file.records) {
    current = [];
    const superBefore = hop.superFrames.count - hop.superFrames.udp;
    const udpBefore = hop.superFrames.udp;
    decodeFrame(file.linkType, r.data, r.capturedLength, r.originalLength, packet);
    let tcpLayers = 0;
    for (let i = 0; i < packet.levelCount; i++) {
      const level = packet.levels[i];
      if (level !== undefined && level.protocol === 6 && level.l4Offset >= 0) tcpLayers++;
    }
    observeFrame(
      hop,
      {
        number: r.frame,
        timeSec: Number(r.timeNs / 1_000_000_000n),
        timeNs: Number(r.timeNs % 1_000_000_000n),
        direction: 0,
        capturedLength: r.capturedLength,
        linkType: file.linkType,
      },
      packet,
      r.data,
    );
    out.push({
      checksums: current,
      superFrames: hop.superFrames.count - hop.superFrames.udp - superBefore,
      udpSuperFrames: hop.superFrames.udp - udpBefore,
      tcpLayers,
    });
  }
  return out;
}
