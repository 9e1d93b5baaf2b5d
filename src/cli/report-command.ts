/**
 * `hopscope report` and `hopscope annotate`: an analysis (main.ts runAnalysis), then a document
 * (HTML or Markdown) or an annotated pcapng. Loaded only by these two commands, so --help and
 * analyze do not pay for the renderers.
 */

import { createWriteStream, type WriteStream } from 'node:fs';
import { realpath, rename, rm, stat, writeFile } from 'node:fs/promises';
import { oneLine } from '../errors.js';
import { annotateCaptures } from '../report/annotate.js';
import { buildContext } from '../report/context.js';
import { renderHtml } from '../report/html.js';
import { renderMarkdown } from '../report/markdown.js';
import { buildReport } from '../report/model.js';
import {
  type AnnotateArgs,
  type CliIo,
  EXIT_OK,
  EXIT_OUTPUT,
  EXIT_UNREADABLE,
  type ReportArgs,
  runAnalysis,
  sayWarnings,
  writeOut,
} from './main.js';
import { packageVersion } from './version.js';

function formatOf(args: ReportArgs): 'html' | 'md' {
  if (args.format !== undefined) return args.format;
  return args.output !== undefined && /\.(md|markdown)$/i.test(args.output) ? 'md' : 'html';
}

function describeError(error: unknown): string {
  const code = (error as NodeJS.ErrnoException).code;
  if (code === 'ENOSPC') return 'no space left on device (ENOSPC)';
  if (code === 'EACCES' || code === 'EPERM') return 'permission denied';
  if (code === 'ENOENT') return 'no such directory';
  return oneLine((error as Error).message ?? String(error));
}

/**
 * Where an output goes. A device (/dev/null, /dev/stdout), FIFO or socket, also behind a link, is
 * written in place: renaming a finished file over it replaced the device or the link itself (as
 * root, `-o /dev/null` left a regular file where /dev/null was). A regular file is replaced whole
 * (`file`: a link's target, so the link stays a link and what it points to is never half written).
 */
async function outputTarget(path: string): Promise<{ inPlace: boolean; file: string }> {
  try {
    if (!(await stat(path)).isFile()) return { inPlace: true, file: path };
    return { inPlace: false, file: await realpath(path) };
  } catch {
    return { inPlace: false, file: path };
  }
}

/**
 * Writes the whole file next to its final name, then renames it: a reader never sees half a
 * report, and a failure leaves no partial file behind. A device or FIFO is written in place.
 */
async function writeFileAtomically(output: string, text: string): Promise<void> {
  const { inPlace, file: path } = await outputTarget(output);
  if (inPlace) {
    await writeFile(path, text);
    return;
  }
  const temporary = `${path}.${process.pid}.tmp`;
  try {
    await writeFile(temporary, text);
    await rename(temporary, path);
  } catch (error) {
    await rm(temporary, { force: true });
    throw error;
  }
}

export async function runReport(args: ReportArgs, io: CliIo, argv: readonly string[]): Promise<number> {
  const run = await runAnalysis('report', args, io);
  const version = packageVersion();
  const report = buildReport(run.result, version);
  const context = await buildContext(report, {
    version,
    commandLine: [...argv],
    ...(args.topology !== undefined ? { topology: args.topology } : {}),
  });
  const text = formatOf(args) === 'md' ? renderMarkdown(report, context) : renderHtml(report, context);
  if (args.output === undefined || args.output === '-') {
    if ((await writeOut(io, text)) === 'failed') return EXIT_OUTPUT;
  } else {
    try {
      await writeFileAtomically(args.output, text);
    } catch (error) {
      io.stderr.write(`hopscope: cannot write ${args.output}: ${describeError(error)}\n`);
      return EXIT_OUTPUT;
    }
  }
  sayWarnings(io, run);
  return run.code;
}

/** A write stream's write, waiting for 'drain' when its buffer is full; the first error is kept. */
function streamWriter(stream: NodeJS.WritableStream): {
  write: (chunk: Uint8Array) => undefined | Promise<void>;
  error: () => Error | null;
} {
  let failure: Error | null = null;
  stream.on('error', (error: Error) => {
    failure ??= error;
  });
  return {
    write(chunk) {
      if (failure !== null) return undefined;
      if (stream.write(chunk)) return undefined;
      return new Promise<void>((resolve) => {
        const done = () => {
          stream.off('drain', done);
          stream.off('error', done);
          resolve();
        };
        stream.on('drain', done);
        stream.on('error', done);
      });
    },
    error: () => failure,
  };
}

export async function runAnnotate(args: AnnotateArgs, io: CliIo): Promise<number> {
  const run = await runAnalysis('annotate', args, io);
  const report = buildReport(run.result, packageVersion());
  // Stdin cannot be read a second time, and a capture the analysis could not read has no frames.
  const readable = report.captures.filter((c) => c.format !== null && c.path !== '-').map((c) => c.path);
  if (args.captures.includes('-'))
    io.stderr.write('hopscope: annotate reads each capture twice; stdin (-) cannot be, and is left out\n');
  if (readable.length === 0) {
    sayWarnings(io, run);
    io.stderr.write(`hopscope: annotate: no capture to write, ${args.output} not written\n`);
    return run.code === EXIT_OK ? EXIT_UNREADABLE : run.code;
  }
  const toStdout = args.output === '-';
  // A device or FIFO (-o /dev/stdout) is written in place, a link's target replaced: see outputTarget.
  const { inPlace, file } = toStdout
    ? { inPlace: false, file: args.output }
    : await outputTarget(args.output);
  const temporary = inPlace ? file : `${file}.${process.pid}.tmp`;
  const stream = toStdout ? io.stdout : createWriteStream(temporary);
  const sink = streamWriter(stream);
  let summary: Awaited<ReturnType<typeof annotateCaptures>>;
  try {
    summary = await annotateCaptures(report, readable, { align: args.align, write: sink.write });
  } finally {
    if (!toStdout) await new Promise<void>((resolve) => (stream as WriteStream).end(resolve));
  }
  const failure = sink.error();
  if (failure !== null) {
    if (!toStdout && !inPlace) await rm(temporary, { force: true });
    if ((failure as NodeJS.ErrnoException).code === 'EPIPE') return run.code;
    io.stderr.write(`hopscope: cannot write ${args.output}: ${describeError(failure)}\n`);
    return EXIT_OUTPUT;
  }
  if (!toStdout && !inPlace) {
    try {
      await rename(temporary, file);
    } catch (error) {
      await rm(temporary, { force: true });
      io.stderr.write(`hopscope: cannot write ${args.output}: ${describeError(error)}\n`);
      return EXIT_OUTPUT;
    }
  }
  for (const problem of summary.problems) io.stderr.write(`hopscope: ${problem}\n`);
  sayWarnings(io, run);
  return run.code;
}
