// Scenario: the ten captures of one lab run (samples/jumbo-underlay: guest1-eth0 ... guest2-eth0),
// each repeated with the same per-copy shifts so that together they hold >= N frames and still show
// one consistent run at every hop (see synthesizeSet in bench/synthesize.mjs). Times `hopscope
// analyze --json` on the ten files together against the same build on one capture of as many frames
// (the NIC's, as the single-capture scenario), at two sizes:
// - 1M frames (the other scenarios' size). Ten hops pay there what a single capture does not, once
//   a run: one correlation of the ten hops, cold (25-30 ms), and, were they read in a worker thread,
//   its start and JIT warm-up (so analyze reads sets this small in one thread).
// - 4M frames, where those are paid off and analyze reads with worker threads (from 384 MiB): the
//   throughput bar of the issue is checked here (ten hops >= 1x the single capture's frames/s), and
//   the ten hops are also timed in one thread (--jobs 1), to show what the workers add.
// Peak RSS must stay under 200 MB at both sizes. With --huge, one extra run on a 10M set shows
// whether peak RSS grows with the input (it should not: memory bounded).
import { int, mb, ratio, rssMethod, runChild, table, timeRounds } from '../lib.mjs';
import { DEFAULT_FRAMES, HUGE_FRAMES, SET_FILES, synthesize, synthesizeSet } from '../synthesize.mjs';
import { tools } from '../tools.mjs';

export const name = 'multi-hop';
const BARS = { throughputRatio: 1, rssMiB: 200 };
/** The steady-state size, as a multiple of the base size (1M frames unless --frames says otherwise). */
const STEADY_FACTOR = 4;
const hopName = (file) => file.replace(/\.pcap$/, '');

/**
 * What the report must say about the set if the copies are consistent between hops: the data flow
 * crosses all ten hops in lab order, is cut into MSS segments between host1's vxlan device and NIC
 * and merged back between host2's, with nothing lost and no capture gaps. Returns the list of what
 * differs (empty: consistent); a set whose shifts disagree between files shows up as losses or gaps.
 */
function checkReport(stdout) {
  let report;
  try {
    report = JSON.parse(stdout);
  } catch (e) {
    return [`output is not JSON: ${e.message}`];
  }
  const path = report.paths?.[0];
  if (!path) return ['no paths in the report'];
  const wrong = [];
  const want = SET_FILES.map(hopName);
  const got = path.hops?.map((h) => h.hop) ?? [];
  if (got.join(',') !== want.join(',')) wrong.push(`hops ${got.join(' > ')}`);
  const edge = (e) => (e ? `${e.from} > ${e.to}` : 'null');
  if (edge(path.splitAt) !== 'host1-vxlan-97 > host1-phy0') wrong.push(`splitAt ${edge(path.splitAt)}`);
  if (edge(path.mergedAt) !== 'host2-phy0 > host2-vxlan-97') wrong.push(`mergedAt ${edge(path.mergedAt)}`);
  if (path.lostAt !== null) wrong.push(`lostAt ${JSON.stringify(path.lostAt)}`);
  if (path.gaps?.length) wrong.push(`gaps ${JSON.stringify(path.gaps)}`);
  return wrong;
}

