// What the live tests share: running as an unprivileged user, and running `hopscope live` itself.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';

export const bin = join(import.meta.dirname, '..', '..', 'bin', 'hopscope.js');

/** setpriv's arguments that drop to nobody with no capabilities at all. */
export const AS_NOBODY = ['--reuid=nobody', '--regid=nogroup', '--clear-groups', '--inh-caps=-all'];

/** Whether nobody can run `command args` here (setpriv present, the file readable). */
export function nobodyCan(...command: string[]): boolean {
  return spawnSync('setpriv', [...AS_NOBODY, ...command]).status === 0;
}

/** `hopscope live --backend B ARGS --log-level silent`, as root or (asNobody) as nobody. */
export function runLiveCli(backend: string, args: string[], asNobody = false) {
  const live = [bin, 'live', '--backend', backend, ...args, '--log-level', 'silent'];
  return asNobody
    ? spawnSync('setpriv', [...AS_NOBODY, process.execPath, ...live], { encoding: 'utf8', timeout: 30_000 })
    : spawnSync(process.execPath, live, { encoding: 'utf8', timeout: 30_000 });
}
