// Runs the CLI in-process, capturing stdout/stderr, so tests see exactly what a user would.
import { Writable } from 'node:stream';
import { main } from '../../src/cli/main.js';
import type { Report } from '../../src/report/model.js';

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

function sink(): Writable & { text: string } {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk, _enc, done) {
      chunks.push(String(chunk));
      done();
    },
  }) as Writable & { text: string };
  Object.defineProperty(stream, 'text', { get: () => chunks.join('') });
  return stream;
}

export async function runCli(args: string[]): Promise<CliRun> {
  const stdout = sink();
  const stderr = sink();
  const code = await main(args, { stdout, stderr });
  return { code, stdout: stdout.text, stderr: stderr.text };
}

export async function analyzeJson(args: string[]): Promise<{ report: Report; run: CliRun }> {
  const run = await runCli(['analyze', '--json', '--log-level', 'silent', ...args]);
  return { report: JSON.parse(run.stdout) as Report, run };
}
