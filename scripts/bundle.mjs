// npm run build, second step: bundles the CLI (src/cli/main.ts with yargs and, in a chunk imported
// only by analyze, the analysis) into a few ESM files in dist/cli/, over tsc's dist/cli/main.js,
// and analyze's worker thread into dist/pipeline/worker.js, over tsc's.
// Much of start-up is Node's ESM loader resolving and linking ~100 small modules; the bundle loads
// 4-5, which saves about 30 ms of --help and 40 ms of analyze (npm run bench -- --scenario startup).
//
//   node scripts/bundle.mjs [--outdir DIR]   (default dist/cli)
//
// - tsc alone (the tests' global set-up) writes the unbundled dist/cli/main.js back, which works the
//   same; test/cli/bundle.test.ts bundles a copy and checks that both agree.
// - Chunks sit next to main.js (not in a subfolder) so code that finds files from import.meta.url
//   (version.ts: ../../package.json) sees the same depth in whichever chunk it lands.
// - yargs finds its translations from its own file's location, which bundling moves; the build
//   points it at the installed yargs package instead (yargs stays a dependency), and fails if
//   yargs changes that line.
// - Source maps go to src/*.ts. bin/hopscope.js maps the stack of an internal error through them
//   (src/cli/stack.ts); NODE_OPTIONS=--enable-source-maps maps every trace, at a few ms a run.
// - string-width's Intl.Segmenter is built on first use instead of at import (see lazySegmenter).
// - pino stays a runtime require (src/log.ts loads it only when a line is logged); prom-client a
//   package import of the service's chunk.
// - A second bundle, dist/cli/plain.js, runs a plain `analyze FILE...` (src/cli/plain.ts) without
//   yargs. It is built apart from main.js: esbuild splits shared code by file, and main.ts (where
//   runAnalyze lives) would take yargs into a chunk both load. On its own, with yargs declared free
//   of side effects, the plain bundle leaves out yargs, which it never calls. The analysis chunk is
//   then written twice (one per bundle); a run loads one of them.
import { readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { build } from 'esbuild';

const root = join(import.meta.dirname, '..');
const i = process.argv.indexOf('--outdir');
const outdir = i < 0 ? join(root, 'dist', 'cli') : process.argv[i + 1];

// Chunks of earlier builds (their names change with their content).
const CHUNK = /-[A-Z0-9]{8}\.js(\.map)?$/;
try {
  for (const f of readdirSync(outdir)) if (CHUNK.test(f)) rmSync(join(outdir, f));
} catch {}

const YARGS_LOCALES = "resolve(__dirname, '../../../locales')";
const yargsLocales = {
  name: 'yargs-locales',
  setup(b) {
    b.onLoad({ filter: /yargs[\\/]lib[\\/]platform-shims[\\/]esm\.mjs$/ }, (args) => {
      const text = readFileSync(args.path, 'utf8');
      if (!text.includes(YARGS_LOCALES)) {
        throw new Error(`${args.path}: no "${YARGS_LOCALES}" to point at the installed locales`);
      }
      const located = `((() => { try { return resolve(require.resolve('yargs/package.json'), '../locales'); } catch { return ${YARGS_LOCALES}; } })())`;
      return { contents: text.replace(YARGS_LOCALES, located), loader: 'js' };
    });
  },
};

// string-width (3 copies, under yargs, cliui and wrap-ansi) builds an Intl.Segmenter when it is
// imported: ICU's break-iterator data, ~10 ms of every run. hopscope measures strings only to lay
// out help text, and yargs' ASCII fast path rarely needs it, so the segmenter is built on its first
// use. The build fails if string-width stops declaring it the way this expects.
const SEGMENTER = 'const segmenter = new Intl.Segmenter();';
const lazySegmenter = {
  name: 'lazy-segmenter',
  setup(b) {
    b.onLoad({ filter: /[\\/]string-width[\\/]index\.js$/ }, (args) => {
      const text = readFileSync(args.path, 'utf8');
      const uses = text.match(/\bsegmenter\.\w+/g) ?? [];
      if (!text.includes(SEGMENTER) || uses.some((use) => use !== 'segmenter.segment')) {
        throw new Error(`${args.path}: no "${SEGMENTER}" used only for .segment() to make lazy`);
      }
      const lazy =
        'let realSegmenter; const segmenter = { segment: (text) => (realSegmenter ??= new Intl.Segmenter()).segment(text) };';
      return { contents: text.replace(SEGMENTER, lazy), loader: 'js' };
    });
  },
};

// yargs' modules only set up what they export (yargs' own package.json does not say so): without
// this, the plain bundle would carry yargs' module code for main.ts's unused import of it.
const yargsWithoutSideEffects = {
  name: 'yargs-without-side-effects',
  setup(b) {
    b.onResolve({ filter: /^yargs(\/helpers)?$/ }, async (args) => {
      if (args.pluginData === 'resolved') return undefined;
      const resolved = await b.resolve(args.path, {
        kind: args.kind,
        resolveDir: args.resolveDir,
        importer: args.importer,
        pluginData: 'resolved',
      });
      return { ...resolved, sideEffects: false };
    });
  },
};

const cli = {
  outdir,
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  chunkNames: '[name]-[hash]',
  // prom-client is CommonJS that requires Node's modules at run time, which an ESM bundle cannot;
  // it stays a package import, loaded only by `live --listen` (service chunk).
  external: ['pino', 'prom-client'],
  sourcemap: true,
  sourcesContent: false,
  logLevel: 'warning',
  allowOverwrite: true,
};
await build({
  ...cli,
  entryPoints: { main: join(root, 'src', 'cli', 'main.ts') },
  plugins: [yargsLocales, lazySegmenter],
});
await build({
  ...cli,
  entryPoints: { plain: join(root, 'src', 'cli', 'plain.ts') },
  plugins: [yargsWithoutSideEffects],
});

// The worker thread of analyze (src/pipeline/worker.ts) in one file over tsc's, beside the
// modules parallel.ts finds it from: each worker loads one module instead of ~50.
if (i < 0) {
  await build({
    entryPoints: [join(root, 'src', 'pipeline', 'worker.ts')],
    outfile: join(root, 'dist', 'pipeline', 'worker.js'),
    bundle: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    external: ['pino'],
    sourcemap: true,
    sourcesContent: false,
    logLevel: 'warning',
    allowOverwrite: true,
  });
}
