/**
 * What `analyze` needs beyond the command line: the pipeline and the report. main.ts imports this
 * module dynamically, only inside the analyze handler, so `--help` and usage errors never load it
 * (and the bundle puts it in a chunk of its own).
 */

export { analyzeCaptures } from '../pipeline/analyze.js';
export { buildOverrides } from '../pipeline/hops.js';
export { buildReport } from '../report/model.js';
export { renderText } from '../report/text.js';
