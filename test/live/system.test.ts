// What the system says about interfaces, parsed from the real output of `ip -d -j link` and
// `ethtool -k` taken in the lab's host1 namespace (test/live/fixtures), and the path followed from
// a tap. Kinds come from the link info: renaming every device must not change them.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { classifyFailure, permissionMessage } from '../../src/capture/live/backend.js';
import { lengthFromHeaders, loadCap } from '../../src/capture/live/cap.js';
import {
  dumpcapArgs,
  parseDumpcapCounters,
  parseTcpdumpCounters,
  TCPDUMP,
  tcpdumpArgs,
} from '../../src/capture/live/dumpcap.js';
import { deviceSnaplen } from '../../src/capture/live/run.js';
import { parseInterfaceSpec } from '../../src/capture/live/spec.js';
import {
  followPath,
  kindOfLink,
  type LinkInfo,
  parseFeatures,
  parseLinks,
} from '../../src/capture/live/system.js';
import { UsageError } from '../../src/errors.js';

const fixtures = join(import.meta.dirname, 'fixtures');
const linkJson = readFileSync(join(fixtures, 'ip-link-host1.json'), 'utf8');

function kinds(links: LinkInfo[]): Record<string, string> {
  const underlays = new Set(links.flatMap((l) => (l.tunnel?.link ? [l.tunnel.link] : [])));
  return Object.fromEntries(links.map((l) => [l.name, kindOfLink(l, links, underlays)]));
}

describe('ip -d -j link', () => {
  const links = parseLinks(linkJson);

  it('reads each device, its master, MTU and the tunnel endpoints', () => {
    const vxlan = links.find((l) => l.kind === 'vxlan');
    expect(vxlan?.tunnel).toMatchObject({ type: 'vxlan', id: 97, link: 'phy0' });
    expect(vxlan?.tunnel?.local).toMatch(/^\d+\.\d+\.\d+\.\d+$/);
    const port = links.find((l) => l.slaveKind === 'bridge' && l.tunnel === null);
    expect(port?.master).toBe(links.find((l) => l.kind === 'bridge')?.name);
    expect(links.find((l) => l.name === 'phy0')?.mtu).toBe(9000);
  });

  it('tells kinds from the link info, not from names', () => {
    expect(kinds(links)).toMatchObject({
      tap0: 'tap',
      brq97: 'bridge',
      'vxlan-97': 'vxlan',
      phy0: 'physical',
    });
    // The same devices under names that say nothing.
    const renamed = linkJson
      .replaceAll('"tap0"', '"a1"')
      .replaceAll('"brq97"', '"a2"')
      .replaceAll('"vxlan-97"', '"a3"')
      .replaceAll('"phy0"', '"a4"');
    expect(kinds(parseLinks(renamed))).toMatchObject({
      a1: 'tap',
      a2: 'bridge',
      a3: 'vxlan',
      a4: 'physical',
    });
  });

  it('follows a tap to its bridge, the tunnel devices on it and their underlay', () => {
    const path = followPath('tap0', links, (t) => t.tunnel?.link ?? null);
    expect(path.map((p) => p.name)).toEqual(['tap0', 'brq97', 'vxlan-97', 'phy0']);
    expect(path[3]?.role).toBe('underlay of vxlan-97');
    expect(() => followPath('phy0', links, () => null)).toThrow(/not a port of a bridge/);
    expect(() => followPath('nope0', links, () => null)).toThrow(/no interface nope0/);
  });
});

describe('the snap length of a device', () => {
  const links = parseLinks(linkJson);
  const device = (link: LinkInfo | null) => ({
    spec: { netns: null, device: 'x', label: 'x' },
    kind: 'unknown' as const,
    mtu: null,
    offloads: null,
    role: '',
    link,
  });
  it('keeps its largest super-frame whole, and no more (a slot per frame in dumpcap’s ring)', () => {
    const phy = links.find((l) => l.name === 'phy0') as LinkInfo;
    expect(phy.gsoMaxSize).toBe(65536);
    expect(deviceSnaplen(device(phy))).toBe(65536 + 128);
    expect(deviceSnaplen(device({ ...phy, gsoMaxSize: 185000 }))).toBe(185128);
    expect(deviceSnaplen(device({ ...phy, gsoMaxSize: 600000 }))).toBe(262144);
    expect(deviceSnaplen(device(null))).toBe(262144);
  });
});

describe('ethtool -k', () => {
  it('keeps the features verdicts use, on or off', () => {
    const vxlan = parseFeatures(readFileSync(join(fixtures, 'ethtool-k-vxlan-97.txt'), 'utf8'));
    expect(vxlan).toMatchObject({ gro: 'on', tso: 'on', gso: 'on', 'tx-udp_tnl-segmentation': 'off' });
    expect(Object.keys(vxlan)).toEqual(
      expect.arrayContaining([
        'tso',
        'gso',
        'gro',
        'tx-checksumming',
        'tx-udp_tnl-segmentation',
        'rx-gro-list',
      ]),
    );
    const tap = parseFeatures(readFileSync(join(fixtures, 'ethtool-k-tap0.txt'), 'utf8'));
    expect(tap.gro).toBe('off');
  });
});

