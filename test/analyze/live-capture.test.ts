// Real captures of real traffic, made here: a veth pair between two network namespaces, with TCP
// (TSO super-frames) and large pings (IPv4 fragments). The same traffic is read three ways that
// users meet: `tcpdump -i any` (Linux cooked v2, with direction), dumpcap writing pcapng with two
// named interfaces, and `tcpdump -w - | hopscope analyze -` through a pipe. Needs root, tcpdump,
// dumpcap and iperf3; skipped elsewhere with the reason printed.
import { type ChildProcess, execFileSync, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Report } from '../../src/report/model.js';
import { skipReasonWithout } from '../helpers/lab.js';

const root = join(import.meta.dirname, '..', '..');
const bin = join(root, 'bin', 'hopscope.js');
const skipReason = skipReasonWithout(
  ['ip', 'tcpdump', 'dumpcap', 'iperf3', 'ping'],
  'needs network namespaces',
);
if (skipReason) console.warn(`live-capture: skipped (${skipReason})`);

const suffix = `${process.pid % 10000}${Math.floor(Math.random() * 1000)}`;
const nsA = `hsa${suffix}`;
const nsB = `hsb${suffix}`;
const dir = mkdtempSync(join(tmpdir(), 'hopscope-live-'));

function sh(...args: string[]): void {
  execFileSync(args[0] as string, args.slice(1), { stdio: ['ignore', 'ignore', 'inherit'], timeout: 60_000 });
}

function inA(...args: string[]): string[] {
  return ['ip', 'netns', 'exec', nsA, ...args];
}

/** Starts a capture tool and resolves once it says it is capturing. */
function startCapture(args: string[], ready: RegExp): Promise<ChildProcess> {
  return new Promise((resolve, reject) => {
    const child = spawn(args[0] as string, args.slice(1), { stdio: ['ignore', 'ignore', 'pipe'] });
    let said = '';
    const timer = setTimeout(() => reject(new Error(`${args.join(' ')} never got ready: ${said}`)), 15_000);
    child.stderr?.on('data', (chunk: Buffer) => {
      said += String(chunk);
      if (ready.test(said)) {
        clearTimeout(timer);
        resolve(child);
      }
    });
    child.on('error', reject);
  });
}

function stop(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null) return resolve();
    child.on('exit', () => resolve());
    child.kill('SIGINT');
  });
}

