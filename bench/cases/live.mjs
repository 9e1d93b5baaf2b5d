// Scenario: live. `hopscope live` on the lab's ten hops while the lab pushes iperf3 through them
// (unlimited: as fast as this machine goes, then `iperf3 -b 1G`), with tcpdump capturing the same
// ten interfaces in the same run (same snap length and kernel buffer), once per capture backend:
//   dumpcap  one hopscope, one dumpcap per interface (NETNS/IF), drops from dumpcap's counters
//   tcpdump  the same with `--backend tcpdump` (one tcpdump per interface), drops from its counters
//   cap      libpcap in-process: cap cannot enter a namespace, so one hopscope per namespace
//            (ip netns exec NS hopscope live --backend cap); cap has no drop counters, so what it
//            missed is tcpdump's "received by filter" minus the frames hopscope analysed
// Printed per case: the traffic's rate, frames and drops per backend (worst hop too), CPU share of
// each side's processes (hopscope with its dumpcaps; the tcpdumps) over the run, and how long after
// its capture a frame was analysed at most (the analysis keeps up when that stays small).
// Needs root and the lab's tools; otherwise the scenario says why it is skipped.
//
//   BENCH_LIVE_SECONDS=8   traffic per case
//   BENCH_LIVE_BACKENDS=dumpcap,tcpdump,cap
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { table } from '../lib.mjs';

export const name = 'live';
const root = join(import.meta.dirname, '..', '..');
const lab = join(root, 'samples', 'lab', 'lab.sh');
const bin = join(root, 'bin', 'hopscope.js');
const BUFFER_MIB = 32;
const TICKS = 100; // USER_HZ

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function skipReason() {
  if (process.getuid?.() !== 0) return 'not root: the lab needs network namespaces';
  const missing = ['ip', 'dumpcap', 'tcpdump', 'iperf3', 'ethtool', 'ping', 'ss'].filter(
    (t) => spawnSync('sh', ['-c', `command -v ${t}`]).status !== 0,
  );
  return missing.length > 0 ? `missing tools: ${missing.join(', ')}` : null;
}

function readEnv(dir) {
  return Object.fromEntries(
    readFileSync(join(dir, 'lab.env'), 'utf8')
      .split('\n')
      .filter((l) => l.includes('='))
      .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1).replace(/^"|"$/g, '')]),
  );
}

/** CPU ticks (user + system) of a process and all its descendants, read from /proc. */
function treeTicks(rootPid, seen) {
  const parents = new Map();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      parents.set(Number(entry), { ppid: Number(fields[1]), ticks: Number(fields[11]) + Number(fields[12]) });
    } catch {}
  }
  const inTree = (pid) => {
    for (let p = pid, depth = 0; p > 1 && depth < 10; depth++) {
      if (p === rootPid) return true;
      p = parents.get(p)?.ppid ?? 0;
    }
    return false;
  };
  for (const [pid, { ticks }] of parents) if (inTree(pid)) seen.set(pid, Math.max(seen.get(pid) ?? 0, ticks));
}

function spawnCollect(command, args) {
  const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  const out = { stdout: '', stderr: '' };
  child.stdout.on('data', (b) => {
    out.stdout += b;
  });
  child.stderr.on('data', (b) => {
    out.stderr += b;
  });
  const closed = new Promise((resolve) => child.on('close', (code) => resolve(code)));
  return { child, out, closed };
}

async function waitUntil(test, ms) {
  const until = Date.now() + ms;
  while (!test()) {
    if (Date.now() > until) return false;
    await sleep(100);
  }
  return true;
}

/** tcpdump's closing counters: captured, received by filter, dropped by kernel. */
function tcpdumpCounters(stderr) {
  const n = (re) => Number(re.exec(stderr)?.[1] ?? Number.NaN);
  return {
    captured: n(/(\d+) packets? captured/),
    received: n(/(\d+) packets? received by filter/),
    dropped: n(/(\d+) packets? dropped by kernel/),
  };
}

/** hopscope live's counters lines on stderr: hop -> { frames, dropped }. */
function hopscopeCounters(stderr) {
  const hops = new Map();
  for (const m of stderr.matchAll(
    /^ {2}(\S+) +(dumpcap|tcpdump|cap) +(\d+) frames +(?:dropped (\d+) \(kernel\) \+ (\d+) \(interface\)|drops unknown)/gm,
  ))
    hops.set(m[1], {
      frames: Number(m[3]),
      dropped: m[4] === undefined ? null : Number(m[4]) + Number(m[5]),
    });
  const lag = /analysis behind the capture by at most (\d+) ms/.exec(stderr);
  return { hops, lagMs: lag ? Number(lag[1]) : null };
}

