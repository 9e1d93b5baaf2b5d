// The progress line: only when enabled (a terminal), only for big or unknown-size inputs, redrawn
// at most five times a second, and erased at the end so the summary starts on a clean line.
import { Writable } from 'node:stream';
import { describe, expect, it, vi } from 'vitest';
import { createProgress } from '../../src/cli/progress.js';

function sink(): Writable & { text: () => string } {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk, _enc, done) {
      chunks.push(String(chunk));
      done();
    },
  }) as Writable & { text: () => string };
  stream.text = () => chunks.join('');
  return stream;
}

describe('createProgress', () => {
  it('draws percentages for a big file, throttled, and erases itself', () => {
    vi.useFakeTimers();
    try {
      const out = sink();
      const progress = createProgress(out, true);
      const total = 100 * 1048576;
      progress.update('big.pcap', 10 * 1048576, total);
      progress.update('big.pcap', 20 * 1048576, total); // within 200 ms: not drawn
      vi.advanceTimersByTime(250);
      progress.update('big.pcap', 50 * 1048576, total);
      progress.done();
      const text = out.text();
      expect(text).toContain('big.pcap: 10% (10 of 100 MiB)');
      expect(text).not.toContain('20%');
      expect(text).toContain('big.pcap: 50% (50 of 100 MiB)');
      expect(text.endsWith('\r\u001b[K')).toBe(true);
    } finally {
      vi.useRealTimers();
    }
  });

  it('stays silent for small files and when not on a terminal, and shows MiB for stdin', () => {
    const small = sink();
    const p1 = createProgress(small, true);
    p1.update('small.pcap', 1000, 2000);
    p1.done();
    expect(small.text()).toBe('');
    const off = sink();
    const p2 = createProgress(off, false);
    p2.update('big.pcap', 50 * 1048576, 100 * 1048576);
    p2.done();
    expect(off.text()).toBe('');
    const stdin = sink();
    createProgress(stdin, true).update('-', 3 * 1048576, null);
    expect(stdin.text()).toContain('-: 3 MiB');
  });
});
