#!/usr/bin/env node
// Compiles the server to JavaScript so `keywatch` starts without tsx's loader (issue 14: most of
// a second per CLI call went to transforming TypeScript at every start). `npm install` / `npm ci`
// run it through the `prepare` script; `node server/build.mjs` runs it by hand.
//
// Output: server/.build/ (gitignored): cli.cjs (the CLI, which holds the server: one CommonJS
// bundle, run through V8's code cache by keywatch.js, a copy of load-compiled.mjs) and one ES module
// bundle per worker thread module (gateway writer, detection, push, backtests). Inside the checkout
// rather than node_modules/.cache because node_modules may be shared (a symlink between worktrees,
// a volume between images): one checkout's build must never be taken for another's. The bundles find package.json, migrations/ and web/ from the checkout's root
// (server/paths.ts), so any folder inside the checkout works.
//
// inputs.json lists every source file the bundles were built from and when the build began; the
// launcher (keywatch.mjs, through fresh-build.mjs) uses the build only while none of them has
// changed since.
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { BUILD_DIR, freshBuild, MANIFEST } from './fresh-build.mjs';

export { BUILD_DIR, freshBuild };

const SERVER_DIR = dirname(fileURLToPath(import.meta.url));
const ROOT = dirname(SERVER_DIR);
const CLI = { in: 'server/cli/index.ts', out: 'cli' };
const LOADER = 'server/load-compiled.mjs';
const THREADS = [
  // Thread modules, each a bundle named after its module (server/http/worker-thread.ts finds them).
  { in: 'server/ingest/gateway/usage-writer-thread.ts', out: 'usage-writer-thread' },
  { in: 'server/detection/detect-worker-thread.ts', out: 'detect-worker-thread' },
  { in: 'server/ingest/push/push-worker.ts', out: 'push-worker' },
  { in: 'server/detection/backtest-worker.ts', out: 'backtest-worker' },
  { in: 'server/jobs/retention-worker.ts', out: 'retention-worker' },
  { in: 'web/dashboard-reads-worker.ts', out: 'dashboard-reads-worker' },
];

/**
 * zod's namespace re-exports every message locale (about 40, a third of the bundled code), and
 * nothing here switches locale: the bundle gets English alone, zod's default. `z.locales.en` stays;
 * the others would be undefined (the sources, run through tsx, keep them all).
 */
const englishZodOnly = {
  name: 'keywatch-zod-english-only',
  setup(build) {
    build.onResolve({ filter: /\/locales\/index\.js$/ }, (args) =>
      /[\\/]zod[\\/]/.test(args.importer)
        ? { path: join(dirname(args.importer), '..', 'locales', 'en.js'), namespace: 'zod-locales' }
        : undefined,
    );
    build.onLoad({ filter: /.*/, namespace: 'zod-locales' }, (args) => ({
      contents: `export { default as en } from ${JSON.stringify(args.path)};`,
      resolveDir: dirname(args.path),
    }));
  },
};

