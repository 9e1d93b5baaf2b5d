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
  override readonly code = 'HOPSCOPE_USAGE';
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

/** A --topology file that cannot be read or does not have the expected form. */
export class TopologyError extends HopscopeError {
  override readonly code = 'HOPSCOPE_TOPOLOGY';
}
