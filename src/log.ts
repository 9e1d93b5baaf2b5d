/**
 * Logging: pino, always to stderr, so stdout carries only the report (`--json | jq` works).
 * Set up once; modules take child loggers. Nothing logs per frame.
 *
 * Most runs log nothing, and loading pino costs a tenth of a short run's time, so the logger is a
 * thin front that loads pino (synchronously, it is CommonJS) on the first line that is really
 * written at the chosen level. Disabled levels are no-ops decided once, at set-up (pino's idea).
 */

import { createRequire } from 'node:module';
import type { Logger as PinoLogger } from 'pino';

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

type LogMethod = (fields: object, message: string) => void;

/** What hopscope needs of a logger; a pino Logger is one. */
export interface Logger {
  child(bindings: Record<string, unknown>): Logger;
  error: LogMethod;
  warn: LogMethod;
  info: LogMethod;
  debug: LogMethod;
}

const RANK: Readonly<Record<LogLevel, number>> = {
  trace: 10,
  debug: 20,
  info: 30,
  warn: 40,
  error: 50,
  fatal: 60,
  silent: Number.POSITIVE_INFINITY,
};

const noop: LogMethod = () => {};

export function createLogger(level: LogLevel): Logger {
  let root: PinoLogger | null = null;
  const pinoRoot = (): PinoLogger => {
    if (root === null) {
      const { pino } = createRequire(import.meta.url)('pino') as typeof import('pino');
      root = pino({ name: 'hopscope', level }, pino.destination({ fd: 2, sync: true }));
    }
    return root;
  };
  const make = (bindings: Record<string, unknown>[]): Logger => {
    let real: PinoLogger | null = null;
    const target = (): PinoLogger => {
      if (real === null) real = bindings.reduce((logger, b) => logger.child(b), pinoRoot());
      return real;
    };
    const method = (name: 'error' | 'warn' | 'info' | 'debug'): LogMethod =>
      RANK[name] >= RANK[level] ? (fields, message) => target()[name](fields, message) : noop;
    return {
      child: (b) => make([...bindings, b]),
      error: method('error'),
      warn: method('warn'),
      info: method('info'),
      debug: method('debug'),
    };
  };
  return make([]);
}
