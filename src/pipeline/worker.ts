/**
 * A worker thread of `analyze` (see parallel.ts): reads its share of the capture files through
 * capture -> decode -> observe in a session of its own and hands the finished sources back as
 * data. Correlation and the report happen in the main thread, over every worker's hops.
 */

import { parentPort, workerData } from 'node:worker_threads';
import { setTunnelPorts } from '../decode/registry.js';
import { createLogger } from '../log.js';
import type { WorkerInput, WorkerMessage } from './parallel.js';
import { createSession } from './session.js';

const input = workerData as WorkerInput;
const port = parentPort;
if (port === null) throw new Error('hopscope: worker.js runs only as a worker thread');
const post = (message: WorkerMessage) => port.postMessage(message);
setTunnelPorts(input.tunnelPorts);
const session = createSession({ overrides: input.overrides, logger: createLogger(input.logLevel) });
for (const path of input.paths) {
  await session.readFile(path, {
    onProgress: (read, total) => post({ type: 'progress', path, read, total }),
  });
}
post({ type: 'done', sources: session.exportSources(), names: session.hopNames() });
