// Evidence files: the frames behind each finding as pcapng that tshark reads, the finding as each
// packet's comment, the ring under its bound, and no half-written file after a SIGKILL mid-write
// (a real child process).
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { Frame } from '../../src/capture/frame.js';
import { readCapture } from '../../src/capture/read.js';
import { createLogger } from '../../src/log.js';
import { openEvidence } from '../../src/service/evidence.js';
import { startService } from '../../src/service/service.js';
import { fakeRun, lines } from '../helpers/service-run.js';

const root = join(import.meta.dirname, '..', '..');
const scenario = join(root, 'samples', 'fragmenting-underlay');
const captures = readdirSync(scenario)
  .filter((f) => f.endsWith('.pcap'))
  .sort()
  .map((f) => join(scenario, f));
const work = mkdtempSync(join(tmpdir(), 'hopscope-evidence-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));
const hasTshark = spawnSync('sh', ['-c', 'command -v tshark']).status === 0;
if (!hasTshark) console.warn('evidence: tshark missing: files are checked with hopscope’s own reader only');

interface Packet {
  number: number;
  interfaceId: number;
  comment: string | null;
  data: Uint8Array;
}

/** Every packet of a capture, and the problems its reader met (none for a whole file). */
async function readAll(path: string): Promise<{ packets: Packet[]; problems: string[]; names: string[] }> {
  const packets: Packet[] = [];
  const problems: string[] = [];
  const names: string[] = [];
  await readCapture(path, {
    onInterface: (i) => names.push(i.name ?? ''),
    onFrame: (f: Frame) =>
      packets.push({
        number: f.number,
        interfaceId: f.interfaceId,
        comment: f.comment,
        data: f.data.slice(),
      }),
    onProblem: (p) => problems.push(p.message),
  });
  return { packets, problems, names };
}

const pcapngs = (dir: string) => readdirSync(dir).filter((f) => f.endsWith('.pcapng'));

describe('evidence files', () => {
  it('hold the frames behind each finding, readable, the finding as the comment, under the bound', async () => {
    const dir = join(work, 'ring');
    const maxBytes = 60_000;
    const service = await startService({
      listen: null,
      token: null,
      evidence: { dir, maxBytes },
      intervalMs: 3_600_000,
      agentName: 't',
      toolVersion: '0.0.0-test',
      logger: createLogger('silent'),
      text: lines(),
    });
    const run = fakeRun(service.tap);
    service.attach(run);
    for (const path of captures) await run.feed(path);
    const told = await service.tick();
    await service.stop();
    const files = pcapngs(dir);
    expect(files.length).toBeGreaterThan(1);
    const total = files.reduce((sum, f) => sum + statSync(join(dir, f)).size, 0);
    expect(total).toBeLessThanOrEqual(maxBytes);
    // More findings had evidence than the bound holds: the oldest files went.
    expect(told.length).toBeGreaterThan(files.length);
    expect(readdirSync(dir).filter((f) => f.endsWith('.tmp'))).toEqual([]);

    const originals = new Map<string, Packet[]>();
    for (const path of captures)
      originals.set(path.replace(/^.*\//, '').replace('.pcap', ''), (await readAll(path)).packets);
    for (const file of files) {
      const { packets, problems, names } = await readAll(join(dir, file));
      expect(problems).toEqual([]);
      expect(packets.length).toBeGreaterThan(0);
      const finding = told.find(
        (e) =>
          packets[0]?.comment?.startsWith(`${e.finding.code} (`) &&
          packets[0].comment.includes(` at ${e.finding.hop}`),
      );
      expect(finding, `${file}: the comment names a finding told`).toBeDefined();
      for (const packet of packets) {
        expect(packet.comment).toBe(packets[0]?.comment);
        // The very bytes of the frame the finding names, at the hop the interface is named after.
        const hop = names[packet.interfaceId] as string;
        const evidence = finding?.finding.evidence.filter((e) => e.hop === hop).map((e) => e.frame) ?? [];
        const original = originals.get(hop)?.filter((p) => evidence.includes(p.number)) ?? [];
        expect(original.some((p) => Buffer.from(p.data).equals(Buffer.from(packet.data)))).toBe(true);
      }
      if (hasTshark) {
        const out = spawnSync(
          'tshark',
          ['-r', join(dir, file), '-T', 'fields', '-e', 'frame.comment', '-e', 'frame.interface_name'],
          {
            encoding: 'utf8',
          },
        );
        expect(out.status, out.stderr).toBe(0);
        const rows = out.stdout.trim().split('\n');
        expect(rows).toHaveLength(packets.length);
        expect(rows.every((row) => row.includes(finding?.finding.code as string))).toBe(true);
      }
    }
  });

  it('removes the temporaries a dead writer left at start, and keeps a live writer’s', async () => {
    const dir = join(work, 'stale');
    const { mkdirSync } = await import('node:fs');
    mkdirSync(dir);
    // pid 2^22 + 1 is above Linux's pid_max limit: no process has it.
    writeFileSync(join(dir, '.hopscope-x.pcapng.4194305.tmp'), 'half');
    writeFileSync(join(dir, `.hopscope-y.pcapng.${process.ppid}.tmp`), 'being written');
    writeFileSync(join(dir, 'notes.txt'), 'not ours');
    await openEvidence({ dir, maxBytes: 1000, toolVersion: 'x', logger: createLogger('silent') });
    expect(readdirSync(dir).sort()).toEqual([`.hopscope-y.pcapng.${process.ppid}.tmp`, 'notes.txt']);
  });

  it('leaves no partial evidence file when the process is killed (SIGKILL) while writing', async () => {
    const dir = join(work, 'killed');
    let killedMidWrite = 0;
    let rounds = 0;
    for (; rounds < 12 && killedMidWrite < 2; rounds++) {
      const child: ChildProcess = spawn(
        process.execPath,
        [
          join(root, 'node_modules', 'vite-node', 'vite-node.mjs'),
          join(root, 'test', 'helpers', 'agent.ts'),
          '--',
          '--evidence',
          dir,
          '--evidence-max-bytes',
          '400000',
          '--loop',
          ...captures,
        ],
        { stdio: ['ignore', 'pipe', 'inherit'], cwd: root },
      );
      // Once the first files are there, the writer is at work: kill it at a moment of chance.
      const before = existsSync(dir) ? pcapngs(dir).length : 0;
      for (let i = 0; i < 600 && (!existsSync(dir) || pcapngs(dir).length < before + 3); i++)
        await new Promise((r) => setTimeout(r, 50));
      await new Promise((r) => setTimeout(r, Math.random() * 300));
      child.kill('SIGKILL');
      await new Promise((r) => child.once('exit', r));
      if (readdirSync(dir).some((f) => f.endsWith('.tmp'))) killedMidWrite++;
      for (const file of pcapngs(dir)) {
        const { problems, packets } = await readAll(join(dir, file));
        expect(problems, `${file} after SIGKILL`).toEqual([]);
        expect(packets.length).toBeGreaterThan(0);
      }
    }
    // The test did kill a writer between its temporary file and the rename at least twice.
    expect(killedMidWrite, `${rounds} rounds`).toBeGreaterThanOrEqual(2);
    if (hasTshark)
      for (const file of pcapngs(dir)) expect(spawnSync('tshark', ['-r', join(dir, file)]).status).toBe(0);
    // The next start removes what the killed writers left half-written.
    await openEvidence({ dir, maxBytes: 400000, toolVersion: 'x', logger: createLogger('silent') });
    expect(readdirSync(dir).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  }, 300_000);
});
