// Edited copies of a lab recording (classic little-endian pcap): each frame, decoded with the
// project's decoders, is handed to `edit` as a copy it may change in place; returning false drops
// it. For tests that need a capture the lab cannot record (no SYNs, NAT, another ICMP sender).
import { readFileSync, writeFileSync } from 'node:fs';
import type { Frame } from '../../src/capture/frame.js';
import { readCapture } from '../../src/capture/read.js';
import { decodeFrameAt } from '../../src/decode/decode.js';
import { createPacket, type Level, type Packet } from '../../src/decode/packet.js';

/** Where a level's bytes sit in the frame's own copy (levels give offsets into the reader's buffer). */
export interface Edit {
  bytes: Buffer;
  packet: Packet;
  /** Offset in `bytes` of a position the decoder gave. */
  at(offset: number): number;
}

export async function rewritePcap(
  path: string,
  out: string,
  edit: (e: Edit, frame: Frame) => boolean,
): Promise<void> {
  const parts: Buffer[] = [readFileSync(path).subarray(0, 24)];
  const packet = createPacket();
  await readCapture(path, {
    onInterface: () => {},
    onProblem: () => {},
    onFrame: (frame) => {
      const bytes = Buffer.from(
        frame.buffer.subarray(frame.dataOffset, frame.dataOffset + frame.capturedLength),
      );
      decodeFrameAt(
        frame.linkType,
        frame.buffer,
        frame.dataOffset,
        frame.capturedLength,
        frame.originalLength,
        packet,
      );
      if (!edit({ bytes, packet, at: (offset) => offset - frame.dataOffset }, frame)) return;
      const header = Buffer.alloc(16);
      header.writeUInt32LE(frame.timeSec, 0);
      header.writeUInt32LE(Math.round(frame.timeNs / 1000), 4);
      header.writeUInt32LE(frame.capturedLength, 8);
      header.writeUInt32LE(frame.originalLength, 12);
      parts.push(header, bytes);
    },
  });
  writeFileSync(out, Buffer.concat(parts));
}

/** Recomputes a level's IPv4 header checksum in the copy. */
export function fixIpv4Checksum(e: Edit, level: Level): void {
  const ip = e.at(level.ipOffset);
  e.bytes.writeUInt16BE(0, ip + 10);
  let sum = 0;
  for (let k = 0; k < level.ipHeaderLength; k += 2) sum += e.bytes.readUInt16BE(ip + k);
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  e.bytes.writeUInt16BE(~sum & 0xffff, ip + 10);
}
