// Whether the compiled build (server/.build/) may run: the launcher's (server/keywatch.mjs) one
// question at every CLI call. A module of its own, so that question does not load the builder
// (build.mjs: esbuild's options, child_process) first.
import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const SERVER_DIR = dirname(fileURLToPath(import.meta.url));
const ROOT = dirname(SERVER_DIR);
export const BUILD_DIR = join(SERVER_DIR, '.build');
/** The build's list of the sources it was made from, and when it began (build.mjs writes it). */
export const MANIFEST = 'inputs.json';

/**
 * The compiled CLI's path when the build exists and no source it was built from changed after
 * the build began; otherwise null (then the sources run through tsx). A stat call per input (about
 * 300: the sources, and one package.json per bundled package).
 */
export function freshBuild(dir = BUILD_DIR) {
  try {
    const manifest = JSON.parse(readFileSync(join(dir, MANIFEST), 'utf8'));
    // Joined by hand: path.join's normalising, cold at every start, was a third of this loop's time
    // (the inputs are plain relative paths the build wrote).
    const root = `${ROOT}/`;
    for (const input of manifest.inputs) {
      if (statSync(root + input).mtimeMs > manifest.started_at) return null;
    }
    const entry = join(dir, 'keywatch.js');
    return existsSync(entry) ? entry : null;
  } catch {
    // No build, an unreadable manifest, or a source gone: run the sources.
    return null;
  }
}
