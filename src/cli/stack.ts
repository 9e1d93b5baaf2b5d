/**
 * Stack traces of internal errors with source positions. The CLI runs without Node's
 * --enable-source-maps (reading and parsing the maps would cost every run several milliseconds of
 * start-up), so bin/hopscope.js passes the stack of an internal error through mapStack: each frame
 * in a .js file with a .map beside it (the bundle of scripts/bundle.mjs, or tsc's output) is
 * rewritten to its place in src/*.ts, as --enable-source-maps would print it. Frames that cannot be
 * mapped stay as they are. Runs only on that error path.
 */

import { readFileSync } from 'node:fs';
import { SourceMap } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';

/** `file:///…/x.js:12:34` or `/…/x.js:12:34` in a stack frame. */
const FRAME = /(file:\/\/\/[^\s()]+?\.m?js|\/[^\s():]+?\.m?js):(\d+):(\d+)/g;

export function mapStack(stack: string): string {
  const maps = new Map<string, SourceMap | null>();
  const mapOf = (url: string): SourceMap | null => {
    let map = maps.get(url);
    if (map === undefined) {
      try {
        map = new SourceMap(JSON.parse(readFileSync(new URL(`${url}.map`), 'utf8')));
      } catch {
        map = null;
      }
      maps.set(url, map);
    }
    return map;
  };
  return stack.replace(FRAME, (frame, file: string, line: string, column: string) => {
    const url = file.startsWith('file:') ? file : pathToFileURL(file).href;
    const entry = mapOf(url)?.findEntry(Number(line) - 1, Number(column) - 1);
    if (!entry || !('originalSource' in entry) || entry.originalSource === undefined) return frame;
    const source = new URL(entry.originalSource, `${url}.map`);
    const where = source.protocol === 'file:' ? fileURLToPath(source) : source.href;
    return `${where}:${entry.originalLine + 1}:${entry.originalColumn + 1}`;
  });
}
