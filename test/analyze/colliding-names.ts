// Capture files whose hop names collide, for the tests of reading files out of the given order
// (worker threads, largest first): two eth0.pcap of two hosts and, between them, a larger pcapng
// whose interface is named eth0 too. Read in the given order they are eth0, big:eth0 and eth0(2).
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pcapngWriter } from '../capture/helpers.js';
import { parsePcap } from '../helpers/parse-pcap.js';

const lab = join(import.meta.dirname, '..', '..', 'samples', 'pmtu-underlay');

/** Writes the three files under `dir` and returns their paths in the order to give them. */
export function collidingNameFiles(dir: string): string[] {
  const place = (host: string, name: string, bytes: Uint8Array) => {
    mkdirSync(join(dir, host), { recursive: true });
    writeFileSync(join(dir, host, name), bytes);
    return join(dir, host, name);
  };
  const pcap = parsePcap(readFileSync(join(lab, 'host1-phy0.pcap')));
  const w = pcapngWriter(true);
  const big = [w.shb(), w.idb(pcap.linkType, [w.opt(2, Buffer.from('eth0'))])];
  for (const r of pcap.records)
    big.push(w.epb(0, r.timeNs / 1000n, Buffer.from(r.data), [], 0, r.originalLength));
  return [
    place('host1', 'eth0.pcap', readFileSync(join(lab, 'guest1-eth0.pcap'))),
    place('host2', 'big.pcapng', Buffer.concat(big)),
    place('host3', 'eth0.pcap', readFileSync(join(lab, 'guest2-eth0.pcap'))),
  ];
}
