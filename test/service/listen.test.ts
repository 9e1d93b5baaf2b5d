// --listen, --token and --token-file: the forms of an address, what counts as loopback, where a
// token comes from and when one is required; the bearer check.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { UsageError } from '../../src/errors.js';
import { bearerCheck, checkListen, isLoopback, parseListen, readToken } from '../../src/service/listen.js';
import { runCli } from '../analyze/helpers.js';

const work = mkdtempSync(join(tmpdir(), 'hopscope-listen-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));
const token = 'f'.repeat(32);

describe('--listen', () => {
  it('reads IPv4, bracketed IPv6, localhost and a bare port, and knows loopback', () => {
    expect(parseListen('127.0.0.1:9477')).toEqual({ host: '127.0.0.1', port: 9477, loopback: true });
    expect(parseListen('[::1]:9477')).toEqual({ host: '::1', port: 9477, loopback: true });
    expect(parseListen('localhost:80')).toMatchObject({ loopback: true });
    expect(parseListen('127.8.9.10:1')).toMatchObject({ loopback: true });
    expect(parseListen(':9477')).toEqual({ host: '0.0.0.0', port: 9477, loopback: false });
    expect(parseListen('[::]:9477')).toMatchObject({ host: '::', loopback: false });
    expect(parseListen('10.0.0.1:9477')).toMatchObject({ loopback: false });
    expect(isLoopback('::ffff:127.0.0.1')).toBe(true);
    expect(isLoopback('128.0.0.1')).toBe(false);
    for (const bad of ['9477', '127.0.0.1', '127.0.0.1:70000', 'hv1:9477', '::1:9477', '127.0.0.1:x'])
      expect(() => parseListen(bad), bad).toThrow(UsageError);
  });

  it('requires a token beyond loopback, not on it', () => {
    expect(() => checkListen(parseListen('0.0.0.0:1'), null, '0.0.0.0:1')).toThrow(/give --token-file/);
    expect(() => checkListen(parseListen('0.0.0.0:1'), token, '0.0.0.0:1')).not.toThrow();
    expect(() => checkListen(parseListen('127.0.0.1:1'), null, '127.0.0.1:1')).not.toThrow();
  });
});

describe('the token', () => {
  it('comes from the first line of --token-file, or --token, not both, and is long enough', () => {
    const file = join(work, 'token');
    writeFileSync(file, `${token}\nignored\n`);
    expect(readToken(undefined, file)).toBe(token);
    expect(readToken(token, undefined)).toBe(token);
    expect(readToken(undefined, undefined)).toBeNull();
    expect(() => readToken(token, file)).toThrow(/not both/);
    expect(() => readToken('short', undefined)).toThrow(/at least 16 characters/);
    expect(() => readToken(undefined, join(work, 'missing'))).toThrow(/ENOENT/);
  });

  it('is checked as Authorization: Bearer, whatever else is sent', () => {
    const check = bearerCheck(token);
    expect(check(`Bearer ${token}`)).toBe(true);
    expect(check(`bearer  ${token} `)).toBe(true);
    expect(check(token)).toBe(false);
    expect(check(`Basic ${token}`)).toBe(false);
    expect(check(`Bearer ${token.slice(1)}`)).toBe(false);
    expect(check(undefined)).toBe(false);
    expect(bearerCheck(null)(undefined)).toBe(true);
  });

  it('hopscope live refuses a token without --listen, and a listen beyond loopback without a token', async () => {
    const noListen = await runCli(['live', '-i', 'lo', '--token', token]);
    expect(noListen.code).toBe(2);
    expect(noListen.stderr).toMatch(/give --listen ADDRESS:PORT too/);
    const open = await runCli(['live', '-i', 'lo', '--listen', '0.0.0.0:0']);
    expect(open.code).toBe(2);
    expect(open.stderr).toMatch(/--listen 0\.0\.0\.0:0 is reachable from other hosts/);
    // An evidence directory that cannot be made: one line, exit 2, before capturing.
    const file = join(work, 'a-file');
    writeFileSync(file, '');
    const evidence = await runCli(['live', '-i', 'lo', '--evidence', join(file, 'evidence')]);
    expect(evidence.code).toBe(2);
    expect(evidence.stderr).toMatch(/^hopscope: --evidence .*a-file\/evidence: ENOTDIR/);
    const bad = await runCli(['live', '-i', 'lo', '--evidence-buffer', '4']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/give --evidence DIR too/);
  });
});