/** Times one size: the ten hops (and at the steady size the ten hops in one thread) against one capture. */
async function timeSize({ frames, steady, repeat, only, log }) {
  const set = synthesizeSet({ frames, log });
  const single = synthesize({ frames, log });
  log(
    `${name}, ${int(frames)} frames${steady ? ' (steady state: the bar)' : ''}: ${SET_FILES.length} captures of jumbo-underlay x${set.copies} = ${int(set.frames)} frames, ` +
      `${(set.bytes / 1e6).toFixed(0)} MB (${set.cached ? 'cached' : 'written'}: ${set.dir})`,
  );
  log(
    `  against: host1-phy0.pcap x${single.copies} = ${int(single.frames)} frames, ` +
      `${(single.bytes / 1e6).toFixed(0)} MB (${single.cached ? 'cached' : 'written'}: ${single.path})`,
  );

  const files = set.files.map((f) => f.path);
  const cases = {
    hops: { id: 'hops', tool: tools.hopscopeHops, input: files, frames: set.frames, files: files.length },
    ...(steady
      ? {
          hopsOneThread: {
            id: 'hopsOneThread',
            tool: tools.hopscopeHopsOneThread,
            input: files,
            frames: set.frames,
            files: files.length,
          },
        }
      : {}),
    single: { id: 'single', tool: tools.hopscope, input: single.path, frames: single.frames, files: 1 },
  };
  for (const c of Object.values(cases)) {
    const ok = c.tool.available();
    c.label =
      c.id === 'hops'
        ? `hopscope analyze --json (${files.length} hops)`
        : c.id === 'hopsOneThread'
          ? `  the same, --jobs 1 (one thread)`
          : `${c.tool.label} (1 file)`;
    c.status = !only || only.includes('hopscope') ? (ok === true ? 'ok' : ok) : 'not selected';
    c.runs = [];
  }
  const active = () => Object.values(cases).filter((c) => c.status === 'ok');
  const once = async (c, tool = c.tool) => {
    const r = await runChild(tool, c.input, c.frames);
    if (r.code !== 0) {
      c.status = `failed (exit ${r.code}): ${r.stderrTail.split('\n').pop() ?? ''}`;
      return null;
    }
    return r;
  };

  // The warm-up runs of the ten files keep their JSON: the consistency check runs on the very set
  // that is timed (in one thread and with workers alike), so a throughput measured on copies
  // hopscope could not correlate never passes.
  const consistency = { checked: false, problems: [] };
  log(
    `warm-up (checks the ${files.length}-hop report), then ${repeat} timed runs of: ${active()
      .map((c) => c.id)
      .join(', ')}`,
  );
  for (const c of active()) {
    const hops = c.id !== 'single';
    const r = await once(c, hops ? { ...c.tool, checkStdout: true } : c.tool);
    if (r && hops) {
      consistency.checked = true;
      for (const problem of checkReport(r.stdout)) consistency.problems.push(`${c.id}: ${problem}`);
    }
  }
  await timeRounds(active(), repeat, once);
  for (const c of Object.values(cases)) {
    delete c.runs;
    delete c.tool;
    if (Array.isArray(c.input)) c.input = c.input.map((p) => p.split('/').pop());
  }
  const ok = (id) => cases[id]?.status === 'ok';
  const over = (id) =>
    ok(id) && ok('single') ? cases[id].framesPerSecond / cases.single.framesPerSecond : null;
  return {
    frames,
    steady,
    set: {
      templates: 'samples/jumbo-underlay',
      files: set.files.map((f) => ({ name: f.name, frames: f.frames, bytes: f.bytes })),
      frames: set.frames,
      bytes: set.bytes,
      copies: set.copies,
      dir: set.dir,
      cached: set.cached,
      shifts: set.shifts,
    },
    single: { path: single.path, frames: single.frames, bytes: single.bytes, copies: single.copies },
    consistency,
    cases,
    ratios: { hopsOverSingleThroughput: over('hops'), oneThreadOverSingleThroughput: over('hopsOneThread') },
  };
}

