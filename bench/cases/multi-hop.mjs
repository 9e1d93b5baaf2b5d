// Scenario: the ten captures of one lab run (samples/jumbo-underlay: guest1-eth0 ... guest2-eth0),
// each repeated with the same per-copy shifts so that together they hold >= 1,000,000 frames and
// still show one consistent run at every hop (see synthesizeSet in bench/synthesize.mjs). Times
// `hopscope analyze --json` on the ten files together against the same build on the single-capture
// scenario's 1M-frame file, and checks the bars: ten hops analysed together at no less
// than the single-capture throughput (frames/s, >= 1x), peak RSS under 200 MB.
// With --huge the timed runs stay at 1M frames and one extra run on a 10x set shows whether peak RSS
// grows with the input (it should not: memory bounded).
import { int, mb, ratio, rssMethod, runChild, table, timeRounds } from '../lib.mjs';
import { DEFAULT_FRAMES, HUGE_FRAMES, SET_FILES, synthesize, synthesizeSet } from '../synthesize.mjs';
import { tools } from '../tools.mjs';

export const name = 'multi-hop';
const BARS = { throughputRatio: 1, rssMiB: 200 };
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

export async function run({ frames, repeat, only, huge, log }) {
  // --huge scales the extra memory run, not the timed ones: ten timed runs of 10M frames would take
  // minutes and say nothing the 1M runs do not.
  const base = huge ? DEFAULT_FRAMES : frames;
  const set = synthesizeSet({ frames: base, log });
  const single = synthesize({ frames: base, log });
  log(
    `${name}: ${SET_FILES.length} captures of jumbo-underlay x${set.copies} = ${int(set.frames)} frames, ` +
      `${(set.bytes / 1e6).toFixed(0)} MB (${set.cached ? 'cached' : 'written'}: ${set.dir})`,
  );
  log(
    `  against: host1-phy0.pcap x${single.copies} = ${int(single.frames)} frames, ` +
      `${(single.bytes / 1e6).toFixed(0)} MB (${single.cached ? 'cached' : 'written'}: ${single.path})`,
  );

  const files = set.files.map((f) => f.path);
  const cases = {
    hops: { id: 'hops', tool: tools.hopscopeHops, input: files, frames: set.frames, files: files.length },
    single: { id: 'single', tool: tools.hopscope, input: single.path, frames: single.frames, files: 1 },
  };
  for (const c of Object.values(cases)) {
    const ok = c.tool.available();
    c.label = c.id === 'hops' ? `hopscope analyze --json (${files.length} hops)` : `${c.tool.label} (1 file)`;
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

  // The warm-up run of the ten files keeps its JSON: the consistency check runs on the very set
  // that is timed, so a throughput measured on copies hopscope could not correlate never passes.
  const consistency = { checked: false, problems: [] };
  log(
    `warm-up (checks the ${files.length}-hop report), then ${repeat} timed runs of: ${active()
      .map((c) => c.id)
      .join(', ')}`,
  );
  for (const c of active()) {
    const r = await once(c, c.id === 'hops' ? { ...c.tool, checkStdout: true } : c.tool);
    if (r && c.id === 'hops') {
      consistency.checked = true;
      consistency.problems = checkReport(r.stdout);
    }
  }
  await timeRounds(active(), repeat, once);

  // One run on a set 10x the size: peak RSS should stay where it was (bounded), not scale.
  let scale = null;
  if (huge && cases.hops.status === 'ok') {
    const big = synthesizeSet({ frames: HUGE_FRAMES, log });
    log(
      `scale run: x${big.copies} = ${int(big.frames)} frames, ${(big.bytes / 1e6).toFixed(0)} MB ` +
        `(${big.cached ? 'cached' : 'written'}: ${big.dir})`,
    );
    const c = { input: big.files.map((f) => f.path), frames: big.frames, status: 'ok' };
    const r = await once(c, { ...tools.hopscopeHops, checkStdout: true });
    scale = {
      frames: big.frames,
      copies: big.copies,
      bytes: big.bytes,
      dir: big.dir,
      status: c.status,
      seconds: r?.seconds ?? null,
      framesPerSecond: r ? big.frames / r.seconds : null,
      peakRssKiB: r?.rssKiB ?? null,
      problems: r ? checkReport(r.stdout) : [],
    };
  }
  for (const c of Object.values(cases)) {
    delete c.runs;
    delete c.tool;
    if (Array.isArray(c.input)) c.input = c.input.map((p) => p.split('/').pop());
  }

  const ok = (id) => cases[id].status === 'ok';
  const ratios = {
    hopsOverSingleThroughput:
      ok('hops') && ok('single') ? cases.hops.framesPerSecond / cases.single.framesPerSecond : null,
    scaleRssOverHopsRss:
      scale?.peakRssKiB && cases.hops.peakRssKiB ? scale.peakRssKiB / cases.hops.peakRssKiB : null,
  };
  const bar = (text, value, holds) => ({ bar: text, value, holds: value == null ? null : holds(value) });
  const rssOf = (kib) => (kib == null ? null : kib / 1024);
  const bars = [
    bar(
      `hops throughput >= ${BARS.throughputRatio}x single`,
      ratios.hopsOverSingleThroughput,
      (v) => v >= BARS.throughputRatio,
    ),
    bar(
      `hops peak RSS < ${BARS.rssMiB} MB`,
      rssOf(ok('hops') ? cases.hops.peakRssKiB : null),
      (v) => v < BARS.rssMiB,
    ),
    bar(
      `single peak RSS < ${BARS.rssMiB} MB`,
      rssOf(ok('single') ? cases.single.peakRssKiB : null),
      (v) => v < BARS.rssMiB,
    ),
  ];
  if (scale) {
    bars.push(
      bar(
        `hops peak RSS at ${int(scale.frames)} < ${BARS.rssMiB} MB`,
        rssOf(scale.peakRssKiB),
        (v) => v < BARS.rssMiB,
      ),
    );
  }

  // Print: one table, the check, the bars, notes.
  const rows = [['case', 'files', 'frames', 'median s', 'spread', 'Mframes/s', 'x single', 'peak RSS']];
  for (const c of Object.values(cases)) {
    if (c.status !== 'ok') continue;
    rows.push([
      c.label,
      c.files,
      int(c.frames),
      c.seconds.median.toFixed(3),
      `${(c.seconds.spread * 100).toFixed(0)}%`,
      (c.framesPerSecond / 1e6).toFixed(2),
      ok('single') ? ratio(c.framesPerSecond / cases.single.framesPerSecond) : 'n/a',
      mb(c.peakRssKiB),
    ]);
  }
  if (scale?.seconds != null) {
    rows.push([
      `  once, 10x set (--huge)`,
      files.length,
      int(scale.frames),
      scale.seconds.toFixed(3),
      '1 run',
      (scale.framesPerSecond / 1e6).toFixed(2),
      ok('single') ? ratio(scale.framesPerSecond / cases.single.framesPerSecond) : 'n/a',
      mb(scale.peakRssKiB),
    ]);
  }
  const out = [table(rows)];
  for (const c of Object.values(cases)) if (c.status !== 'ok') out.push(`${c.label}: ${c.status}`);
  if (scale && scale.status !== 'ok') out.push(`10x set: ${scale.status}`);
  const verdict = (problems) => (problems.length ? `INCONSISTENT: ${problems.join('; ')}` : 'consistent');
  out.push(
    `check: ${
      consistency.checked ? verdict(consistency.problems) : 'n/a (no report)'
    } (paths[0]: ${SET_FILES.length} hops in lab order, split host1-vxlan-97 > host1-phy0, merged host2-phy0 > host2-vxlan-97, no loss, no gaps)`,
  );
  if (scale?.seconds != null) {
    out.push(
      `  10x set: ${verdict(scale.problems)}; peak RSS ${mb(scale.peakRssKiB)} vs ${mb(cases.hops.peakRssKiB)} at 1x (${ratio(ratios.scaleRssOverHopsRss)})`,
    );
  }
  out.push('bars (issue):');
  for (const b of bars) {
    const v = b.holds == null ? 'n/a' : b.holds ? 'HOLDS' : 'FAILS';
    const value =
      b.value == null ? '' : b.bar.includes('RSS') ? ` (${b.value.toFixed(0)} MB)` : ` (${ratio(b.value)})`;
    out.push(`  ${b.bar.padEnd(40)} ${v}${value}`);
  }
  out.push(
    `notes: median of ${repeat} runs after 1 warm-up, round-robin; throughput = frames / median wall time, both` +
      ' cases pay one Node start-up;',
    `  the ten files hold different frames (super-frames inside the overlay, MSS segments on the NICs), so` +
      ` frames/s, not bytes/s; peak RSS via --import bench/peak-rss.mjs${
        huge ? '' : '; --huge adds one run on a 10x set'
      }.`,
  );
  log(out.join('\n'));

  return {
    scenario: name,
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
    repeat,
    rssMethod,
    consistency,
    cases,
    scale,
    ratios,
    bars,
  };
}
