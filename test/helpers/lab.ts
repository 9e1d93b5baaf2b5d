// What the tests that need root and system tools share, the lab's (samples/lab/lab.sh) above all:
// why such a test is skipped here, the lab's description of the namespaces it built (lab.env),
// running hopscope inside one of them, and waiting for a child process to say something.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

const root = join(import.meta.dirname, '..', '..');
export const LAB_SCRIPT = join(root, 'samples', 'lab', 'lab.sh');

/** `ip`'s arguments that run hopscope with `args` inside network namespace `ns`, as on that host. */
export function hopscopeInNamespace(ns: string, args: readonly string[]): string[] {
  return ['netns', 'exec', ns, process.execPath, join(root, 'bin', 'hopscope.js'), ...args];
}

/** Why a test that needs root (for `rootFor`) and `tools` is skipped here, or null when it can run. */
export function skipReasonWithout(tools: readonly string[], rootFor: string): string | null {
  if (process.getuid?.() !== 0) return `not root: ${rootFor}`;
  const missing = tools.filter((t) => spawnSync('sh', ['-c', `command -v ${t}`]).status !== 0);
  return missing.length > 0 ? `missing tools: ${missing.join(', ')}` : null;
}

/** The variables `lab.sh --setup-only --out OUT` wrote to OUT/lab.env: namespaces, devices, addresses. */
export function readLabEnv(out: string): Record<string, string> {
  return Object.fromEntries(
    readFileSync(join(out, 'lab.env'), 'utf8')
      .split('\n')
      .filter((l) => l.includes('='))
      .map((l) => {
        const at = l.indexOf('=');
        return [l.slice(0, at), l.slice(at + 1).replace(/^"|"$/g, '')];
      }),
  );
}

/** Polls `test` every 100 ms; after `ms` fails with what `said` gives (a child's stderr so far). */
export async function waitFor(test: () => boolean, ms: number, said: () => string): Promise<void> {
  const until = Date.now() + ms;
  while (!test()) {
    if (Date.now() > until) throw new Error(`timed out; stderr so far:\n${said()}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
