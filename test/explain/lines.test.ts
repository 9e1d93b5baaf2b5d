// Lines as operators paste them: the seed articles' tcpdump lines verbatim, Wireshark/tshark list
// lines, ICMP size messages, and lines cut, wrapped, glued to prose or of protocols hopscope does
// not know, which pass through untouched.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Verdict } from '../../src/explain/classify.js';
import { createExplainer, type Explained } from '../../src/explain/explain.js';
import { renderOutput, renderSummary } from '../../src/explain/render.js';
import { fillTemplate, lineText } from '../../src/findings/catalog.js';
import { mtuAdvice } from '../../src/findings/mtu-advice.js';
import { fold, pseudoHeaderSumV4 } from '../../src/observe/checksum.js';
import { FIXTURES, SAMPLES } from '../decode/helpers.js';
import { explainText } from '../helpers/explain-compare.js';

const TCPDUMP = spawnSync('tcpdump', ['--version'], { encoding: 'utf8' }).status === 0;
const TSHARK = spawnSync('tshark', ['--version'], { encoding: 'utf8' }).status === 0;

const fixture = (name: string) => readFileSync(join(FIXTURES, 'explain', name), 'utf8');
const notable = (e: Explained): Verdict[] => e.verdicts.filter((v) => v.notable);
const byLine = (records: Explained[], text: string): Explained => {
  const found = records.find((r) => r.record.lines.some((l) => l.includes(text)));
  if (found === undefined) throw new Error(`no record with ${text}`);
  return found;
};

/** Text mode's output for a text: every input line, and the explanations. */
function explainOutput(text: string): string {
  const explainer = createExplainer();
  const options = { json: false, summaryOnly: false, color: false };
  let out = '';
  for (const line of text.split('\n')) for (const o of explainer.push(line)) out += renderOutput(o, options);
  for (const o of explainer.flush()) out += renderOutput(o, options);
  return out + renderSummary(explainer.summary(), options);
}

/** The partial pseudo-header sum of two IPv4 addresses, computed here on bytes as analyze does. */
function partialV4(src: number[], dst: number[], protocol: number, length: number): number {
  const header = new Uint8Array(20);
  header.set(src, 12);
  header.set(dst, 16);
  return fold(pseudoHeaderSumV4(header, 0, protocol, length));
}

