/**
 * Logging: pino, always to stderr, so stdout carries only the report (`--json | jq` works).
 * Set up once; modules take child loggers. Nothing logs per frame.
 */

import { type Logger, pino } from 'pino';

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export function createLogger(level: LogLevel): Logger {
  return pino({ name: 'hopscope', level }, pino.destination({ fd: 2, sync: true }));
}
