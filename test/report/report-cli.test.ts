// `hopscope report` and `annotate` at their edges: the format chosen from the file name, a
// capture that cannot be read (said in the verdict, the others still reported), an output that
// cannot be written (exit 74, no partial file), a single hop (no path to draw), and an HTML file
// that refers to nothing outside itself.
import { spawn, spawnSync } from 'node:child_process';
import {
  existsSync,
  lstatSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli } from '../analyze/helpers.js';

const root = join(import.meta.dirname, '..', '..');
const sample = join(root, 'samples', 'jumbo-underlay', 'guest1-eth0.pcap');
const scratch = mkdtempSync(join(tmpdir(), 'hopscope-report-cli-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

describe('hopscope report', () => {
  it('writes Markdown for an --output ending in .md, HTML otherwise', async () => {
    const md = join(scratch, 'one.md');
    const html = join(scratch, 'one.html');
    expect((await runCli(['report', '--log-level', 'silent', sample, '-o', md])).code).toBe(0);
    expect((await runCli(['report', '--log-level', 'silent', sample, '-o', html])).code).toBe(0);
    expect(readFileSync(md, 'utf8')).toMatch(/^# hopscope report: /);
    expect(readFileSync(html, 'utf8')).toMatch(/^<!doctype html>/);
    // One hop is no path: no path section in either.
    expect(readFileSync(md, 'utf8')).not.toContain('## Path');
    expect(readFileSync(html, 'utf8')).not.toContain('id="path"');
  });

  it('an HTML report that loads nothing: no external source, link, import or URL', async () => {
    const html = join(scratch, 'self.html');
    expect((await runCli(['report', '--log-level', 'silent', sample, '-o', html])).code).toBe(0);
    const text = readFileSync(html, 'utf8');
    expect(text).not.toMatch(/\s(src|href)="(?!#)/);
    expect(text).not.toMatch(/<link\b|@import|url\((?!#)/);
    expect(text).toContain("default-src 'none'");
    // The SVG namespace is a name, never fetched; nothing else says http.
    expect(text.replaceAll('xmlns="http://www.w3.org/2000/svg"', '')).not.toMatch(/https?:/);
  });

  it('says in the verdict which capture it could not read, and reports the others (exit 1)', async () => {
    const missing = join(scratch, 'missing.pcap');
    const run = await runCli(['report', '--log-level', 'silent', '--format', 'md', missing, sample]);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(`${missing}: no such file`);
    const verdict = run.stdout.slice(0, run.stdout.indexOf('**What is fine**'));
    expect(verdict).toContain('**What is wrong**');
    expect(verdict).toContain(missing);
    expect(run.stdout).toContain('## Hops');
    expect(run.stdout).toContain('guest1-eth0');
  });

  it('cannot write the output: exit 74, one line, no file left behind', async () => {
    const target = join(scratch, 'no-such-dir', 'r.html');
    const run = await runCli(['report', '--log-level', 'silent', sample, '-o', target]);
    expect(run.code).toBe(74);
    expect(run.stderr.trim().split('\n')).toEqual([`hopscope: cannot write ${target}: no such directory`]);
    expect(existsSync(join(scratch, 'no-such-dir'))).toBe(false);
  });
});

describe('hopscope annotate', () => {
  it('writes into a FIFO or through a link in place, never renaming a file over them', async () => {
    // A finished file renamed over the output would replace what is there: as root, -o /dev/null
    // or -o /dev/stdout replaced the device (or the /dev/stdout link) with a regular file. A FIFO
    // stands in for a device here: renamed over, it would be gone and its reader would get nothing.
    for (const command of ['report', 'annotate'] as const) {
      const fifo = join(scratch, `${command}.fifo`);
      expect(spawnSync('mkfifo', [fifo]).status).toBe(0);
      const reader = spawn('cat', [fifo]);
      const received: Buffer[] = [];
      reader.stdout.on('data', (chunk: Buffer) => received.push(chunk));
      const closed = new Promise<void>((resolve) => reader.on('close', () => resolve()));
      const run = await runCli([command, '--log-level', 'silent', sample, '-o', fifo]);
      expect(run.code, run.stderr).toBe(0);
      // Renamed over, the FIFO is gone and its reader waits for ever: said now, not by a timeout.
      if (!lstatSync(fifo).isFIFO()) reader.kill();
      expect(lstatSync(fifo).isFIFO()).toBe(true);
      await closed;
      const bytes = Buffer.concat(received);
      if (command === 'report') expect(bytes.toString('utf8')).toMatch(/^<!doctype html>/);
      else expect(bytes.readUInt32LE(0)).toBe(0x0a0d0d0a); // a pcapng section header
      // A link: written through to its target, the link left a link.
      const target = join(scratch, `${command}-target`);
      const link = join(scratch, `${command}-link`);
      writeFileSync(target, 'old');
      symlinkSync(target, link);
      expect((await runCli([command, '--log-level', 'silent', sample, '-o', link])).code).toBe(0);
      expect(lstatSync(link).isSymbolicLink()).toBe(true);
      expect(readFileSync(target).length).toBeGreaterThan(100);
    }
  });

  it('writes nothing when no capture can be read (exit 1)', async () => {
    const out = join(scratch, 'none.pcapng');
    const run = await runCli(['annotate', '--log-level', 'silent', join(scratch, 'missing.pcap'), '-o', out]);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('not written');
    expect(readdirSync(scratch).filter((f) => f.startsWith('none.pcapng'))).toEqual([]);
  });

  it('needs --output', async () => {
    const run = await runCli(['annotate', sample]);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/output/);
  });
});