/** Builds into a fresh folder, then swaps it in, so a process starting meanwhile sees old or new, whole. */
export async function buildServer(dir = BUILD_DIR) {
  const { build } = await import('esbuild');
  const startedAt = Date.now();
  const staging = `${dir}.tmp-${process.pid}`;
  rmSync(staging, { recursive: true, force: true });
  const common = {
    absWorkingDir: ROOT,
    outdir: staging,
    bundle: true,
    // Dependencies are bundled too (resolving hundreds of files at every start is most of what
    // remains), except the ones that find files of their own at run time: better-sqlite3 its
    // native addon, esbuild its platform binary.
    external: ['better-sqlite3', 'esbuild', 'nodemailer'],
    platform: 'node',
    target: 'node20',
    metafile: true,
    // Less to parse at every start; names are kept for stack traces and `err.name` checks.
    minify: true,
    logLevel: 'warning',
    legalComments: 'none',
    plugins: [englishZodOnly],
    keepNames: true,
  };
  const [cli, threads] = await Promise.all([
    // CommonJS, so load-compiled.mjs can hand V8 its code cache (an ES module takes none in Node 20).
    // One file: `keywatch serve` imports the server lazily, and its modules are initialised only
    // then (esbuild wraps them); other commands parse it, from the cache, without running it.
    build({
      ...common,
      entryPoints: [CLI],
      format: 'cjs',
      outExtension: { '.js': '.cjs' },
      // The thread modules are found beside the bundle (server/http/worker-thread.ts), and the
      // checkout's root above it (server/paths.ts); load-compiled.mjs passes the bundle's URL in.
      define: { 'import.meta.url': '__kwMetaUrl' },
      // import() becomes require() of the bundled module (or the external package): a script run
      // by node:vm has no loader for import().
      supported: { 'dynamic-import': false },
    }),
    build({
      ...common,
      entryPoints: THREADS,
      format: 'esm',
      outExtension: { '.js': '.js' },
      // Code the threads share is parsed once per thread, from one chunk.
      splitting: true,
      chunkNames: 'chunk-[hash]',
      // Bundled CommonJS dependencies call require() for Node's modules.
      banner: {
        js: "import { createRequire as __keywatchRequire } from 'node:module'; const require = __keywatchRequire(import.meta.url);",
      },
    }),
  ]);
  mkdirSync(staging, { recursive: true });
  copyFileSync(join(ROOT, LOADER), join(staging, 'keywatch.js'));
  // For a bundled dependency, its package.json stands for its files (a reinstall rewrites it):
  // one stat per package instead of hundreds at every start.
  const inputs = [
    ...new Set(
      [...Object.keys(cli.metafile.inputs), ...Object.keys(threads.metafile.inputs), LOADER]
        // A plugin's virtual module (`zod-locales:...`) is no file; its real import is listed.
        .filter((f) => !/^[a-z-]+:/.test(f))
        .map((f) => {
          const pkg = /^(?:.*\/)?node_modules\/(@[^/]+\/[^/]+|[^/]+)\//.exec(f);
          return pkg ? `${pkg[0]}package.json` : f;
        }),
    ),
  ];
  writeFileSync(join(staging, MANIFEST), `${JSON.stringify({ started_at: startedAt, inputs }, null, 1)}\n`);
  makeTemplate(join(staging, 'empty.db'));
  const old = `${dir}.old-${process.pid}`;
  if (existsSync(dir)) renameSync(dir, old);
  renameSync(staging, dir);
  rmSync(old, { recursive: true, force: true });
  return { dir, inputs: inputs.length, ms: Date.now() - startedAt };
}

/**
 * The migrated empty database a new one is copied from (server/db/client.ts, DATABASE_TEMPLATE),
 * made by the sources' own code through tsx. Without it (say, no native SQLite in this layer) a new
 * database runs its migrations as before: said, not fatal.
 */
function makeTemplate(path) {
  const client = pathToFileURL(join(SERVER_DIR, 'db', 'client.ts')).href;
  try {
    execFileSync(
      process.execPath,
      [
        '--import',
        'tsx',
        '--input-type=module',
        '-e',
        `import { makeDatabaseTemplate } from ${JSON.stringify(client)}; makeDatabaseTemplate(${JSON.stringify(path)});`,
      ],
      { cwd: ROOT, stdio: ['ignore', 'ignore', 'pipe'] },
    );
  } catch (err) {
    console.error(
      `keywatch build: no database template (${
        String(err.stderr ?? err.message)
          .trim()
          .split('\n')[0]
      }); new databases run their migrations instead`,
    );
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  // `prepare` also runs where only package.json is present (a Docker layer that installs
  // dependencies first): nothing to build there, and that is not an error.
  if (!existsSync(join(ROOT, CLI.in))) {
    console.error('keywatch build: no sources here; skipped.');
  } else {
    const r = await buildServer();
    console.error(`keywatch build: ${r.inputs} sources compiled into ${r.dir} in ${r.ms} ms`);
  }
}
