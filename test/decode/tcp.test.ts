import { describe, expect, test } from 'vitest';
import { DecodeStatus, TcpFlag } from '../../src/decode/packet.js';
import { eth, hex, ipv4, lvl, run, tcp } from './helpers.js';

const ETH = 1;
const frame = (opts: Uint8Array, payload = new Uint8Array(10), doff?: number) =>
  eth(0x0800, ipv4({ proto: 6, payload: tcp(40000, 5201, opts, payload, doff) }));

describe('tcp', () => {
  test('SYN options: MSS, SACK permitted, timestamps, NOP, window scale', () => {
    const opts = hex('020405b4 0402 080a 00000064 00000000 01 030307');
    const p = run(ETH, frame(opts, new Uint8Array(0)));
    const l = lvl(p, 0);
    expect(p.status).toBe(DecodeStatus.OK);
    expect(l.srcPort).toBe(40000);
    expect(l.dstPort).toBe(5201);
    expect(l.tcpSeq).toBe(1000);
    expect(l.tcpAck).toBe(2000);
    expect(l.tcpFlags).toBe(TcpFlag.PSH | TcpFlag.ACK);
    expect(l.tcpWindow).toBe(501);
    expect(l.tcpHeaderLength).toBe(40);
    expect(l.tcpMss).toBe(1460);
    expect(l.tcpSackPermitted).toBe(true);
    expect(l.tcpHasTimestamps).toBe(true);
    expect(l.tcpTsVal).toBe(100);
    expect(l.tcpWindowScale).toBe(7);
    expect(l.l4Checksum).toBe(0x2222);
    expect(l.l4ChecksumOffset).toBe(34 + 16);
    expect(l.payloadOffset).toBe(34 + 40);
    expect(l.payloadLength).toBe(0);
  });

  test('NOP, NOP, timestamps (the Linux data segment): read whole, cut, or inside a longer header', () => {
    const linux = frame(hex('0101080a 00000064 fffffffe'), new Uint8Array(100));
    let p = run(ETH, linux);
    expect(p.status).toBe(DecodeStatus.OK);
    expect(lvl(p, 0)).toMatchObject({ tcpHasTimestamps: true, tcpTsVal: 100, tcpTsEcr: 0xfffffffe });
    expect(lvl(p, 0)).toMatchObject({ tcpMss: -1, tcpSackBlocks: 0, tcpHeaderLength: 32 });
    // cut inside the timestamp option: no timestamps, TRUNCATED as the option walk says
    p = run(ETH, linux, { snap: 34 + 31 });
    expect(p.status).toBe(DecodeStatus.TRUNCATED);
    expect(lvl(p, 0).tcpHasTimestamps).toBe(false);
    // the same bytes followed by more options are walked one by one
    p = run(ETH, frame(hex('0101080a 00000064 000000c8 020405b4')));
    expect(p.status).toBe(DecodeStatus.OK);
    expect(lvl(p, 0)).toMatchObject({ tcpHasTimestamps: true, tcpTsVal: 100, tcpTsEcr: 200, tcpMss: 1460 });
  });

  test('SACK blocks and EOL', () => {
    const opts = hex('0101 050a 00000001 00000002 00 000000');
    const p = run(ETH, frame(opts));
    expect(p.status).toBe(DecodeStatus.OK);
    expect(lvl(p, 0).tcpSackBlocks).toBe(1);
    expect(lvl(p, 0).payloadLength).toBe(10);
  });

  test.each([
    ['option length running past the data offset', hex('0101 08ff 00000000')],
    ['option length below 2', hex('0201 0000')],
    ['MSS with length 3', hex('020305 00')],
    ['SACK with a partial block', hex('0506 00000000 0000')],
    ['kind without room for its length byte', hex('010101 08')],
  ])('%s -> MALFORMED', (_n, opts) => {
    const p = run(ETH, frame(opts));
    expect(p.status).toBe(DecodeStatus.MALFORMED);
    expect(p.problem).toMatch(/option/);
  });

  test('data offset below 5 or beyond the datagram -> MALFORMED', () => {
    expect(run(ETH, frame(new Uint8Array(0), new Uint8Array(0), 4)).status).toBe(DecodeStatus.MALFORMED);
    expect(run(ETH, frame(new Uint8Array(0), new Uint8Array(8), 15)).status).toBe(DecodeStatus.MALFORMED);
  });

  test('header and options cut by the snap length -> TRUNCATED, with what was seen kept', () => {
    const f = frame(hex('0101080a 00000064 000000c8 020405b4'), new Uint8Array(100));
    let p = run(ETH, f, { snap: 34 + 10 });
    expect(p.status).toBe(DecodeStatus.TRUNCATED);
    expect(lvl(p, 0).dstPort).toBe(5201);
    expect(lvl(p, 0).tcpSeq).toBe(1000);
    p = run(ETH, f, { snap: 34 + 33 });
    expect(p.status).toBe(DecodeStatus.TRUNCATED);
    expect(p.problem).toMatch(/options/);
    expect(lvl(p, 0).tcpHasTimestamps).toBe(true);
    expect(lvl(p, 0).tcpMss).toBe(-1);
    // A lying length whose byte was not captured cannot be judged: truncated, not malformed
    const lying = frame(hex('0101 01 01 08ff 0000'));
    expect(run(ETH, lying, { snap: 34 + 25 }).status).toBe(DecodeStatus.TRUNCATED);
    expect(run(ETH, lying).status).toBe(DecodeStatus.MALFORMED);
  });

  test('payload after the header, sized from the IP length', () => {
    const p = run(ETH, frame(new Uint8Array(0), new Uint8Array(1448)), { snap: 128 });
    expect(p.status).toBe(DecodeStatus.OK);
    expect(lvl(p, 0).payloadLength).toBe(1448);
    expect(lvl(p, 0).payloadOffset).toBe(54);
  });
});
