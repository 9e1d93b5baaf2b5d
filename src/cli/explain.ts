/**
 * `hopscope explain [FILE...]`: tcpdump or Wireshark text in (files, or stdin: a pasted ticket, or
 * `tcpdump -vv -nn -i tap0 | hopscope explain` live), each line out as it comes with the verdicts
 * on its packet, then the summary. main.ts imports this module only inside the explain handler.
 *
 * Streaming: lines are read one at a time (readline) and written at once; a write that the reader
 * has not taken yet pauses the reading (backpressure), so memory stays bounded whatever the input.
 * A packet's verdicts follow its last line: known when the next packet starts, or, on a live pipe,
 * after IDLE_MS without input. Ctrl-C ends the reading and still prints the summary.
 */

import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import { UsageError } from '../errors.js';
import { createExplainer, type Output } from '../explain/explain.js';
import { type RenderOptions, renderOutput, renderSummary } from '../explain/render.js';

/** A packet's verdicts wait this long for more of its lines before they are printed. */
export const IDLE_MS = 250;

export interface ExplainArgs {
  files: string[];
  json: boolean;
  summary: boolean;
  color?: boolean;
}

export interface ExplainIo {
  stdin: Readable;
  stdout: NodeJS.WritableStream & { isTTY?: boolean };
  stderr: NodeJS.WritableStream;
}

export interface ExplainResult {
  /** Files that could not be read: their messages, in order. */
  unreadable: string[];
  /** stdout refused a write: 'closed' (EPIPE, the reader had enough) or the error. */
  output: 'written' | 'closed' | Error;
}

/** Capture files given by mistake: their first bytes (pcap both orders and ns, pcapng, gzip). */
const CAPTURE_MAGIC = [
  [0xd4, 0xc3, 0xb2, 0xa1],
  [0xa1, 0xb2, 0xc3, 0xd4],
  [0x4d, 0x3c, 0xb2, 0xa1],
  [0xa1, 0xb2, 0x3c, 0x4d],
  [0x0a, 0x0d, 0x0d, 0x0a],
  [0x1f, 0x8b],
];

async function captureFileProblem(path: string): Promise<string | null> {
  const handle = await open(path, 'r');
  try {
    const head = Buffer.alloc(4);
    const { bytesRead } = await handle.read(head, 0, 4, 0);
    const isCapture = CAPTURE_MAGIC.some((m) => bytesRead >= m.length && m.every((b, i) => head[i] === b));
    return isCapture
      ? `${path}: a capture file, not text: run hopscope analyze ${path}, or tcpdump -vv -nn -r ${path} | hopscope explain`
      : null;
  } finally {
    await handle.close();
  }
}

export async function runExplain(args: ExplainArgs, io: ExplainIo): Promise<ExplainResult> {
  if (args.json && args.color) throw new UsageError('explain: --color and --json do not go together');
  const options: RenderOptions = {
    json: args.json,
    summaryOnly: args.summary && !args.json,
    color: args.color ?? (Boolean(io.stdout.isTTY) && process.env.NO_COLOR === undefined && !args.json),
  };
  const explainer = createExplainer();
  const result: ExplainResult = { unreadable: [], output: 'written' };
  let failed: Error | 'closed' | null = null;
  const onError = (error: Error) => {
    failed ??= (error as NodeJS.ErrnoException).code === 'EPIPE' ? 'closed' : error;
  };
  io.stdout.on('error', onError);

  /** Writes and waits for the reader when it lags (backpressure). */
  const write = async (text: string): Promise<void> => {
    if (text === '' || failed !== null) return;
    if (!io.stdout.write(text)) {
      await new Promise<void>((resolve) => {
        const done = () => {
          io.stdout.off('drain', done);
          io.stdout.off('error', done);
          resolve();
        };
        io.stdout.once('drain', done);
        io.stdout.once('error', done);
      });
    }
  };
  const render = (outputs: readonly Output[]): string =>
    outputs.map((o) => renderOutput(o, options)).join('');

  const sources: Array<{ name: string; stream: () => Readable }> =
    args.files.length === 0
      ? [{ name: '-', stream: () => io.stdin }]
      : args.files.map((name) => ({
          name,
          stream: () => (name === '-' ? io.stdin : createReadStream(name)),
        }));

  let readAny = false;
  let interrupted = false;
  let closeCurrent: (() => void) | null = null;
  const onSigint = () => {
    interrupted = true;
    closeCurrent?.();
  };
  process.once('SIGINT', onSigint);
  try {
    for (const source of sources) {
      if (interrupted || failed !== null) break;
      if (source.name !== '-') {
        try {
          const problem = await captureFileProblem(source.name);
          if (problem !== null) {
            result.unreadable.push(problem);
            continue;
          }
        } catch (error) {
          result.unreadable.push(describeOpenError(source.name, error));
          continue;
        }
      }
      readAny = true;
      const stream = source.stream();
      const lines = createInterface({ input: stream, crlfDelay: Number.POSITIVE_INFINITY });
      closeCurrent = () => lines.close();
      // One idle timer, re-armed for what remains of IDLE_MS since the last line (no timer per
      // line); never fired while a line is being handled, so a record is not cut in the middle.
      let idle: NodeJS.Timeout | null = null;
      let lastLine = 0;
      let busy = false;
      const onIdle = () => {
        const wait = IDLE_MS - (Date.now() - lastLine);
        if (busy || wait > 0) {
          idle = setTimeout(onIdle, Math.max(wait, 10));
          return;
        }
        idle = null;
        const text = render(explainer.flush());
        if (text !== '') void write(text);
      };
      const readError = new Promise<never>((_, reject) => stream.once('error', reject));
      readError.catch(() => {});
      try {
        const reading = (async () => {
          for await (const line of lines) {
            busy = true;
            lastLine = Date.now();
            await write(render(explainer.push(line)));
            busy = false;
            if (failed !== null) break;
            // A live pipe may pause after a packet's last line: its verdicts should not wait.
            idle ??= setTimeout(onIdle, IDLE_MS);
          }
        })();
        await Promise.race([reading, readError]);
      } catch (error) {
        result.unreadable.push(describeOpenError(source.name, error));
      } finally {
        if (idle !== null) clearTimeout(idle);
        lines.close();
        closeCurrent = null;
      }
      await write(render(explainer.flush()));
    }
    await write(render(explainer.flush()));
    if (readAny && (!args.json || args.summary)) await write(renderSummary(explainer.summary(), options));
  } finally {
    process.off('SIGINT', onSigint);
  }
  // The last write's callback: a closed pipe or a full disk shows here.
  await new Promise<void>((resolve) => io.stdout.write('', () => resolve()));
  io.stdout.off('error', onError);
  result.output = failed ?? 'written';
  return result;
}

function describeOpenError(path: string, error: unknown): string {
  const code = (error as NodeJS.ErrnoException)?.code;
  if (code === 'ENOENT') return `${path}: no such file`;
  if (code === 'EISDIR') return `${path}: a directory, not a file`;
  if (code === 'EACCES') return `${path}: permission denied`;
  return `${path}: ${(error as Error)?.message ?? String(error)}`;
}
