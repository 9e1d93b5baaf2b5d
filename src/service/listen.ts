/**
 * Where the service listens and who may ask it: `--listen ADDR:PORT` (loopback by default), and a
 * bearer token that any other address requires. Checked before capturing starts, so a service
 * that would be open to the network without a token refuses to start and says why.
 */

import { createHash, timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { UsageError } from '../errors.js';

export const DEFAULT_LISTEN = '127.0.0.1:9477';
/** Shorter tokens are guessable; `openssl rand -hex 32` makes a good one. */
export const MIN_TOKEN_LENGTH = 16;

export interface ListenAddress {
  host: string;
  port: number;
  loopback: boolean;
}

export function isLoopback(host: string): boolean {
  if (host === 'localhost') return true;
  if (isIP(host) === 4) return host.startsWith('127.');
  if (isIP(host) === 6) return host === '::1' || /^::ffff:127\./i.test(host);
  return false;
}

/** `127.0.0.1:9477`, `[::1]:9477`, `0.0.0.0:9477`, `:9477` (all addresses). */
export function parseListen(text: string): ListenAddress {
  const match = /^(?:\[([^\]]+)\]|([^:[\]]*)):(\d{1,5})$/.exec(text.trim());
  const port = Number(match?.[3]);
  if (match === null || !(port >= 0 && port < 65536))
    throw new UsageError(
      `--listen takes ADDRESS:PORT (127.0.0.1:9477, [::1]:9477, 0.0.0.0:9477), not ${JSON.stringify(text)}`,
    );
  const host = match[1] ?? (match[2] === '' ? '0.0.0.0' : (match[2] as string));
  if (host !== 'localhost' && isIP(host) === 0)
    throw new UsageError(`--listen: ${JSON.stringify(host)} is not an IP address (or localhost)`);
  return { host, port, loopback: isLoopback(host) };
}

/** The token from --token or --token-file (its first line; systemd's LoadCredential= gives such a file). */
export function readToken(token: string | undefined, tokenFile: string | undefined): string | null {
  if (token !== undefined && tokenFile !== undefined)
    throw new UsageError('give --token or --token-file, not both');
  let value = token;
  if (tokenFile !== undefined) {
    try {
      value = readFileSync(tokenFile, 'utf8').split(/\r?\n/)[0] ?? '';
    } catch (error) {
      throw new UsageError(
        `--token-file ${tokenFile}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`,
      );
    }
  }
  if (value === undefined) return null;
  value = value.trim();
  if (value.length < MIN_TOKEN_LENGTH)
    throw new UsageError(
      `the token must be at least ${MIN_TOKEN_LENGTH} characters (e.g. openssl rand -hex 32)${tokenFile !== undefined ? `; ${tokenFile} holds ${value.length}` : ''}`,
    );
  return value;
}

/** Refuses an address other than loopback without a token. */
export function checkListen(address: ListenAddress, token: string | null, given: string): void {
  if (!address.loopback && token === null)
    throw new UsageError(
      `--listen ${given} is reachable from other hosts: give --token-file FILE (or --token) so every request must carry it, or listen on 127.0.0.1`,
    );
}

const digest = (text: string) => createHash('sha256').update(text).digest();

/**
 * A checker for `Authorization: Bearer TOKEN`, comparing SHA-256 digests in constant time (equal
 * lengths whatever was sent, so neither the length nor a common prefix leaks through timing).
 */
export function bearerCheck(token: string | null): (header: string | undefined) => boolean {
  if (token === null) return () => true;
  const expected = digest(token);
  return (header) => {
    const given = /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(header ?? '')?.[1] ?? '';
    return timingSafeEqual(digest(given), expected);
  };
}