describe.skipIf(skipReason !== null)('live captures on a veth pair (real kernel, tcpdump, dumpcap)', () => {
  let stdinReport: Report;

  beforeAll(async () => {
    sh('ip', 'netns', 'add', nsA);
    sh('ip', 'netns', 'add', nsB);
    // Created in the root namespace under unique names, then moved and renamed (this iproute2
    // does not take "netns" inside "veth peer").
    sh('ip', 'link', 'add', `${nsA}a`, 'type', 'veth', 'peer', 'name', `${nsB}b`);
    sh('ip', 'link', 'set', `${nsA}a`, 'netns', nsA);
    sh('ip', 'link', 'set', `${nsB}b`, 'netns', nsB);
    sh(...inA('ip', 'link', 'set', 'dev', `${nsA}a`, 'name', 'a'));
    sh('ip', 'netns', 'exec', nsB, 'ip', 'link', 'set', 'dev', `${nsB}b`, 'name', 'b');
    sh(...inA('ip', 'addr', 'add', '10.98.0.1/24', 'dev', 'a'));
    sh('ip', 'netns', 'exec', nsB, 'ip', 'addr', 'add', '10.98.0.2/24', 'dev', 'b');
    for (const ns of [nsA, nsB]) {
      sh('ip', 'netns', 'exec', ns, 'ip', 'link', 'set', 'lo', 'up');
      sh('ip', 'netns', 'exec', ns, 'ip', 'link', 'set', 'dev', ns === nsA ? 'a' : 'b', 'up');
    }
    const server = spawn('ip', ['netns', 'exec', nsB, 'iperf3', '-s', '-1'], { stdio: 'ignore' });
    const any = await startCapture(
      inA(
        'tcpdump',
        '-i',
        'any',
        '-y',
        'LINUX_SLL2',
        '-s',
        '256',
        '-Z',
        'root',
        '--immediate-mode',
        '-w',
        join(dir, 'any.pcap'),
      ),
      /listening on/,
    );
    const both = await startCapture(
      inA('dumpcap', '-i', 'a', '-i', 'lo', '-s', '256', '-w', join(dir, 'both.pcapng')),
      /Capturing on/,
    );
    // The pipe a user would type: tcpdump -w - | hopscope analyze - (a shell pipe, nothing in between).
    const errFile = join(dir, 'tcpdump-pipe.err');
    const jsonFile = join(dir, 'stdin.json');
    const tcpdumpPipe = inA(
      'tcpdump',
      '-i',
      'a',
      '-s',
      '256',
      '-U',
      '-Z',
      'root',
      '--immediate-mode',
      '-w',
      '-',
    ).join(' ');
    const piped = spawn(
      'sh',
      ['-c', `${tcpdumpPipe} 2>${errFile} | node ${bin} analyze --json --log-level silent - >${jsonFile}`],
      {
        stdio: 'ignore',
      },
    );
    const pipedDone = new Promise<number | null>((resolve) => piped.on('exit', (code) => resolve(code)));
    for (let i = 0; i < 100 && !readFileSync(errFile, { flag: 'a+' }).toString().includes('listening'); i++) {
      await new Promise((r) => setTimeout(r, 100));
    }
    sh(...inA('ping', '-c', '4', '-i', '0.2', '-s', '4000', '10.98.0.2'));
    for (let i = 0; i < 30; i++) {
      if (spawnSync('ip', ['netns', 'exec', nsA, 'iperf3', '-c', '10.98.0.2', '-n', '4M']).status === 0)
        break;
      await new Promise((r) => setTimeout(r, 200));
    }
    await new Promise((r) => setTimeout(r, 500));
    await stop(any);
    await stop(both);
    // The piped tcpdump is the one in nsA writing to stdout ("-w -").
    for (const pid of execFileSync('ip', ['netns', 'pids', nsA], { encoding: 'utf8' })
      .split(/\s+/)
      .filter(Boolean)) {
      const cmdline = readFileSync(`/proc/${pid}/cmdline`, { flag: 'r' }).toString();
      if (cmdline.startsWith('tcpdump\0') && cmdline.includes('\0-w\0-\0'))
        process.kill(Number(pid), 'SIGINT');
    }
    expect(await pipedDone).toBe(0);
    server.kill();
    stdinReport = JSON.parse(readFileSync(jsonFile, 'utf8')) as Report;
  }, 120_000);

  afterAll(() => {
    spawnSync('ip', ['netns', 'del', nsA]);
    spawnSync('ip', ['netns', 'del', nsB]);
    rmSync(dir, { recursive: true, force: true });
  });

  function analyze(file: string): Report {
    const out = execFileSync('node', [bin, 'analyze', '--json', '--log-level', 'silent', file], {
      encoding: 'utf8',
    });
    return JSON.parse(out) as Report;
  }

  it('reads tcpdump -i any (Linux cooked v2): outgoing super-frames, fragments reassembled', () => {
    const report = analyze(join(dir, 'any.pcap'));
    expect(report.captures[0]?.linkTypes).toEqual(['linux-sll2']);
    // One hop per interface index of the capturing namespace (named by index: this machine's
    // names for those indexes would be wrong).
    for (const h of report.hops) expect(h.name).toMatch(/^any@if\d+$/);
    const hop = report.hops.find((h) => h.superFrames.count > 0);
    expect(hop?.malformed).toBe(0);
    expect(hop?.superFrames.count, 'veth TSO super-frames').toBeGreaterThan(0);
    expect(hop?.superFrames.outgoing, 'SLL2 says they were outgoing').toBeGreaterThan(0);
    expect(hop?.superFrames.mss).not.toBeNull();
    expect(hop?.fragments.reassembled, 'the 4000-byte pings, both ways').toBeGreaterThanOrEqual(8);
    const sf = report.findings.find((f) => f.code === 'segment.super-frame' && f.flow?.includes('10.98.0.1'));
    expect(sf?.title).toContain('outgoing');
    expect(report.findings.find((f) => f.code === 'fragment.ip')?.flow).toMatch(
      /ICMP 10\.98\.0\.[12] -> 10\.98\.0\.[12]/,
    );
  });

  it('reads a dumpcap pcapng with two interfaces as two hops named after if_name', () => {
    const report = analyze(join(dir, 'both.pcapng'));
    expect(report.captures[0]?.format).toBe('pcapng');
    expect(report.hops.map((h) => h.name).sort()).toEqual(['a', 'lo']);
    const a = report.hops.find((h) => h.name === 'a');
    expect(a?.superFrames.count).toBeGreaterThan(0);
    expect(a?.fragments.reassembled).toBeGreaterThanOrEqual(8);
  });

  it('reads tcpdump -w - through a pipe on stdin', () => {
    expect(stdinReport.captures[0]?.path).toBe('-');
    expect(stdinReport.captures[0]?.errors).toEqual([]);
    const hop = stdinReport.hops[0];
    expect(hop?.name).toBe('stdin');
    expect(hop?.frames).toBeGreaterThan(100);
    expect(hop?.superFrames.count).toBeGreaterThan(0);
    expect(hop?.fragments.reassembled).toBeGreaterThanOrEqual(8);
  });
});