export async function run({ frames, repeat, only, huge, log }) {
  // --huge scales the extra memory run, not the timed ones: ten timed runs of 10M frames would take
  // minutes and say nothing the 4M runs do not.
  const base = huge ? DEFAULT_FRAMES : frames;
  const sizes = [];
  for (const [target, steady] of [
    [base, false],
    [base * STEADY_FACTOR, true],
  ]) {
    sizes.push(await timeSize({ frames: target, steady, repeat, only, log }));
  }
  const [small, large] = sizes;

  // One run on a set 10x the size: peak RSS should stay where it was (bounded), not scale.
  let scale = null;
  if (huge && large.cases.hops.status === 'ok') {
    const big = synthesizeSet({ frames: HUGE_FRAMES, log });
    log(
      `scale run: x${big.copies} = ${int(big.frames)} frames, ${(big.bytes / 1e6).toFixed(0)} MB ` +
        `(${big.cached ? 'cached' : 'written'}: ${big.dir})`,
    );
    const c = { input: big.files.map((f) => f.path), frames: big.frames, status: 'ok' };
    const r = await runChild({ ...tools.hopscopeHops, checkStdout: true }, c.input, c.frames);
    if (r.code !== 0) c.status = `failed (exit ${r.code}): ${r.stderrTail.split('\n').pop() ?? ''}`;
    const done = c.status === 'ok';
    scale = {
      frames: big.frames,
      copies: big.copies,
      bytes: big.bytes,
      dir: big.dir,
      status: c.status,
      seconds: done ? r.seconds : null,
      framesPerSecond: done ? big.frames / r.seconds : null,
      peakRssKiB: done ? r.rssKiB : null,
      problems: done ? checkReport(r.stdout) : [],
    };
  }

  const bar = (text, value, holds) => ({ bar: text, value, holds: value == null ? null : holds(value) });
  const rssOf = (c) => (c?.status === 'ok' && c.peakRssKiB != null ? c.peakRssKiB / 1024 : null);
  const bars = [
    bar(
      `hops throughput >= ${BARS.throughputRatio}x single at ${int(large.frames)}`,
      large.ratios.hopsOverSingleThroughput,
      (v) => v >= BARS.throughputRatio,
    ),
  ];
  for (const size of sizes) {
    for (const c of Object.values(size.cases)) {
      bars.push(
        bar(`${c.id} peak RSS at ${int(size.frames)} < ${BARS.rssMiB} MB`, rssOf(c), (v) => v < BARS.rssMiB),
      );
    }
  }
  if (scale) {
    bars.push(
      bar(
        `hops peak RSS at ${int(scale.frames)} < ${BARS.rssMiB} MB`,
        scale.peakRssKiB == null ? null : scale.peakRssKiB / 1024,
        (v) => v < BARS.rssMiB,
      ),
    );
  }

  // Print: one table (both sizes), the checks, the bars, notes.
  const rows = [['case', 'files', 'frames', 'median s', 'spread', 'Mframes/s', 'x single', 'peak RSS']];
  for (const size of sizes) {
    for (const c of Object.values(size.cases)) {
      if (c.status !== 'ok') continue;
      rows.push([
        c.label,
        c.files,
        int(c.frames),
        c.seconds.median.toFixed(3),
        `${(c.seconds.spread * 100).toFixed(0)}%`,
        (c.framesPerSecond / 1e6).toFixed(2),
        size.cases.single.status === 'ok'
          ? ratio(c.framesPerSecond / size.cases.single.framesPerSecond)
          : 'n/a',
        mb(c.peakRssKiB),
      ]);
    }
  }
  if (scale?.seconds != null) {
    rows.push([
      `  once, 10x set (--huge)`,
      SET_FILES.length,
      int(scale.frames),
      scale.seconds.toFixed(3),
      '1 run',
      (scale.framesPerSecond / 1e6).toFixed(2),
      'n/a',
      mb(scale.peakRssKiB),
    ]);
  }
  const out = [table(rows)];
  for (const size of sizes) {
    for (const c of Object.values(size.cases)) {
      if (c.status !== 'ok') out.push(`${c.label} at ${int(size.frames)}: ${c.status}`);
    }
  }
  if (scale && scale.status !== 'ok') out.push(`10x set: ${scale.status}`);
  const verdict = (problems) => (problems.length ? `INCONSISTENT: ${problems.join('; ')}` : 'consistent');
  for (const size of sizes) {
    out.push(
      `check at ${int(size.frames)}: ${size.consistency.checked ? verdict(size.consistency.problems) : 'n/a (no report)'}`,
    );
  }
  out.push(
    `  (paths[0]: ${SET_FILES.length} hops in lab order, split host1-vxlan-97 > host1-phy0, merged host2-phy0 > host2-vxlan-97, no loss, no gaps)`,
  );
  if (scale?.seconds != null) {
    out.push(
      `  10x set: ${verdict(scale.problems)}; peak RSS ${mb(scale.peakRssKiB)} vs ${mb(large.cases.hops.peakRssKiB)} at ${int(large.frames)}`,
    );
  }
  out.push('bars (issue):');
  for (const b of bars) {
    const v = b.holds == null ? 'n/a' : b.holds ? 'HOLDS' : 'FAILS';
    const value =
      b.value == null ? '' : b.bar.includes('RSS') ? ` (${b.value.toFixed(0)} MB)` : ` (${ratio(b.value)})`;
    out.push(`  ${b.bar.padEnd(48)} ${v}${value}`);
  }
  out.push(
    `  at ${int(small.frames)} (no bar): ten hops ${ratio(small.ratios.hopsOverSingleThroughput)} of the single capture's frames/s;` +
      ` at ${int(large.frames)} in one thread: ${ratio(large.ratios.oneThreadOverSingleThroughput)}`,
  );
  out.push(
    `notes: median of ${repeat} runs after 1 warm-up, round-robin; throughput = frames / median wall time, every` +
      ' case pays one Node start-up;',
    `  the ten files hold different frames (super-frames inside the overlay, MSS segments on the NICs), so` +
      ` frames/s, not bytes/s; peak RSS via --import bench/peak-rss.mjs (main thread and workers)${
        huge ? '' : '; --huge adds one run on a 10M set'
      }.`,
  );
  log(out.join('\n'));

  return { scenario: name, repeat, rssMethod, sizes, scale, bars };
}
