/**
 * A one-line progress indicator on stderr, only on a terminal and only for inputs that take a
 * while (over 32 MiB, or of unknown size such as stdin). Redrawn at most five times a second.
 */

export interface Progress {
  update: (path: string, bytesRead: number, totalBytes: number | null) => void;
  done: () => void;
}

const BIG_INPUT = 32 * 1024 * 1024;

export function createProgress(stream: NodeJS.WritableStream, enabled: boolean): Progress {
  if (!enabled) return { update: () => {}, done: () => {} };
  let last = 0;
  let drawn = false;
  return {
    update(path, bytesRead, totalBytes) {
      if (totalBytes !== null && totalBytes < BIG_INPUT) return;
      const now = Date.now();
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
      if (drawn) stream.write('\r\u001b[K');
    },
  };
}