describe('the seed articles’ lines, verbatim', () => {
  const records = explainText(fixture('seed-000-tcpdump.txt'));

  it('every "incorrect" TCP checksum is the partial sum: offload, with the arithmetic', () => {
    const cases: Array<[string, number]> = [
      ['cksum 0x2ecb (incorrect -> 0xc064)', 1480],
      ['cksum 0x27ac (incorrect -> 0x74c2)', 65192],
      ['cksum 0x186c (incorrect -> 0xad42)', 61288],
      ['cksum 0x34b7 (incorrect -> 0x97b3)', 2996],
      ['cksum 0xf5af (incorrect -> 0x47b1)', 52396],
      ['cksum 0x2cff (incorrect -> 0x3143)', 1020],
      ['cksum 0x899f (incorrect -> 0xf01d)', 24732],
      ['cksum 0x2ecb (incorrect -> 0x1924)', 1480],
      ['cksum 0x27ac (incorrect -> 0xdeb7)', 65192],
      ['cksum 0x27ac (incorrect -> 0x2e18)', 65192],
    ];
    for (const [text, length] of cases) {
      const v = notable(byLine(records, text)).find((x) => x.code === 'checksum.partial');
      expect(v, text).toBeDefined();
      const stored = Number.parseInt(text.slice(6, 12), 16);
      expect(partialV4([20, 0, 0, 150], [20, 0, 0, 103], 6, length)).toBe(stored);
      expect(v?.facts.l4Length).toBe(length);
      expect(v?.proof.checksum).toEqual({ transport: 'tcp', inner: false, cls: 'partial' });
      const words = lineText('checksum.partial', v?.facts ?? {});
      expect(words).toContain('Transmit checksum offload; not an error');
      expect(words).toMatch(new RegExp(`(= |folded )0x${stored.toString(16)}\\.`));
      expect(words).toContain('0x1400 + 0x0096 + 0x1400 + 0x0067 (addresses) + 6 (protocol)');
    }
  });

  it('reads the no-break spaces the article’s lines carry as tcpdump’s spaces', () => {
    const r = byLine(records, 'cksum 0x2ecb (incorrect -> 0xc064)');
    expect(r.record.lines.join('\n')).toContain('length\u00a01448');
    expect(r.record.layers[0]?.payload).toBe(1448);
    expect(r.record.layers[0]?.tcpHeaderLength).toBe(32);
  });

  it('frames above any link’s size are super-frames; a 2,964-byte one needs the MSS to tell', () => {
    for (const text of ['length 65160', 'length 61256', 'length 52364', 'length 24700']) {
      const v = notable(byLine(records, text)).find((x) => x.code === 'segment.super-frame');
      expect(v?.proof.superFrame, text).toBe(true);
      expect(lineText('segment.super-frame', v?.facts ?? {})).toMatch(/a super-frame \(TSO\/GSO or GRO\)/);
    }
    const v = notable(byLine(records, 'length 2964')).find((x) => x.code === 'text.needs-more');
    expect(lineText('text.needs-more', v?.facts ?? {})).toContain('the MSS is not in these lines');
  });

  it('truncated-ip on VXLAN: the outer fragmentation arithmetic and the fix numbers', () => {
    const v = notable(byLine(records, 'truncated-ip - 154 bytes missing!')).find(
      (x) => x.code === 'fragment.outer',
    );
    expect(v).toBeDefined();
    const f = v?.facts ?? {};
    // 1448 payload + 20 TCP + 12 options + 20 IP; VXLAN over IPv4 adds 50.
    expect(f.innerSize).toBe(1500);
    expect(f.outerSize).toBe(1550);
    expect(f.firstFragment).toBe(1500 - 154 + 50);
    expect(f.mtu).toBe(1396);
    expect(f.mtuMax).toBe(1403);
    expect(f.maxOverlayMtu).toBe(mtuAdvice(1396, 50, 1500, 40).maxOverlayMtu);
    expect(lineText('fragment.outer', f)).toContain('1500 + 50 (VXLAN over IPv4) = 1550 bytes');
  });

  it('the inner packets of VXLAN lines are not super-frames and carry no verdict of their own', () => {
    const r = byLine(records, 'seq 96306288');
    expect(r.record.layers[0]?.tunnel).toBe('vxlan');
    expect(r.record.layers[1]?.payload).toBe(988);
    expect(notable(r)).toEqual([]);
  });

  it('prints each line untouched, then its explanation, then the summary in the catalogue’s words', () => {
    const text = fixture('seed-000-tcpdump.txt');
    const out = explainOutput(text);
    const echoed = out.split('\n').filter((l) => !l.startsWith('  ↳ '));
    // Every input line comes out as it went in, in order.
    expect(echoed.slice(0, text.split('\n').length)).toEqual(text.split('\n'));
    expect(out).toContain('checksum.partial');
    expect(out).toMatch(/\d+ TCP checksums hold exactly the folded pseudo-header sum/);
  });
});

