// For the allocation tests (test/decode/allocation.test.ts, test/observe/allocation.test.ts): the
// source of a function their child scripts (ESM, `node --input-type=module -e`) start with.
//
//   const { bytes, frames } = await allocatedWarm(round, framesPerRound, atLeast);
//
// `round` (a named function: its name finds it in the profile) is run until V8 has compiled it: V8
// compiles on another thread and a loaded machine (CI) may take its time, so after 200 rounds a
// pause lets the compilations finish and 20 more rounds install them. Then it runs under V8's
// sampling heap profiler until `atLeast` frames went through it, and what was allocated with `round`
// on the stack is summed. Only `round`'s own stack counts (the profiler's messages do not); V8
// leaves the functions it inlined out of the stacks it samples, so the names below `round` may not
// be there.
export const ALLOCATED_WARM = `
import { Session } from 'node:inspector/promises';
async function allocatedWarm(round, framesPerRound, atLeast) {
  for (let i = 0; i < 200; i++) round();
  await new Promise((resolve) => setTimeout(resolve, 200));
  for (let i = 0; i < 20; i++) round();
  const inspector = new Session();
  inspector.connect();
  await inspector.post('HeapProfiler.enable');
  await inspector.post('HeapProfiler.startSampling', {
    samplingInterval: 64,
    includeObjectsCollectedByMajorGC: true,
    includeObjectsCollectedByMinorGC: true,
  });
  let frames = 0;
  while (frames < atLeast) {
    round();
    frames += framesPerRound;
  }
  const { profile } = await inspector.post('HeapProfiler.stopSampling');
  let bytes = 0;
  const walk = (node, inside) => {
    const here = inside || node.callFrame.functionName === round.name;
    if (here) bytes += node.selfSize;
    for (const child of node.children) walk(child, here);
  };
  walk(profile.head, false);
  return { bytes, frames };
}
`;
