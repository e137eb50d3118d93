/**
 * Files of the checkout (package.json, migrations/, web/) found from its root, the nearest folder
 * above this module with a package.json: the same answer from the TypeScript sources (server/) and
 * from the compiled build (server/.build/), whose modules sit at another depth.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

function findRoot(from: string): string {
  for (let dir = from; ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'package.json'))) return dir;
    if (dirname(dir) === dir) throw new Error(`No package.json above ${from}`);
  }
}

export const ROOT = findRoot(dirname(fileURLToPath(import.meta.url)));

export const rootPath = (...parts: string[]) => join(ROOT, ...parts);

/** package.json's version, read once. */
export const VERSION = (JSON.parse(readFileSync(rootPath('package.json'), 'utf8')) as { version: string })
  .version;
