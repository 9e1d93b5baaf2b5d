// Scenario: one large capture of a fragmenting underlay: the physical NIC's capture in
// fragmenting-underlay (VXLAN over IPv4 with an underlay MTU of 1500 under a guest MTU of 1500, so
// nearly every tunnel packet is IP-fragmented; snaplen 256), repeated to >= half the frames of the
// other scenarios (500,000 by default). Every fragment goes through the reassembler and every
// rebuilt datagram is decoded again: this is what the tool's fragment verdicts cost per frame.
// Times the floor, `hopscope analyze --json` and `tcpdump -nn -r`; no bar of the issues applies.
import { join } from 'node:path';
import { SET_DIR } from '../synthesize.mjs';
import { timeCapture } from './single-capture.mjs';

export const name = 'fragments';

export function run({ frames, repeat, only, log }) {
  return timeCapture({
    name,
    template: join(SET_DIR, '..', 'fragmenting-underlay', 'host1-phy0.pcap'),
    frames: Math.ceil(frames / 2),
    cases: ['floor', 'hopscope', 'tcpdump'],
    bars: null,
    repeat,
    only,
    log,
  });
}
