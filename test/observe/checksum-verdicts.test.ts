// Per-hop checksum verdicts on hand-built frames, each rule derived from the protocol and from
// what Linux does: local checksum offload only over an inner partial sum, zero UDP checksums over
// IPv6 (allowed for tunnels only), UDP lengths that lie, BIG TCP through a tunnel, and an IPv4
// header left to the NIC by a TSO sender.
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { decodeFrameAt } from '../../src/decode/decode.js';
import { createPacket, DecodeStatus, type Packet } from '../../src/decode/packet.js';
import { CATALOG } from '../../src/findings/catalog.js';
import { classifyIpv4Header, completedChecksum, fold, sumWords } from '../../src/observe/checksum.js';
import { classifyTransport } from '../../src/observe/checksums.js';
import { analyzeJson } from '../analyze/helpers.js';
import { buildPcap } from '../capture/helpers.js';
import { be16, be32, cat, eth, hex, ipv6, lvl, readPcap, run, tcp, udp, vxlan } from '../decode/helpers.js';

const ETH = 1;
const dir = mkdtempSync(join(tmpdir(), 'hopscope-verdicts-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** IPv4 header (no options) 10.0.0.1 -> 10.0.0.2 with a correct header checksum over `total`. */
function v4(proto: number, payload: Uint8Array, total = 20 + payload.length): Uint8Array {
  const h = cat(hex('45 00'), be16(total), hex('12 34 40 00 40'), new Uint8Array([proto]), hex('00 00'));
  const addr = hex('0a 00 00 01 0a 00 00 02');
  const header = cat(h, addr);
  const sum = ~fold(sumWords(header, 0, 20)) & 0xffff;
  header[10] = sum >> 8;
  header[11] = sum & 0xff;
  return cat(header, payload);
}

/** Pseudo-header sum of an IPv4 (addresses at ip+12) or IPv6 (addresses at ip+8) level. */
function pseudo(frame: Uint8Array, ip: number, version: 4 | 6, proto: number, length: number): number {
  const addr = version === 4 ? sumWords(frame, ip + 12, ip + 20) : sumWords(frame, ip + 8, ip + 40);
  return addr + proto + Math.floor(length / 0x10000) + (length & 0xffff);
}

/** Writes a transport checksum at `l4 + at`: 'good', 'partial' or a value. */
function setChecksum(
  frame: Uint8Array,
  ip: number,
  version: 4 | 6,
  proto: number,
  l4: number,
  length: number,
  value: 'good' | 'partial' | number,
): number {
  const at = l4 + (proto === 6 ? 16 : 6);
  frame[at] = 0;
  frame[at + 1] = 0;
  const p = pseudo(frame, ip, version, proto, length);
  let v: number;
  if (value === 'partial') v = fold(p);
  else if (value === 'good') {
    v = ~fold(p + sumWords(frame, l4, l4 + length)) & 0xffff;
    if (v === 0 && proto === 17) v = 0xffff;
  } else v = value;
  frame[at] = v >> 8;
  frame[at + 1] = v & 0xff;
  return v;
}

function writePcap(file: string, frames: Uint8Array[]): void {
  writeFileSync(
    file,
    buildPcap(
      true,
      0xa1b2c3d4,
      frames.map((f, i) => [1_700_000_000, i, Buffer.from(f), f.length]),
    ),
  );
}

const classes = (p: Packet, data: Uint8Array) =>
  Array.from({ length: p.levelCount }, (_, i) => classifyTransport(p, data, i));

/** VXLAN over IPv4 carrying TCP over IPv4: offsets of the two IP headers and L4 headers. */
function vxlanTcp(payload = 200) {
  const body = new Uint8Array(payload).map((_, i) => (i * 13) & 0xff);
  const innerTcp = tcp(40000, 80, new Uint8Array(0), body);
  const inner = eth(0x0800, v4(6, innerTcp));
  const f = eth(0x0800, v4(17, udp(33333, 4789, vxlan(97, inner))));
  const outerIp = 14;
  const outerUdp = 34;
  const innerIp = outerUdp + 8 + 8 + 14;
  const innerL4 = innerIp + 20;
  return {
    f,
    outerIp,
    outerUdp,
    innerIp,
    innerL4,
    innerLength: innerTcp.length,
    outerLength: f.length - outerUdp,
  };
}

describe('local checksum offload needs an inner partial sum', () => {
  it('outer verifying with the inner completed: lco when the inner is partial, bad when the inner is neither', () => {
    const x = vxlanTcp();
    // LCO as Linux does it: the inner left partial, the outer computed over the completed inner.
    const partial = setChecksum(x.f, x.innerIp, 4, 6, x.innerL4, x.innerLength, 'partial');
    const innerSum = sumWords(x.f, x.innerL4, x.innerL4 + x.innerLength);
    const completed = completedChecksum(pseudo(x.f, x.innerIp, 4, 6, x.innerLength), innerSum, partial);
    const at = x.innerL4 + 16;
    x.f[at] = completed >> 8;
    x.f[at + 1] = completed & 0xff;
    setChecksum(x.f, x.outerIp, 4, 17, x.outerUdp, x.outerLength, 'good');
    x.f[at] = partial >> 8;
    x.f[at + 1] = partial & 0xff;
    let p = run(ETH, x.f);
    expect(p.status).toBe(DecodeStatus.OK);
    expect(classes(p, x.f)).toEqual(['lco', 'partial']);

    // A byte of the inner payload changed after the sums: completing the inner checksum would
    // absorb it, but the inner is no longer partial, so nothing explains the outer.
    const y = vxlanTcp();
    const yPartial = setChecksum(y.f, y.innerIp, 4, 6, y.innerL4, y.innerLength, 'partial');
    const yCompleted = completedChecksum(
      pseudo(y.f, y.innerIp, 4, 6, y.innerLength),
      sumWords(y.f, y.innerL4, y.innerL4 + y.innerLength),
      yPartial,
    );
    const yAt = y.innerL4 + 16;
    y.f[yAt] = yCompleted >> 8;
    y.f[yAt + 1] = yCompleted & 0xff;
    setChecksum(y.f, y.outerIp, 4, 17, y.outerUdp, y.outerLength, 'good');
    // Corrupt the inner checksum and a payload word so that the outer sum is unchanged by the pair.
    y.f[yAt] = (yPartial >> 8) ^ 0x01;
    y.f[yAt + 1] = yPartial & 0xff;
    y.f[y.innerL4 + 30] = (y.f[y.innerL4 + 30] as number) ^ 0x01;
    p = run(ETH, y.f);
    expect(classes(p, y.f)).toEqual(['bad', 'bad']);
  });

  it('the catalogue never calls an unverifiable payload "not corruption"', () => {
    for (const code of ['checksum.partial', 'checksum.lco', 'checksum.gro-merged']) {
      const entry = CATALOG.find((e) => e.code === code);
      const words = JSON.stringify(entry);
      expect(words).not.toMatch(/not corruption/i);
      expect(words).toMatch(/not verifiable here/);
    }
  });
});

describe('one sum per segment', () => {
  it('a tunnel summed once: outer and inner classes as if each were summed alone, in a reused buffer too', () => {
    // The outer datagram's sum is its headers plus the inner segment's; the inner segment's sum is
    // kept for the inner class. Two frames decoded in turn into one buffer at the same offsets:
    // the second must not be judged with the first one's sums.
    const good = vxlanTcp(1400);
    setChecksum(good.f, good.innerIp, 4, 6, good.innerL4, good.innerLength, 'good');
    setChecksum(good.f, good.outerIp, 4, 17, good.outerUdp, good.outerLength, 'good');
    const changed = Uint8Array.from(good.f);
    // One payload byte changed after both sums: both checksums are wrong now.
    changed[good.innerL4 + 700] = (changed[good.innerL4 + 700] as number) ^ 0x40;
    const buffer = new Uint8Array(good.f.length + 64);
    const packet = createPacket();
    const judge = (frame: Uint8Array) => {
      buffer.set(frame, 32);
      decodeFrameAt(ETH, buffer, 32, frame.length, frame.length, packet);
      return classes(packet, buffer);
    };
    expect(judge(good.f)).toEqual(['good', 'good']);
    expect(judge(changed)).toEqual(['bad', 'bad']);
    expect(judge(good.f)).toEqual(['good', 'good']);
    // The same classes from a fresh decode of each frame alone.
    expect(classes(run(ETH, changed), changed)).toEqual(['bad', 'bad']);
  });

  it('a checksum that is the partial sum is offload without its payload summed: even where the payload is cut', () => {
    const x = vxlanTcp(1400);
    setChecksum(x.f, x.innerIp, 4, 6, x.innerL4, x.innerLength, 'partial');
    setChecksum(x.f, x.outerIp, 4, 17, x.outerUdp, x.outerLength, 'good');
    expect(classes(run(ETH, x.f), x.f)).toEqual(['good', 'partial']);
    // Cut after the inner TCP header: the outer cannot be verified, the inner is still partial.
    const cut = run(ETH, x.f, { snap: x.innerL4 + 40 });
    expect(classes(cut, x.f.subarray(0, x.innerL4 + 40))).toEqual(['unverifiable', 'partial']);
  });
});

describe('zero UDP checksums over IPv6', () => {
  /** VXLAN or plain UDP over IPv6, UDP checksum 0. */
  function v6Udp(dport: number, inner: Uint8Array): Uint8Array {
    return eth(0x86dd, ipv6(17, udp(33333, dport, inner)));
  }

  it('are zero on a tunnel (RFC 6935/6936), and zero with their own finding elsewhere, never bad', async () => {
    const innerTcp = tcp(40000, 80, new Uint8Array(0), new Uint8Array(40));
    const tunnel = v6Udp(4789, vxlan(97, eth(0x0800, v4(6, innerTcp))));
    tunnel[14 + 40 + 6] = 0;
    tunnel[14 + 40 + 7] = 0;
    setChecksum(tunnel, 14 + 40 + 16 + 14, 4, 6, 14 + 40 + 16 + 14 + 20, innerTcp.length, 'good');
    const plain = v6Udp(53, new Uint8Array(30).fill(7));
    plain[14 + 40 + 6] = 0;
    plain[14 + 40 + 7] = 0;
    let p = run(ETH, tunnel);
    expect(classes(p, tunnel)).toEqual(['zero', 'good']);
    p = run(ETH, plain);
    expect(classes(p, plain)).toEqual(['zero']);

    const file = join(dir, 'udp6-zero.pcap');
    const frames = [tunnel, plain, plain];
    writePcap(file, frames);
    const { report } = await analyzeJson([file]);
    expect(report.findings.find((f) => f.code === 'checksum.bad')).toBeUndefined();
    const zero = report.findings.find((f) => f.code === 'checksum.udp6-zero');
    expect(zero?.count).toBe(2);
    expect(zero?.evidence.map((e) => e.frame)).toEqual([2, 3]);
    expect(report.hops[0]?.checksums.zero).toBe(3);
  });
});

describe('UDP lengths', () => {
  it('below 8 or beyond the IP payload: malformed, no checksum verdict', async () => {
    const short = eth(0x0800, v4(17, udp(1, 2, new Uint8Array(12), 7)));
    const long = eth(0x0800, v4(17, udp(1, 2, new Uint8Array(12), 100)));
    for (const f of [short, long]) {
      const p = run(ETH, f);
      expect(p.status).toBe(DecodeStatus.MALFORMED);
      expect(classifyTransport(p, f, 0)).toBeNull();
    }
    const file = join(dir, 'udp-len.pcap');
    writePcap(file, [short, long]);
    const { report } = await analyzeJson([file]);
    expect(report.findings.find((f) => f.code === 'checksum.bad')).toBeUndefined();
    const malformed = report.findings.filter((f) => f.code === 'capture.malformed');
    expect(malformed.length).toBeGreaterThan(0);
    expect(JSON.stringify(malformed)).toMatch(/udp: length/);
  });

  it('the pseudo-header and the sum cover the UDP length, not bytes after it in the IP payload', () => {
    // UDP length 20 in an IP payload of 24: 4 trailing bytes that are not UDP's.
    const f = eth(0x0800, v4(17, cat(udp(1, 2, new Uint8Array(12).fill(0x5a), 20), hex('de ad be ef'))));
    setChecksum(f, 14, 4, 17, 34, 20, 'good');
    let p = run(ETH, f);
    expect(p.status).toBe(DecodeStatus.OK);
    expect(classifyTransport(p, f, 0)).toBe('good');
    setChecksum(f, 14, 4, 17, 34, 20, 'partial');
    p = run(ETH, f);
    expect(classifyTransport(p, f, 0)).toBe('partial');
  });
});

describe('BIG TCP through a tunnel', () => {
  const PAYLOAD = 70_000;

  it('IPv4 total length 0 carrying VXLAN: decoded, outer UDP and inner TCP partial with the 32-bit length', () => {
    const body = new Uint8Array(PAYLOAD).map((_, i) => i & 0xff);
    const innerTcp = tcp(40000, 80, new Uint8Array(0), body);
    const inner = eth(0x0800, v4(6, innerTcp, 0));
    const outerUdp = udp(33333, 4789, vxlan(97, inner), 0);
    const f = eth(0x0800, v4(17, outerUdp, 0));
    const innerIp = 14 + 20 + 8 + 8 + 14;
    setChecksum(f, innerIp, 4, 6, innerIp + 20, innerTcp.length, 'partial');
    setChecksum(f, 14, 4, 17, 34, outerUdp.length, 'partial');
    const p = run(ETH, f);
    expect(p.status).toBe(DecodeStatus.OK);
    expect(p.levelCount).toBe(2);
    expect(lvl(p, 0).bigTcp).toBe(true);
    expect(lvl(p, 0).udpLength).toBe(outerUdp.length);
    expect(classes(p, f)).toEqual(['partial', 'partial']);
    // Linux BIG TCP computes the IPv4 header checksum over total length 0: it verifies.
    expect(classifyIpv4Header(f, 14, 20, f.length)).toBe('good');
    // A stored sum that is off is no longer skipped: bad, the payload being all captured.
    f[34 + 6] = (f[34 + 6] as number) ^ 0x10;
    expect(classifyTransport(run(ETH, f), f, 0)).toBe('bad');
  });

  it('an IPv6 jumbogram carrying UDP (VXLAN), with and without the hop-by-hop jumbo option', () => {
    const body = new Uint8Array(PAYLOAD).map((_, i) => (i * 3) & 0xff);
    const innerTcp = tcp(40000, 80, new Uint8Array(0), body);
    const inner = eth(0x86dd, ipv6(6, innerTcp, 0));
    const outerUdp = udp(33333, 4789, vxlan(97, inner), 0);
    const hbh = cat(new Uint8Array([17, 0, 0xc2, 4]), be32(8 + outerUdp.length));
    const withOption = eth(0x86dd, ipv6(0, cat(hbh, outerUdp), 0));
    const bare = eth(0x86dd, ipv6(17, outerUdp, 0));
    for (const [f, ext] of [
      [withOption, 8],
      [bare, 0],
    ] as const) {
      const l4 = 14 + 40 + ext;
      const innerIp = l4 + 8 + 8 + 14;
      setChecksum(f, innerIp, 6, 6, innerIp + 40, innerTcp.length, 'partial');
      setChecksum(f, 14, 6, 17, l4, outerUdp.length, 'partial');
      const p = run(ETH, f);
      expect(p.status).toBe(DecodeStatus.OK);
      expect(lvl(p, 0).bigTcp).toBe(true);
      expect(classes(p, f)).toEqual(['partial', 'partial']);
    }
  });
});

const BIGTCP_CAPTURE = join(
  import.meta.dirname,
  '..',
  '..',
  '..',
  'shared',
  'corpus',
  'tcpdump-bigtcp-v4-vxlan-v4.pcap',
);

describe.skipIf(!existsSync(BIGTCP_CAPTURE))(
  'BIG TCP through VXLAN, as recorded (tcpdump test capture)',
  () => {
    it('decodes both levels and finds the outer UDP and inner TCP checksums partial', () => {
      const cap = readPcap(BIGTCP_CAPTURE);
      const rec = cap.records[0];
      if (rec === undefined) throw new Error('empty capture');
      const p = run(cap.linkType, rec.data, { orig: rec.originalLength });
      expect(p.status).toBe(DecodeStatus.OK);
      expect(p.levelCount).toBe(2);
      expect(lvl(p, 0).bigTcp && lvl(p, 1).bigTcp).toBe(true);
      expect(classes(p, rec.data)).toEqual(['partial', 'partial']);
      expect(classifyIpv4Header(rec.data, lvl(p, 0).ipOffset, 20, rec.data.length)).toBe('good');
    });
  },
);

describe('an IPv4 header left to the NIC by a TSO sender', () => {
  it('total length 0 and checksum 0: zero with its own finding, not a bad header checksum', async () => {
    const body = new Uint8Array(3000).fill(1);
    const seg = tcp(40000, 80, new Uint8Array(0), body);
    const f = eth(0x0800, v4(6, seg, 0));
    f[14 + 10] = 0;
    f[14 + 11] = 0;
    setChecksum(f, 14, 4, 6, 34, seg.length, 'good');
    expect(classifyIpv4Header(f, 14, 20, f.length)).toBe('zero');
    // A header checksum of 0 on a header with a length is simply wrong.
    const g = eth(0x0800, v4(6, seg));
    g[14 + 10] = 0;
    g[14 + 11] = 0;
    expect(classifyIpv4Header(g, 14, 20, g.length)).toBe('bad');

    const file = join(dir, 'tso.pcap');
    writePcap(file, [f]);
    const { report } = await analyzeJson([file]);
    expect(report.findings.find((x) => x.code === 'checksum.bad')).toBeUndefined();
    expect(report.findings.find((x) => x.code === 'checksum.ipv4-tso')?.evidence.map((e) => e.frame)).toEqual(
      [1],
    );
  });
});
