// `hopscope explain` as users run it, through the real binary: a tcpdump pipe (--json objects that
// agree with analyze frame by frame), tshark's list into --summary, a live pipe whose verdicts come
// while the pipe is still open, and the errors and exit codes of bad input.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { SAMPLES } from '../decode/helpers.js';
import { explainText } from '../helpers/explain-compare.js';
import { frameClasses } from '../helpers/frame-classes.js';

const TCPDUMP = spawnSync('tcpdump', ['--version'], { encoding: 'utf8' }).status === 0;
const TSHARK = spawnSync('tshark', ['--version'], { encoding: 'utf8' }).status === 0;
const BIN = join(import.meta.dirname, '..', '..', 'bin', 'hopscope.js');
const PHY = join(SAMPLES, 'jumbo-underlay', 'host1-phy0.pcap');
const TAP = join(SAMPLES, 'jumbo-underlay', 'host1-tap0.pcap');
const dir = mkdtempSync(join(tmpdir(), 'hopscope-explain-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function sh(script: string) {
  return spawnSync('bash', ['-c', script], {
    encoding: 'utf8',
    maxBuffer: 1 << 28,
    env: { ...process.env, BIN },
  });
}

interface JsonLine {
  frame: number;
  dialect: string;
  lines: string[];
  verdicts: Array<{
    code: string;
    checksum?: { layer: string; class: string };
    superFrame?: boolean;
    words: string;
  }>;
}

describe.skipIf(!TCPDUMP)(
  `hopscope explain on a tcpdump pipe${TCPDUMP ? '' : ' (skipped: tcpdump not installed)'}`,
  () => {
    it('--json: one object per explained packet, agreeing with analyze on its frame', () => {
      const run = sh(`tcpdump -vv -nn -r ${PHY} 2>/dev/null | node "$BIN" explain --json`);
      expect(run.status).toBe(0);
      const objects = run.stdout
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as JsonLine);
      expect(objects.length).toBeGreaterThan(50);
      const analyze = frameClasses(PHY);
      let compared = 0;
      for (const o of objects) {
        expect(o.dialect).toBe('tcpdump');
        const frame = analyze[o.frame - 1];
        expect(frame, `frame ${o.frame}`).toBeDefined();
        for (const v of o.verdicts) {
          if (v.checksum === undefined) continue;
          const inner = v.checksum.layer.startsWith('inner ');
          const transport = v.checksum.layer.replace('inner ', '');
          expect(
            frame?.checksums.some(
              (a) => a.cls === v.checksum?.class && a.inner === inner && a.transport === transport,
            ),
            `frame ${o.frame} ${v.checksum.layer} ${v.checksum.class}`,
          ).toBe(true);
          compared++;
        }
      }
      expect(compared).toBeGreaterThan(100);
      // The same objects as the library gives for the same text.
      const text = spawnSync('tcpdump', ['-vv', '-nn', '-r', PHY], { encoding: 'utf8' }).stdout;
      const library = explainText(text).filter((e) => e.verdicts.some((v) => v.notable));
      expect(objects.map((o) => o.frame)).toEqual(library.map((e) => e.record.frame));
    });

    it('text: every line as it came, each packet’s verdicts after its last line, then the summary', () => {
      const text = spawnSync('tcpdump', ['-vv', '-nn', '-r', TAP], { encoding: 'utf8' }).stdout;
      const file = join(dir, 'tap.txt');
      writeFileSync(file, text);
      const run = sh(`node "$BIN" explain ${file}`);
      expect(run.status).toBe(0);
      const out = run.stdout.split('\n');
      expect(out.filter((l) => !l.startsWith('  ↳ ')).slice(0, text.split('\n').length - 1)).toEqual(
        text.split('\n').slice(0, -1),
      );
      expect(run.stdout).toMatch(/ {2}↳ TCP cksum 0x[0-9a-f]{4} is exactly the partial pseudo-header sum/);
      expect(run.stdout).toMatch(/hopscope explain: \d+ lines, \d+ packets, \d+ explained/);
      expect(run.stdout).toContain('tcpdump and Wireshark call these "incorrect"');
    });

    it('a live pipe: verdicts come while the pipe stays open', async () => {
      const child = spawn(process.execPath, [BIN, 'explain'], { stdio: ['pipe', 'pipe', 'pipe'] });
      let out = '';
      child.stdout.setEncoding('utf8');
      const seen = new Promise<void>((resolve) => {
        child.stdout.on('data', (chunk: string) => {
          out += chunk;
          if (out.includes('↳')) resolve();
        });
      });
      child.stdin.write(
        '07:56:04.857427 IP (tos 0x0, ttl 64, id 43384, offset 0, flags [DF], proto TCP (6), length 1500)\n' +
          '    20.0.0.150.56230 > 20.0.0.103.5001: Flags [.], cksum 0x2ecb (incorrect -> 0xc064), seq 1:1449, ack 1, win 229, options [nop,nop,TS val 7353870 ecr 564507], length 1448\n',
      );
      const timeout = new Promise<'timeout'>((resolve) => setTimeout(() => resolve('timeout'), 10_000));
      expect(await Promise.race([seen.then(() => 'seen' as const), timeout])).toBe('seen');
      expect(out).toContain('Transmit checksum offload; not an error');
      child.stdin.end();
      const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
      expect(code).toBe(0);
      expect(out).toContain('hopscope explain: 2 lines, 1 packets, 1 explained');
    });

    it('a reader that closes the pipe early is not an error', () => {
      const text = spawnSync('tcpdump', ['-vv', '-nn', '-r', PHY], {
        encoding: 'utf8',
        maxBuffer: 1 << 28,
      }).stdout;
      const file = join(dir, 'phy.txt');
      writeFileSync(file, text);
      const run = sh(`node "$BIN" explain ${file} | head -1; echo "rc=\${PIPESTATUS[0]}"`);
      expect(run.stdout).toMatch(/rc=0\s*$/);
      expect(run.stderr).toBe('');
    });
  },
);