describe('lines that pass through untouched', () => {
  it('prose with a cut checksum, cut and wrapped lines, unknown protocols: no error, no verdict', () => {
    const lines = [
      fixture('seed-001-prose.txt').trimEnd(),
      '    20.0.0.150.56230 > 20.0.0.103.5001: Flags [.], cksum 0x2ecb (incorre',
      '07:56:04.857427 IP (tos 0x0, ttl 64, id 43384, offset 0, flags [DF], proto TCP (6), len',
      'gth 1500)',
      '12:00:00.000001 ARP, Request who-has 10.0.0.1 tell 10.0.0.2, length 28',
      '12:00:00.000002 IP 10.0.0.1.5353 > 224.0.0.251.5353: 0 [1au] PTR (QM)? _ipp._tcp.local. (45)',
      '12:00:00.000003 STP 802.1d, Config, Flags [none], bridge-id 8000.aa:bb:cc:dd:ee:ff.8001, length 35',
      'ip-proto-17 20.0.0',
      '',
      '\u0000\u0001binary\u00ff',
    ];
    const text = lines.join('\n');
    const out = explainOutput(text);
    expect(out.split('\n').slice(0, lines.length)).toEqual(lines);
    const records = explainText(text);
    for (const r of records) expect(notable(r).filter((v) => v.code !== 'text.needs-more')).toEqual([]);
  });

  it('a line wrapped by a ticket system keeps its verdict when the wrap falls between words', () => {
    const wrapped = [
      '07:56:04.857427 IP (tos 0x0, ttl 64, id 43384, offset 0, flags [DF], proto TCP (6), length 1500)',
      '    20.0.0.150.56230 > 20.0.0.103.5001: Flags [.], cksum 0x2ecb (incorrect -> 0xc064), seq 438742392:438743840,',
      'ack 1, win 229, options [nop,nop,TS val 7353870 ecr 564507], length 1448',
    ].join('\n');
    const [r] = explainText(wrapped);
    expect(r?.verdicts.find((v) => v.notable)?.proof.checksum?.cls).toBe('partial');
  });

  it('one tcpdump transport line pasted alone: the TCP length from the payload and the printed options', () => {
    const line =
      '20.0.0.150.56230 > 20.0.0.103.5001: Flags [.], cksum 0x2ecb (incorrect -> 0xc064), seq 438742392:438743840, ack 1, win 229, options [nop,nop,TS val 7353870 ecr 564507], length 1448';
    const [r] = explainText(line);
    const v = r?.verdicts.find((x) => x.code === 'checksum.partial' && x.notable);
    expect(v?.facts.lengthFrom).toBe('payload');
    expect(lineText('checksum.partial', v?.facts ?? {})).toContain(
      '(payload 1448 + TCP header 32 with the printed options)',
    );
  });

  it('a wrong checksum that is not the partial sum is really wrong, with the hop to capture next', () => {
    const text = [
      '12:00:00.000001 eth0 In  IP (tos 0x0, ttl 64, id 1, offset 0, flags [DF], proto TCP (6), length 52)',
      '    10.0.0.1.80 > 10.0.0.2.4000: Flags [.], cksum 0x1234 (incorrect -> 0xbeef), seq 1, ack 1, win 63, options [nop,nop,TS val 1 ecr 2], length 0',
    ].join('\n');
    const [r] = explainText(text);
    const v = r?.verdicts.find((x) => x.notable);
    expect(v?.code).toBe('checksum.bad');
    expect(fold(0)).toBe(0);
    expect(v?.facts.partial).toBe(
      `0x${partialV4([10, 0, 0, 1], [10, 0, 0, 2], 6, 32).toString(16).padStart(4, '0')}`,
    );
    expect(lineText('checksum.bad', v?.facts ?? {})).toContain(
      'really wrong, or rewritten after capture. Capture the same flow at the sending side of eth0’s link',
    );
  });

  it('names instead of addresses: says to add -nn instead of guessing', () => {
    const text = [
      '12:00:00.000001 IP (tos 0x0, ttl 64, id 1, offset 0, flags [DF], proto TCP (6), length 52)',
      '    web.example.com.http > client.example.com.40000: Flags [.], cksum 0x1234 (incorrect -> 0xbeef), seq 1, ack 1, win 63, length 0',
    ].join('\n');
    const [r] = explainText(text);
    const v = r?.verdicts.find((x) => x.notable);
    expect(v?.code).toBe('text.needs-more');
    expect(lineText('text.needs-more', v?.facts ?? {})).toContain('run tcpdump with -nn');
  });
});

