// Scenario: one large capture like the physical NIC's in jumbo-underlay (VXLAN over IPv4, 1448-byte
// TCP segments plus ACKs, snaplen 256), >= 1,000,000 frames (--huge: >= 10,000,000). Times the floor,
// `hopscope analyze --json`, `tcpdump -nn -r` and a tshark slice, each in its own child process,
// and checks the bars: hopscope within 4x the floor, >= 3x faster than tcpdump -nn, peak RSS
// under 200 MB. timeCapture does the same for another template (the fragments scenario).
import { int, mb, ratio, rssMethod, runChild, table, timeRounds } from '../lib.mjs';
import { synthesize, TEMPLATE } from '../synthesize.mjs';
import { tools } from '../tools.mjs';

export const name = 'single-capture';
const CASES = ['floor', 'hopscope', 'tcpdump', 'tshark'];
const BARS = { floorRatio: 4, tcpdumpRatio: 3, rssMiB: 200 };

export function run({ frames, repeat, only, log }) {
  return timeCapture({ name, template: TEMPLATE, frames, cases: CASES, bars: BARS, repeat, only, log });
}

/**
 * Times the cases on a capture synthesised from `template` (>= `frames` frames); `bars`: the
 * issue's bars to check (null: none, the ratios only).
 */
export async function timeCapture({ name, template, frames, cases: caseIds, bars: BARS, repeat, only, log }) {
  const templateName = template.split('/').slice(-2).join('/');
  const capture = synthesize({ frames, template, log });
  const total = capture.frames;
  log(
    `${name}: ${templateName} x${capture.copies} = ${int(total)} frames, ` +
      `${(capture.bytes / 1e6).toFixed(0)} MB (${capture.cached ? 'cached' : 'written'}: ${capture.path})`,
  );

  const cases = {};
  for (const id of caseIds.filter((c) => !only || only.includes(c))) {
    const tool = tools[id];
    const ok = tool.available();
    const frames = tool.slice ? Math.min(tool.slice, total) : total;
    cases[id] = {
      id,
      label: tool.label,
      frames,
      slice: Boolean(tool.slice),
      status: ok === true ? 'ok' : ok,
      runs: [],
    };
  }
  const active = () => Object.values(cases).filter((c) => c.status === 'ok');
  const once = async (c) => {
    const r = await runChild(tools[c.id], capture.path, total);
    if (r.code !== 0) {
      c.status = `failed (exit ${r.code}): ${r.stderrTail.split('\n').pop() ?? ''}`;
      return null;
    }
    if (tools[c.id].checkStdout && Number(r.stdout) !== total) {
      c.status = `counted ${r.stdout.trim()} frames, expected ${total}`;
      return null;
    }
    return r;
  };

  // One untimed run of each case warms the page cache and the tools' libraries; then the timed runs
  // go round-robin so drift (thermal, noisy neighbours) spreads over all cases alike.
  log(
    `warm-up, then ${repeat} timed runs of: ${active()
      .map((c) => c.id)
      .join(', ')}`,
  );
  for (const c of active()) await once(c);
  await timeRounds(active(), repeat, once);
  for (const c of active()) {
    c.secondsPerFrame = c.seconds.median / c.frames;
  }
  for (const c of Object.values(cases)) delete c.runs;

  const ok = (id) => cases[id]?.status === 'ok';
  const per = (id) => cases[id].secondsPerFrame;
  const ratios = {
    hopscopeOverFloor: ok('hopscope') && ok('floor') ? per('hopscope') / per('floor') : null,
    tcpdumpOverHopscope: ok('hopscope') && ok('tcpdump') ? per('tcpdump') / per('hopscope') : null,
    tsharkOverHopscope: ok('hopscope') && ok('tshark') ? per('tshark') / per('hopscope') : null,
    tcpdumpOverFloor: ok('tcpdump') && ok('floor') ? per('tcpdump') / per('floor') : null,
  };
  const hopscopeRss = ok('hopscope') ? cases.hopscope.peakRssKiB : null;
  const bar = (text, value, holds) => ({ bar: text, value, holds: value == null ? null : holds(value) });
  const bars =
    BARS === null
      ? []
      : [
          bar(
            `hopscope time <= ${BARS.floorRatio}x floor`,
            ratios.hopscopeOverFloor,
            (v) => v <= BARS.floorRatio,
          ),
          bar(
            `tcpdump -nn time >= ${BARS.tcpdumpRatio}x hopscope`,
            ratios.tcpdumpOverHopscope,
            (v) => v >= BARS.tcpdumpRatio,
          ),
          bar(
            `hopscope peak RSS < ${BARS.rssMiB} MB`,
            hopscopeRss == null ? null : hopscopeRss / 1024,
            (v) => v < BARS.rssMiB,
          ),
        ];

  // Print: one table, the bars, notes.
  const rows = [['case', 'frames', 'median s', 'spread', 'Mframes/s', 'x floor', 'peak RSS']];
  for (const c of Object.values(cases)) {
    if (c.status !== 'ok') continue;
    rows.push([
      c.label,
      int(c.frames),
      c.seconds.median.toFixed(3),
      `${(c.seconds.spread * 100).toFixed(0)}%`,
      (c.framesPerSecond / 1e6).toFixed(2),
      ok('floor') ? ratio(c.secondsPerFrame / per('floor')) : 'n/a',
      mb(c.peakRssKiB),
    ]);
  }
  const out = [table(rows)];
  for (const c of Object.values(cases)) {
    if (c.status !== 'ok')
      out.push(c.id === 'hopscope' ? `hopscope analyze: ${c.status}` : `${c.label}: ${c.status}`);
  }
  out.push(
    `ratios: hopscope/floor ${ratio(ratios.hopscopeOverFloor)}   tcpdump/hopscope ${ratio(ratios.tcpdumpOverHopscope)}   ` +
      (caseIds.includes('tshark')
        ? `tshark/hopscope ${ratio(ratios.tsharkOverHopscope)} (per frame)   `
        : '') +
      `tcpdump/floor ${ratio(ratios.tcpdumpOverFloor)}`,
  );
  if (bars.length > 0) out.push('bars (issue):');
  for (const b of bars) {
    const why = ok('hopscope') ? '' : ` (hopscope ${cases.hopscope?.status ?? 'not selected'})`;
    const verdict = b.holds == null ? `n/a${why}` : b.holds ? 'HOLDS' : 'FAILS';
    const value =
      b.value == null ? '' : b.bar.includes('RSS') ? ` (${b.value.toFixed(0)} MB)` : ` (${ratio(b.value)})`;
    out.push(`  ${b.bar.padEnd(34)} ${verdict}${value}`);
  }
  out.push(
    `notes: median of ${repeat} runs after 1 warm-up, spread = (max-min)/median; every case is a child process timed` +
      ' spawn-to-exit, so all pay process start-up (Node ~40 ms);',
    `  ${caseIds.includes('tshark') ? 'tshark reads a slice (-c) and is compared per frame, its start-up amortised over fewer frames; ' : ''}` +
      `peak RSS: Node children via --import bench/peak-rss.mjs, others via ${
        rssMethod === 'time' ? '/usr/bin/time -f %M' : rssMethod === 'proc' ? '/proc VmHWM polling' : 'n/a'
      }.`,
  );
  log(out.join('\n'));

  return {
    scenario: name,
    capture: { ...capture, template: `samples/${templateName}` },
    repeat,
    rssMethod,
    cases,
    ratios,
    bars,
  };
}