describe.skipIf(!TSHARK)(
  `hopscope explain on tshark’s list${TSHARK ? '' : ' (skipped: tshark not installed)'}`,
  () => {
    it('--summary: counts per explanation and the verdict, without the lines', () => {
      const run = sh(`tshark -n -r ${TAP} 2>/dev/null | node "$BIN" explain --summary`);
      expect(run.status).toBe(0);
      expect(run.stdout).not.toMatch(/10\.97\.0\.150 → /);
      expect(run.stdout).toMatch(/segment\.super-frame +\d+ +TCP super-frames larger than the MSS/);
      expect(run.stdout).toMatch(
        /\d+ TCP segments carry up to \d+ payload bytes, more than the flow’s MSS of \d+/,
      );
    });
  },
);

describe('hopscope explain: bad input and usage', () => {
  it('names each file it cannot read, explains the others, exits 1', () => {
    const good = join(dir, 'good.txt');
    writeFileSync(
      good,
      '    20.0.0.150.56230 > 20.0.0.103.5001: Flags [.], cksum 0x2ecb (incorrect -> 0xc064), seq 1:1449, ack 1, win 229, options [nop,nop,TS val 7353870 ecr 564507], length 1448\n',
    );
    const run = sh(`node "$BIN" explain ${join(dir, 'missing.txt')} ${TAP} ${dir} ${good}`);
    expect(run.status).toBe(1);
    expect(run.stderr).toContain(`hopscope: explain: ${join(dir, 'missing.txt')}: no such file`);
    expect(run.stderr).toContain(`${TAP}: a capture file, not text: run hopscope analyze`);
    expect(run.stderr).toContain(`${dir}: a directory, not a file`);
    expect(run.stdout).toContain('Transmit checksum offload; not an error');
  });

  it('usage errors exit 2; --help lists the command', () => {
    const bad = sh(`node "$BIN" explain --frobnicate < /dev/null`);
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/^hopscope: Unknown argument: frobnicate/);
    const help = sh(`node "$BIN" --help`);
    expect(help.stdout).toContain('explain [files..]');
  });
});