describe('Wireshark and tshark list lines', () => {
  it('Len= above the MSS, [TCP CHECKSUM INCORRECT], previous segment not captured, fragments', () => {
    const text = [
      'No.     Time           Source                Destination           Protocol Length Info',
      '    1   0.000000  10.97.0.150 → 10.97.0.103  TCP 74 60756 → 5201 [SYN] Seq=0 Win=64240 [TCP CHECKSUM INCORRECT] Len=0 MSS=1460 SACK_PERM TSval=1 TSecr=0 WS=1024',
      '    2   0.000052  10.97.0.103 → 10.97.0.150  TCP 74 5201 → 60756 [SYN, ACK] Seq=0 Ack=1 Win=65160 Len=0 MSS=1460 SACK_PERM TSval=2 TSecr=1 WS=1024',
      '    3   0.002411  10.97.0.150 → 10.97.0.103  TCP 65226 60756 → 5201 [PSH, ACK] Seq=38 Ack=1 Win=64512 Len=65160 TSval=3 TSecr=2',
      '4\t0.200995\t10.200.0.42\t10.200.0.43\tIPv4\t188\tFragmented IP protocol (proto=UDP 17, off=1376, ID=b67f)',
      '"5","0.200998","10.97.0.150","10.97.0.103","TCP","1410","[TCP Previous segment not captured] 60762 → 5201 [ACK] Seq=1486 Ack=1 Win=64512 Len=1294"',
    ].join('\n');
    const records = explainText(text);
    expect(records.map((r) => r.record.frame)).toEqual([1, 2, 3, 4, 5]);
    expect(notable(records[0] as Explained).map((v) => v.code)).toEqual(['text.needs-more']);
    const superFrame = notable(records[2] as Explained).find((v) => v.code === 'segment.super-frame');
    expect(superFrame?.facts.segments).toBe(Math.ceil(65160 / 1460));
    expect(lineText('segment.super-frame', superFrame?.facts ?? {})).toContain(
      'carried as 45 segments of up to 1460 bytes',
    );
    const fragments = notable(records[3] as Explained).filter((v) => v.code === 'fragment.ip');
    expect(fragments.length).toBe(1);
    const fragment = fragments[0];
    expect(fragment?.facts.firstSize).toBe(1396);
    expect(notable(records[4] as Explained).map((v) => v.code)).toContain('capture.previous-segment');
  });
});

describe.skipIf(!TCPDUMP || !TSHARK)(
  `ICMP size messages from the lab${TCPDUMP && TSHARK ? '' : ' (skipped: tcpdump or tshark not installed)'}`,
  () => {
    it('need to frag: who sent it and the MTU the guest will use; tshark’s list lacks the MTU', () => {
      const path = join(SAMPLES, 'pmtu-underlay', 'host1-tap0.pcap');
      const dump = spawnSync('tcpdump', ['-vv', '-nn', '-r', path], { encoding: 'utf8' }).stdout;
      const frag = explainText(dump)
        .flatMap(notable)
        .filter((v) => v.code === 'pmtu.frag-needed');
      expect(frag.length).toBeGreaterThan(0);
      const v = frag[0] as Verdict;
      expect(v.facts.sender).toBe('flow-destination');
      const mtu = v.facts.mtu as number;
      expect(v.facts.mss).toBe(mtu - 40);
      expect(lineText(v.code, v.facts)).toContain(`the path carries at most ${mtu} bytes`);
      const quiet = spawnSync('tcpdump', ['-nn', '-r', path], { encoding: 'utf8' }).stdout;
      const plain = explainText(quiet)
        .flatMap(notable)
        .find((x) => x.code === 'pmtu.frag-needed');
      expect(plain?.facts.sender).toBe('flow-destination');
      const shark = spawnSync('tshark', ['-n', '-r', path], { encoding: 'utf8' }).stdout;
      const listed = explainText(shark)
        .flatMap(notable)
        .find((x) => x.code === 'text.needs-more');
      expect(fillTemplate('{missing}', listed?.facts ?? {})).toBe('icmp-mtu');
    });
  },
);

describe('the packet list in its other forms', () => {
  it('the GUI’s Copy as Text (no arrow) and tshark -t ad (date and clock)', () => {
    const text = [
      '      1 0.000000000    10.97.0.150           10.97.0.103           TCP      74     60756 → 5201 [SYN] Seq=0 Win=64240 Len=0 MSS=1460 SACK_PERM',
      '      2 0.000052000    10.97.0.103           10.97.0.150           TCP      74     5201 → 60756 [SYN, ACK] Seq=0 Ack=1 Win=65160 Len=0 MSS=1460',
      '   3 2026-11-26 23:29:08.977431  10.97.0.150 → 10.97.0.103  TCP 7306 60756 → 5201 [PSH, ACK] Seq=38 Ack=1 Win=64512 Len=7240 TSval=3519981737 TSecr=2751276347',
    ].join('\n');
    const records = explainText(text);
    expect(records.map((r) => r.record.dialect)).toEqual(['tshark', 'tshark', 'tshark']);
    const v = notable(records[2] as Explained).find((x) => x.code === 'segment.super-frame');
    expect(v?.facts.segments).toBe(5);
  });
});

