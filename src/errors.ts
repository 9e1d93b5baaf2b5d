/**
 * Program errors: every error hopscope throws on purpose, each with a stable `code` (undici's
 * lib/core/errors.js pattern). Problems inside packets are never errors: they are findings.
 */

export class HopscopeError extends Error {
  readonly code: string = 'HOPSCOPE_ERROR';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** The command line was wrong (exit code 2). */
export class UsageError extends HopscopeError {
  override readonly code: string = 'HOPSCOPE_USAGE';
}

/** A capture could not be read at all: missing, a directory, empty, not a capture (exit code 1). */
export class CaptureOpenError extends HopscopeError {
  override readonly code: string = 'HOPSCOPE_CAPTURE_OPEN';
  constructor(
    readonly path: string,
    readonly problem: string,
    readonly offset = 0,
    options?: { cause?: unknown },
  ) {
    super(`${path}: ${problem}`, options);
  }
}

/** The first bytes are neither pcap nor pcapng (nor gzip of either). */
export class NotACaptureError extends CaptureOpenError {
  override readonly code = 'HOPSCOPE_NOT_A_CAPTURE';
}

/** The file has no bytes at all. */
export class EmptyCaptureError extends CaptureOpenError {
  override readonly code = 'HOPSCOPE_EMPTY_CAPTURE';
}

/**
 * A --topology file that cannot be read or does not have the expected form: a usage error (exit
 * code 2), like a bad --mtu, since the file is part of what the command line asked for.
 */
export class TopologyError extends UsageError {
  override readonly code = 'HOPSCOPE_TOPOLOGY';
}

/**
 * A message as one line: each run of control characters (newlines, a binary file's bytes quoted
 * in a JSON parse error) becomes one space, so nothing reaches the terminal but the words.
 */
export function oneLine(text: string): string {
  let out = '';
  let gap = false;
  for (const ch of text) {
    const c = ch.charCodeAt(0);
    if (c < 0x20 || (c >= 0x7f && c <= 0x9f)) {
      gap = true;
      continue;
    }
    if (gap) {
      out = `${out.trimEnd()} `;
      gap = false;
      if (ch === ' ') continue;
    }
    out += ch;
  }
  return gap ? out.trimEnd() : out;
}
