// A capture tool's stream, read the way `hopscope live` reads tcpdump and dumpcap: through a Unix
// socket into one reused buffer. Every frame must arrive as the file holds it, whether the tool
// pours its output in at once or trickles it in pieces that cut records anywhere (the reader
// copies a cut record before the buffer is read into again), and the end must come after the
// last frame. The "tool" is sh writing a real lab capture.
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { CaptureSink, Frame } from '../../src/capture/frame.js';
import type { CaptureEnd } from '../../src/capture/live/backend.js';
import { type CaptureTool, startTool, TCPDUMP } from '../../src/capture/live/dumpcap.js';
import { readCapture } from '../../src/capture/read.js';

const sample = join(import.meta.dirname, '..', '..', 'samples', 'jumbo-underlay', 'host1-phy0.pcap');

function digestSink() {
  const hash = createHash('sha256');
  const seen = { frames: 0 };
  const sink: CaptureSink = {
    onInterface() {},
    onFrame(frame: Frame) {
      seen.frames++;
      hash.update(frame.buffer.subarray(frame.dataOffset, frame.dataOffset + frame.capturedLength));
    },
    onProblem(problem) {
      throw new Error(problem.message);
    },
  };
  return { sink, seen, digest: () => hash.digest('hex') };
}

/** sh as the capture tool: says it listens (as tcpdump does), then runs `script` writing the capture. */
function shTool(script: string): CaptureTool {
  return { ...TCPDUMP, name: 'sh', args: () => ['-c', `echo "listening on test" >&2; ${script}`] };
}

function capture(tool: CaptureTool): Promise<{ end: CaptureEnd; frames: number; digest: string }> {
  const { sink, seen, digest } = digestSink();
  return new Promise((resolve) => {
    startTool(
      tool,
      { netns: null, device: 'test', label: 'test' },
      { filter: null, snaplen: 262144, bufferSize: 1 << 20 },
      {
        sink,
        onReady() {},
        onEnd: (end) => resolve({ end, frames: seen.frames, digest: digest() }),
      },
    );
  });
}

describe('a capture tool’s stream through the reused buffer', () => {
  it('poured in at once, or trickled in pieces that cut records: every frame as the file has it', async () => {
    const expected = digestSink();
    await readCapture(sample, expected.sink);
    const want = { frames: expected.seen.frames, digest: expected.digest() };
    expect(want.frames).toBeGreaterThan(1000);

    const poured = await capture(shTool(`cat '${sample}'`));
    expect({ frames: poured.frames, digest: poured.digest }).toEqual(want);
    // Ended on its own with nothing to say: the stream ran out (the interface went, for a tool).
    expect(poured.end.reason).toBe('gone');

    // 999-byte writes with pauses between some: reads of every size, records cut at every offset.
    const trickled = await capture(
      shTool(
        `i=0; while dd bs=999 count=40 status=none; do i=$((i+1)); [ $((i % 8)) = 0 ] && sleep 0.01; done < '${sample}'`,
      ),
    );
    expect({ frames: trickled.frames, digest: trickled.digest }).toEqual(want);
  }, 30_000);
});
