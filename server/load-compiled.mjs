/**
 * The compiled build's entry: server/build.mjs copies this file into the build as keywatch.js, beside
 * cli.cjs (the CLI and the server in one CommonJS bundle). It runs that bundle through V8's code
 * cache, cli.cache: parsing and compiling the bundle's functions was most of what `keywatch serve`
 * spent before listening, and Node 20 has no compile cache of its own (module.enableCompileCache
 * is 22+; its ES module loader takes no cached data, which is why the CLI is CommonJS).
 *
 * The cache is written by `serve` once it is listening (so it holds every function a start
 * compiles), when there was none or V8 rejected it (another Node version). It lives in the build
 * folder, which a rebuild replaces whole, so it never outlives the code it was made from.
 */
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Script } from 'node:vm';

const dir = dirname(fileURLToPath(import.meta.url));
const bundle = join(dir, 'cli.cjs');
const cachePath = join(dir, 'cli.cache');

let cachedData;
try {
  cachedData = readFileSync(cachePath);
} catch {
  // No cache yet: compiled as usual, and `serve` writes one.
}
// CommonJS's own wrapper, plus the bundle's stand-in for import.meta.url (build.mjs defines it). On
// a line of its own, so positions in stack traces stay the bundle's (lineOffset).
const script = new Script(
  `(function (exports, require, module, __filename, __dirname, __kwMetaUrl) {\n${readFileSync(bundle, 'utf8')}\n})`,
  { filename: bundle, lineOffset: -1, cachedData },
);
const module = { exports: {} };
script.runInThisContext()(
  module.exports,
  createRequire(bundle),
  module,
  bundle,
  dir,
  pathToFileURL(bundle).href,
);

if (process.argv[2] === 'serve' && (cachedData === undefined || script.cachedDataRejected)) {
  // Once listening: a few tens of milliseconds, once per build (and Node version).
  module.exports.finished.then(keepCodeCache, () => {});
}

function keepCodeCache() {
  const partial = `${cachePath}.${process.pid}`;
  try {
    // Renamed into place: a start reading it meanwhile sees no cache or a whole one.
    writeFileSync(partial, script.createCachedData());
    renameSync(partial, cachePath);
  } catch {
    // A read-only install: starts stay uncached, which only costs time.
  }
}
