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

describe('createProgress: an input that gives no data', () => {
  it('names the silent input after the wait, not the file read before it, and erases the line when data comes', () => {
    vi.useFakeTimers();
    try {
      const out = sink();
      const progress = createProgress(out, true, { streams: ['live.fifo'], waitingAfterMs: 2000 });
      progress.update('small.pcap', 1000, 2000); // a regular file, read to its end
      vi.advanceTimersByTime(1500);
      expect(out.text()).not.toContain('waiting');
      vi.advanceTimersByTime(1000);
      expect(out.text()).toBe('\r\u001b[Klive.fifo: waiting for data');
      vi.advanceTimersByTime(5000); // said once, not redrawn
      expect(out.text().match(/waiting/g)).toHaveLength(1);
      progress.update('live.fifo', 3 * 1048576, null);
      expect(out.text().endsWith('\r\u001b[K\r\u001b[Klive.fifo: 3 MiB')).toBe(true);
      vi.advanceTimersByTime(2500); // silent again, mid-stream: the stream itself is named
      expect(out.text().endsWith('\r\u001b[Klive.fifo: waiting for data')).toBe(true);
      progress.done();
      expect(out.text().endsWith('\r\u001b[K')).toBe(true);
      const after = out.text();
      vi.advanceTimersByTime(10_000); // the timer is gone with done()
      expect(out.text()).toBe(after);
    } finally {
      vi.useRealTimers();
    }
  });

  it('says nothing of waiting without inputs that can wait, or when disabled', () => {
    vi.useFakeTimers();
    try {
      const files = sink();
      createProgress(files, true, { streams: [] });
      const off = sink();
      createProgress(off, false, { streams: ['-'] });
      vi.advanceTimersByTime(10_000);
      expect(files.text()).toBe('');
      expect(off.text()).toBe('');
    } finally {
      vi.useRealTimers();
    }
  });
});
