// A test agent: the service of `hopscope live` fed with recorded captures instead of interfaces
// (run with vite-node as a child process, in a network namespace if need be). Prints one JSON
// line {"listening": {host, port}} once the captures are in; with --loop it feeds them again and
// again under new hop names (new findings, new evidence files) until it is killed.
//
//   vite-node test/helpers/agent.ts -- [--listen A:P] [--token-file F] [--agent-name N]
//     [--evidence DIR --evidence-max-bytes N] [--loop] CAPTURE...
import { basename } from 'node:path';
import { createLogger } from '../../src/log.js';
import { readToken } from '../../src/service/listen.js';
import { startService } from '../../src/service/service.js';
import { fakeRun } from './service-run.js';

const args = process.argv.slice(2).filter((a) => a !== '--');
const option = (name: string): string | undefined => {
  const i = args.indexOf(name);
  if (i < 0) return undefined;
  const [value] = args.splice(i, 2).slice(1);
  return value;
};
const flag = (name: string): boolean => {
  const i = args.indexOf(name);
  if (i >= 0) args.splice(i, 1);
  return i >= 0;
};
const listen = option('--listen') ?? null;
const tokenFile = option('--token-file');
const agentName = option('--agent-name') ?? 'agent';
const evidenceDir = option('--evidence');
const evidenceMax = Number(option('--evidence-max-bytes') ?? 1_000_000);
const loop = flag('--loop');
const captures = args;

const service = await startService({
  listen,
  token: readToken(undefined, tokenFile),
  evidence: evidenceDir !== undefined ? { dir: evidenceDir, maxBytes: evidenceMax } : null,
  intervalMs: 3_600_000,
  agentName,
  toolVersion: process.env.HOPSCOPE_TEST_VERSION ?? '0.0.0-test',
  logger: createLogger('silent'),
});
const run = fakeRun(service.tap);
service.attach(run);
for (const path of captures) await run.feed(path);
await service.tick();
process.stdout.write(`${JSON.stringify({ listening: service.address })}\n`);
const stop = async () => {
  await service.stop();
  process.exit(0);
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
for (let round = 1; loop; round++) {
  for (const path of captures) await run.feed(path, { name: `r${round}-${basename(path)}` });
  await service.tick();
}
