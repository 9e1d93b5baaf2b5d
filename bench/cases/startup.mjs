// Scenario: start-up. How far the cheapest commands are from bare Node: `node -e 0` (the floor of
// any Node CLI), `hopscope --version`, `hopscope --help` and `hopscope analyze` on one small capture
// of the lab (samples/jumbo-underlay/guest1-eth0.pcap, a few hundred frames: nearly all start-up).
// Every case is a bare child process of the same Node binary (no RSS preload), timed spawn to exit,
// round-robin; the median of BENCH_STARTUP_REPEAT runs (default 21) is printed with its ratio to
// `node -e 0` and the milliseconds hopscope adds on top of it.
import { join } from 'node:path';
import { ratio, runChild, table, timeRounds } from '../lib.mjs';
import { tools } from '../tools.mjs';

export const name = 'startup';
const SAMPLE = join('samples', 'jumbo-underlay', 'guest1-eth0.pcap');
const CASES = [
  { id: 'node', tool: 'nodeEmpty', select: 'floor' },
  { id: 'version', tool: 'hopscopeVersion', select: 'hopscope' },
  { id: 'help', tool: 'hopscopeHelp', select: 'hopscope' },
  { id: 'analyze', tool: 'hopscopeSmall', select: 'hopscope' },
];

export async function run({ only, log }) {
  const repeat = Number(process.env.BENCH_STARTUP_REPEAT ?? 21);
  if (!Number.isInteger(repeat) || repeat < 1)
    throw new Error('BENCH_STARTUP_REPEAT must be an integer >= 1');
  const sample = join(import.meta.dirname, '..', '..', SAMPLE);

  const cases = {};
  for (const { id, tool, select } of CASES) {
    const ok = !only || only.includes(select) ? tools[tool].available() : 'not selected';
    cases[id] = { id, label: tools[tool].label, tool, status: ok === true ? 'ok' : ok, runs: [] };
  }
  const active = () => Object.values(cases).filter((c) => c.status === 'ok');
  const once = async (c) => {
    const r = await runChild(tools[c.tool], sample);
    if (r.code !== 0) {
      c.status = `failed (exit ${r.code}): ${r.stderrTail.split('\n').pop() ?? ''}`;
      return null;
    }
    return r;
  };

  log(
    `${name}: ${SAMPLE} for analyze; warm-up, then ${repeat} timed runs of: ${active()
      .map((c) => c.id)
      .join(', ')}`,
  );
  for (const c of active()) await once(c);
  await timeRounds(active(), repeat, once);
  for (const c of Object.values(cases)) {
    delete c.runs;
    delete c.frames;
    delete c.framesPerSecond;
    delete c.peakRssKiB;
    delete c.peakRssKiBSamples;
  }

  const floor = cases.node.status === 'ok' ? cases.node.seconds.median : null;
  const ms = (s) => (s * 1000).toFixed(1);
  const rows = [['case', 'median ms', 'min ms', 'spread', 'x node -e 0', '+ms over node']];
  for (const c of Object.values(cases)) {
    if (c.status !== 'ok') continue;
    c.overFloor = floor ? c.seconds.median / floor : null;
    rows.push([
      c.label,
      ms(c.seconds.median),
      ms(c.seconds.min),
      `${(c.seconds.spread * 100).toFixed(0)}%`,
      ratio(c.overFloor),
      floor ? ms(c.seconds.median - floor) : 'n/a',
    ]);
  }
  const out = [table(rows)];
  for (const c of Object.values(cases)) if (c.status !== 'ok') out.push(`${c.label}: ${c.status}`);
  out.push(
    `notes: median of ${repeat} runs after 1 warm-up (BENCH_STARTUP_REPEAT), spread = (max-min)/median;` +
      ' each case a bare child process of this Node, timed spawn to exit, stdout to /dev/null.',
  );
  log(out.join('\n'));

  return { scenario: name, sample: SAMPLE, repeat, cases };
}