/** `hopscope live` on `interfaces` as every case runs it: a BUFFER_MIB kernel buffer, the case's snap length. */
function liveArgs(backend, snaplen, interfaces) {
  return [
    bin,
    'live',
    '--backend',
    backend,
    '--log-level',
    'warn',
    '--json',
    '-B',
    String(BUFFER_MIB),
    '-s',
    String(snaplen),
    ...interfaces.flatMap((i) => ['-i', i]),
  ];
}

async function runCase(env, backend, rate, snaplen, seconds, log) {
  const hops = env.LAB_HOPS.split(' ');
  // tcpdump on the same interfaces, as an operator runs it (its default kernel buffer, writing a
  // capture file), with the same snap length.
  const tcpdumps = hops.map((hop, i) => {
    const [ns, dev] = hop.split('/');
    const file = join(env.dir, '..', `tcpdump-${i}.pcap`);
    return spawnCollect('ip', [
      'netns',
      'exec',
      ns,
      'tcpdump',
      '-i',
      dev,
      '-s',
      String(snaplen),
      '-nn',
      '-w',
      file,
    ]);
  });
  const lives = [];
  if (backend === 'dumpcap' || backend === 'tcpdump') {
    lives.push(spawnCollect(process.execPath, liveArgs(backend, snaplen, hops)));
  } else {
    const byNs = new Map();
    for (const hop of hops) {
      const [ns, dev] = hop.split('/');
      byNs.set(ns, [...(byNs.get(ns) ?? []), dev]);
    }
    for (const [ns, devs] of byNs)
      lives.push(
        spawnCollect('ip', ['netns', 'exec', ns, process.execPath, ...liveArgs('cap', snaplen, devs)]),
      );
  }
  await waitUntil(() => tcpdumps.every((t) => /listening on/.test(t.out.stderr)), 15_000);
  await sleep(2000);
  const ticks = { hopscope: new Map(), tcpdump: new Map() };
  const sample = () => {
    for (const l of lives) treeTicks(l.child.pid, ticks.hopscope);
    for (const t of tcpdumps) treeTicks(t.child.pid, ticks.tcpdump);
  };
  sample();
  const base = {
    hopscope: [...ticks.hopscope.values()].reduce((a, b) => a + b, 0),
    tcpdump: [...ticks.tcpdump.values()].reduce((a, b) => a + b, 0),
  };
  const sampler = setInterval(sample, 200);
  const started = Date.now();
  const push = spawnSync(
    'bash',
    [lab, '--push', env.dir, '--duration', String(seconds), ...(rate ? ['--rate', rate] : [])],
    {
      encoding: 'utf8',
      timeout: (seconds + 60) * 1000,
    },
  );
  // Let the captures drain before they are stopped.
  await sleep(1500);
  sample();
  clearInterval(sampler);
  const wall = (Date.now() - started) / 1000;
  for (const l of lives) l.child.kill('SIGINT');
  for (const t of tcpdumps) t.child.kill('SIGINT');
  await Promise.all([...lives, ...tcpdumps].map((p) => p.closed));
  const sum = (m) => [...m.values()].reduce((a, b) => a + b, 0);
  const cpu = {
    hopscope: ((sum(ticks.hopscope) - base.hopscope) / TICKS / wall) * 100,
    tcpdump: ((sum(ticks.tcpdump) - base.tcpdump) / TICKS / wall) * 100,
  };
  const sender = /([\d.]+) ([GM])bits\/sec .*sender/.exec(push.stderr ?? '');
  const gbps = sender ? Number(sender[1]) / (sender[2] === 'M' ? 1000 : 1) : null;
  const ours = new Map();
  let lagMs = null;
  for (const l of lives) {
    const parsed = hopscopeCounters(l.out.stderr);
    for (const [hop, v] of parsed.hops) {
      const full =
        backend !== 'cap'
          ? hop
          : hops.find(
              (h) => h.endsWith(`/${hop}`) && !ours.has(h) && l.child.spawnargs.includes(h.split('/')[0]),
            );
      ours.set(full ?? hop, v);
    }
    if (parsed.lagMs !== null) lagMs = Math.max(lagMs ?? 0, parsed.lagMs);
  }
  const rows = hops.map((hop, i) => {
    const t = tcpdumpCounters(tcpdumps[i].out.stderr);
    const o = ours.get(hop) ?? { frames: Number.NaN, dropped: null };
    // cap has no counters: what it missed is what the kernel handed tcpdump's socket, less what
    // hopscope analysed (both sockets see the same frames).
    const missed = o.dropped ?? Math.max(0, t.received - o.frames);
    return { hop, frames: o.frames, dropped: missed, estimated: o.dropped === null, tcpdump: t };
  });
  const total = (f) => rows.reduce((a, r) => a + f(r), 0);
  const result = {
    backend,
    snaplen,
    rate: rate ?? 'unlimited',
    gbps,
    seconds: wall,
    frames: total((r) => r.frames),
    dropped: total((r) => r.dropped),
    droppedEstimated: rows.some((r) => r.estimated),
    tcpdumpFrames: total((r) => r.tcpdump.received),
    tcpdumpDropped: total((r) => r.tcpdump.dropped),
    worst: rows.reduce((a, r) => (r.dropped > a.dropped ? r : a), rows[0]),
    worstTcpdump: rows.reduce((a, r) => (r.tcpdump.dropped > a.tcpdump.dropped ? r : a), rows[0]),
    cpu,
    lagMs,
    perHop: rows.map((r) => ({
      hop: r.hop.split('-').slice(1).join('-'),
      frames: r.frames,
      dropped: r.dropped,
      tcpdumpDropped: r.tcpdump.dropped,
    })),
  };
  log(
    `  ${backend.padEnd(8)} -s ${String(snaplen).padEnd(6)} ${String(result.rate).padEnd(9)} ${gbps === null ? '?' : gbps.toFixed(2)} Gbit/s  ` +
      `hopscope ${result.frames} frames, dropped ${result.dropped}${result.droppedEstimated ? ' (est.)' : ''}, CPU ${cpu.hopscope.toFixed(0)}%, lag <= ${lagMs ?? '?'} ms  |  ` +
      `tcpdump ${result.tcpdumpFrames} frames, dropped ${result.tcpdumpDropped}, CPU ${cpu.tcpdump.toFixed(0)}%`,
  );
  return result;
}

