/**
 * A one-line progress indicator on stderr, only on a terminal (or with --progress) and only for
 * inputs that take a while (over 32 MiB, or of unknown size such as stdin). Redrawn at most five
 * times a second. An input that can wait for data (stdin, a FIFO, a device) and gives none for a
 * couple of seconds is named as waiting, the way a silent `cat` would not: the reader only reports
 * bytes it read, so a timer here notices the silence.
 */

export interface Progress {
  update: (path: string, bytesRead: number, totalBytes: number | null) => void;
  done: () => void;
}

export interface ProgressOptions {
  /** Inputs that can wait for data (stdin as `-`, FIFOs, devices), in the order they are read. */
  streams?: readonly string[];
  /** How long without data before the line says that it is waiting. */
  waitingAfterMs?: number;
}

const BIG_INPUT = 32 * 1024 * 1024;
export const WAITING_AFTER_MS = 2000;

export function createProgress(
  stream: NodeJS.WritableStream,
  enabled: boolean,
  options: ProgressOptions = {},
): Progress {
  if (!enabled) return { update: () => {}, done: () => {} };
  let last = 0;
  let drawn = false;
  let waiting = false;
  let lastData = Date.now();
  let lastPath: string | null = null;
  const streams = options.streams ?? [];
  const heard = new Set<string>();
  const waitingAfter = options.waitingAfterMs ?? WAITING_AFTER_MS;
  const erase = () => {
    stream.write('\r\u001b[K');
    drawn = false;
    waiting = false;
  };
  /** The input that is silent: the stream read last if it was one, else the first not heard from. */
  const silent = (): string | undefined =>
    lastPath !== null && streams.includes(lastPath) ? lastPath : streams.find((path) => !heard.has(path));
  const timer =
    streams.length > 0
      ? setInterval(
          () => {
            if (waiting || Date.now() - lastData < waitingAfter) return;
            const path = silent();
            if (path === undefined) return;
            stream.write(`\r\u001b[K${path}: waiting for data`);
            drawn = true;
            waiting = true;
          },
          Math.min(500, waitingAfter),
        )
      : null;
  // The timer never keeps the process alive by itself.
  timer?.unref?.();
  return {
    update(path, bytesRead, totalBytes) {
      lastData = Date.now();
      if (lastPath !== path) {
        lastPath = path;
        heard.add(path);
      }
      if (waiting) {
        erase();
        last = 0;
      }
      if (totalBytes !== null && totalBytes < BIG_INPUT) return;
      const now = lastData;
      if (now - last < 200) return;
      last = now;
      const mb = (bytesRead / 1048576).toFixed(0);
      const line =
        totalBytes !== null
          ? `${path}: ${((bytesRead / totalBytes) * 100).toFixed(0)}% (${mb} of ${(totalBytes / 1048576).toFixed(0)} MiB)`
          : `${path}: ${mb} MiB`;
      stream.write(`\r\u001b[K${line}`);
      drawn = true;
    },
    done() {
      if (timer !== null) clearInterval(timer);
      if (drawn) erase();
    },
  };
}