describe('a bad outer UDP checksum on a tunnel port', () => {
  it('without the inner checksum printed: offload on the sending host, and what the text cannot prove', () => {
    const text = [
      '23:29:08.975055 IP (tos 0x0, ttl 64, id 9187, offset 0, flags [none], proto UDP (17), length 110)',
      '    10.200.0.42.52336 > 10.200.0.43.4789: [bad udp cksum 0xffff -> 0x58a8!] VXLAN, flags [I] (0x08), vni 97',
    ].join('\n');
    const [r] = explainText(text);
    const v = r?.verdicts.find((x) => x.notable);
    expect(v?.code).toBe('checksum.undecided');
    expect(v?.proof).toEqual({});
    const words = lineText('checksum.undecided', v?.facts ?? {});
    expect(words).toContain('On a VXLAN port this is usually local checksum offload');
    expect(words).toContain('The text cannot prove it: the inner checksum is not printed');
  });
});

describe('-i any directions and ICMPv6', () => {
  it('a tap’s incoming super-frame is the guest’s TSO/GSO; an outgoing one at a NIC is this host’s', () => {
    const text = [
      '12:00:00.000001 tap0  In  IP 10.97.0.150.60756 > 10.97.0.103.5201: Flags [S], seq 1, win 64240, options [mss 1460,sackOK,TS val 1 ecr 0,nop,wscale 10], length 0',
      '12:00:00.000002 tap0  Out IP 10.97.0.103.5201 > 10.97.0.150.60756: Flags [S.], seq 1, ack 2, win 65160, options [mss 1460,sackOK,TS val 2 ecr 1,nop,wscale 10], length 0',
      '12:00:00.000003 tap0  In  IP 10.97.0.150.60756 > 10.97.0.103.5201: Flags [.], seq 1:65161, ack 1, win 63, options [nop,nop,TS val 3 ecr 2], length 65160',
      '12:00:00.000004 eth0  In  IP 10.97.0.103.5201 > 10.97.0.150.60756: Flags [.], seq 1:14601, ack 1, win 63, options [nop,nop,TS val 3 ecr 2], length 14600',
    ].join('\n');
    const records = explainText(text);
    const [guest, merged] = [records[2], records[3]].map((r) => r?.verdicts.find((v) => v.proof.superFrame));
    expect(guest?.facts.direction).toBe('incoming-from-guest');
    expect(lineText('segment.super-frame', guest?.facts ?? {})).toContain('the guest’s TSO/GSO, incoming');
    expect(guest?.facts.segments).toBe(45);
    expect(merged?.facts.direction).toBe('incoming');
    expect(lineText('segment.super-frame', merged?.facts ?? {})).toContain('GRO/LRO, incoming');
    expect(merged?.facts.segments).toBe(10);
  });

  it('ICMPv6 packet too big: the MTU and the IPv6 segment size', () => {
    const [r] = explainText(
      '12:00:00.000001 IP6 fd00::9 > fd00::1: ICMP6, packet too big, mtu 1430, length 1240',
    );
    const v = r?.verdicts.find((x) => x.code === 'pmtu.frag-needed');
    expect(v?.facts.mss).toBe(1430 - 60);
    expect(lineText('pmtu.frag-needed', v?.facts ?? {})).toMatch(
      /^ICMPv6 "packet too big" from fd00::9: the path carries at most 1430 bytes/,
    );
  });
});

describe('a wrong checksum on a line cut before its length', () => {
  it('is undecided: a merged frame cannot be ruled out without the size', () => {
    const text = [
      '07:56:04.857427 IP (tos 0x0, ttl 64, id 43384, offset 0, flags [DF], proto TCP (6), length 1500)',
      '    20.0.0.150.56230 > 20.0.0.103.5001: Flags [.], cksum 0x1234 (incorrect -> 0xc064), seq 438742392:4387',
    ].join('\n');
    const [r] = explainText(text);
    const v = r?.verdicts.find((x) => x.notable);
    expect(v?.code).toBe('checksum.undecided');
    expect(v?.proof).toEqual({});
    expect(lineText('checksum.undecided', v?.facts ?? {})).toContain(
      'is not in the text (no MSS or no length)',
    );
  });
});
