// A stand-in for the capture half of `hopscope live` (src/service/live-run.ts): recorded lab
// captures are fed into a session through the service's FeedTap, as live interfaces would be, and
// the LiveRun's interface statistics are made from what was fed (drops given by the test).
import { basename } from 'node:path';
import { readCapture } from '../../src/capture/read.js';
import { createLogger } from '../../src/log.js';
import { buildOverrides, hopNameForFile } from '../../src/pipeline/hops.js';
import { createSession, type Session, type SourceFeed } from '../../src/pipeline/session.js';
import type { FeedTap, InterfaceStats, LiveRun } from '../../src/service/live-run.js';

export interface FakeRun extends LiveRun {
  /** Feeds one recorded capture to its end, as one interface. */
  feed(path: string, options?: { dropped?: number | null; name?: string }): Promise<SourceFeed>;
}

export function fakeRun(tap: FeedTap, session: Session = newSession()): FakeRun {
  const interfaces: Array<{ stats: InterfaceStats; feed: SourceFeed }> = [];
  return {
    session,
    startedAt: Date.now(),
    argv: ['live', '(recorded captures)'],
    stats: () =>
      interfaces.map(({ stats, feed }) => ({
        ...stats,
        frames: feed.capture.frames,
        state: stats.state,
      })),
    async feed(path, options = {}) {
      const hop = options.name ?? hopNameForFile(path);
      const feed = tap(hop, session.addSource(options.name ?? path));
      const stats: InterfaceStats = {
        hop,
        interface: basename(path),
        netns: null,
        backend: 'recording',
        state: 'capturing',
        frames: 0,
        bytes: 0,
        dropped: options.dropped === undefined ? 0 : options.dropped,
        ifDropped: null,
        message: null,
      };
      interfaces.push({ stats, feed });
      feed.end(await readCapture(path, feed));
      stats.bytes = feed.capture.frames;
      return feed;
    },
  };
}

export function newSession(): Session {
  return createSession({ overrides: buildOverrides([], [], undefined), logger: createLogger('silent') });
}

/** Lines written to the service's text stream. */
export function lines(): { write(line: string): void; text: string[] } {
  const text: string[] = [];
  return { write: (line) => text.push(line), text };
}