export async function run({ log }) {
  const reason = skipReason();
  if (reason !== null) {
    log(`live: skipped (${reason})`);
    return { name, skipped: reason };
  }
  const seconds = Number(process.env.BENCH_LIVE_SECONDS ?? 8);
  const backends = (process.env.BENCH_LIVE_BACKENDS ?? 'dumpcap,tcpdump,cap').split(',');
  // The default snap length (whole frames, BIG TCP included) and the lab's (headers only).
  const snaplens = (process.env.BENCH_LIVE_SNAPLENS ?? '262144,256').split(',').map(Number);
  const dir = mkdtempSync(join(tmpdir(), 'hopscope-bench-live-'));
  const labDir = join(dir, 'lab');
  log(
    `live: hopscope live on the lab's ten hops next to tcpdump on the same ten, ${seconds} s of iperf3 per case`,
  );
  execFileSync('bash', [lab, '--setup-only', '--out', labDir, '--underlay-mtu', '9000'], {
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const env = { ...readEnv(labDir), dir: labDir };
  const cases = [];
  try {
    for (const rate of [null, '1G'])
      for (const snaplen of snaplens)
        for (const backend of backends) cases.push(await runCase(env, backend, rate, snaplen, seconds, log));
  } finally {
    spawnSync('bash', [lab, '--teardown', labDir], { stdio: 'ignore' });
    rmSync(dir, { recursive: true, force: true });
  }
  log(
    table([
      [
        'backend',
        'snap',
        'rate',
        'Gbit/s',
        'frames',
        'dropped',
        'worst hop',
        'tcpdump dropped',
        'worst hop',
        'CPU hopscope',
        'CPU tcpdump',
        'lag ms',
      ],
      ...cases.map((c) => [
        c.backend,
        String(c.snaplen),
        c.rate,
        c.gbps?.toFixed(2) ?? '?',
        String(c.frames),
        `${c.dropped}${c.droppedEstimated ? ' (est.)' : ''}`,
        `${c.worst.hop.split('-').slice(1).join('-')} ${c.worst.dropped}`,
        String(c.tcpdumpDropped),
        `${c.worstTcpdump.hop.split('-').slice(1).join('-')} ${c.worstTcpdump.tcpdump.dropped}`,
        `${c.cpu.hopscope.toFixed(0)}%`,
        `${c.cpu.tcpdump.toFixed(0)}%`,
        String(c.lagMs ?? '?'),
      ]),
    ]),
  );
  return { name, seconds, bufferMiB: BUFFER_MIB, cases };
}