describe('interface specs', () => {
  it('IF in this namespace, NETNS/IF in another', () => {
    expect(parseInterfaceSpec('tap0')).toEqual({ netns: null, device: 'tap0', label: 'tap0' });
    expect(parseInterfaceSpec('host1/phy0')).toEqual({ netns: 'host1', device: 'phy0', label: 'host1/phy0' });
    for (const bad of ['a/b/c', '/phy0', 'host1/', 'waytoolonginterfacename', 'eth0:1'])
      expect(() => parseInterfaceSpec(bad), bad).toThrow(UsageError);
  });
});

describe('backend messages and counters', () => {
  it('reads dumpcap’s closing counters apart: kernel and interface drops', () => {
    const line =
      "Packets received/dropped on interface 'phy0': 271234/1532 (pcap:1500/dumpcap:0/flushed:32/ps_ifdrop:7) (99.4%)";
    expect(parseDumpcapCounters(`Capturing on 'phy0'\n${line}\n`)).toEqual({
      received: 271234,
      dropped: 1532,
      ifDropped: 7,
    });
    expect(parseDumpcapCounters('Capturing on x\n')).toBeNull();
  });

  it('reads tcpdump’s closing counters, and asks it for a buffered pcap on stdout', () => {
    const said =
      'listening on phy0, link-type EN10MB (Ethernet), snapshot length 65664 bytes\n' +
      '1135086 packets captured\n1755919 packets received by filter\n620833 packets dropped by kernel\n';
    expect(parseTcpdumpCounters(said)).toEqual({ received: 1755919, dropped: 620833, ifDropped: 0 });
    expect(parseTcpdumpCounters(`${said}3 packets dropped by interface\n`)?.ifDropped).toBe(3);
    expect(parseTcpdumpCounters('listening on phy0\n')).toBeNull();
    // SIGUSR1's one-line reports while it captures, then its closing lines: the latest counts.
    const reports =
      'tcpdump: listening on phy0, link-type EN10MB (Ethernet), snapshot length 256 bytes\n' +
      'tcpdump: 10 packets captured, 12 packets received by filter, 1 packet dropped by kernel\n' +
      'tcpdump: 20 packets captured, 30 packets received by filter, 7 packets dropped by kernel\n';
    expect(parseTcpdumpCounters(reports)).toEqual({ received: 30, dropped: 7, ifDropped: 0 });
    expect(parseTcpdumpCounters(`${reports}${said}`)).toEqual({
      received: 1755919,
      dropped: 620833,
      ifDropped: 0,
    });
    expect(
      tcpdumpArgs('phy0', { filter: 'udp port 4789', snaplen: 65664, bufferSize: 32 * 1048576 }),
    ).toEqual(['-i', 'phy0', '-s', '65664', '-B', '32768', '-nn', '-w', '-', 'udp port 4789']);
    // Not packet-buffered (-U: a write per frame): quiet streams are flushed with a signal.
    expect(TCPDUMP.flushSignal).toBe('SIGUSR2');
  });

  it('classifies what libpcap, dumpcap and ip netns say', () => {
    expect(classifyFailure('socket: Operation not permitted')).toBe('permission');
    expect(
      classifyFailure("The capture session could not be initiated on interface 'x' (No such device exists)."),
    ).toBe('missing');
    expect(classifyFailure('Cannot open network namespace "hs1": No such file or directory')).toBe('missing');
    expect(classifyFailure('tcpdump: pcap_loop: The interface disappeared')).toBe('gone');
    // An interface that exists but is down, in tcpdump's (libpcap's) and dumpcap's words; one that
    // goes down while captured has gone away.
    expect(classifyFailure('tcpdump: hsdown0: That device is not up')).toBe('down');
    expect(classifyFailure('dumpcap: Device "hsdown0" is not up. (That device is not up)')).toBe('down');
    expect(classifyFailure('tcpdump: pcap_loop: The interface went down')).toBe('gone');
    expect(
      classifyFailure(
        'The network adapter on which the capture was being done is no longer running; the capture has stopped.',
      ),
    ).toBe('gone');
    expect(
      permissionMessage(
        'dumpcap',
        'dumpcap: You do not have permission. (socket: Operation not permitted) Please check',
      ),
    ).toMatch(/CAP_NET_RAW.*setcap cap_net_raw,cap_net_admin\+eip .*\(socket: Operation not permitted\)$/);
  });

  it('asks dumpcap for the snap length it can give and the buffer in MiB', () => {
    expect(
      dumpcapArgs('phy0', { filter: 'udp port 4789', snaplen: 1_000_000, bufferSize: 64 * 1048576 }),
    ).toEqual(['-i', 'phy0', '-s', '262144', '-B', '64', '-w', '-', '-q', '-f', 'udp port 4789']);
  });

  it('cap missing or unbuilt: says how to get it', () => {
    const missing = loadCap('cap-that-is-not-installed');
    expect(missing).toBeInstanceOf(Error);
    expect((missing as Error).message).toMatch(
      /apt-get install libpcap-dev .*then npm rebuild cap.*--backend dumpcap/,
    );
  });

  it('cap: a frame that fills its snap length is as long as its IP header says (BIG TCP: longer)', () => {
    const frame = new Uint8Array(65535);
    frame[12] = 0x08;
    frame[14] = 0x45;
    frame[16] = 0xff;
    frame[17] = 0xff; // IPv4 total length 65535: 14 + 65535 on the wire
    expect(lengthFromHeaders(frame, 65535)).toBe(14 + 65535);
    frame[16] = 0;
    frame[17] = 0; // BIG TCP: total length 0, the real one unknown
    expect(lengthFromHeaders(frame, 65535)).toBeGreaterThan(65535);
  });
});
