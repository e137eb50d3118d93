/** `npm run bench`: runs every benchmark in this folder (or those named) and prints its figures. */
import { readdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const wanted = process.argv.slice(2);
const files = readdirSync(here)
  .filter((f) => f.endsWith('.bench.ts'))
  .filter((f) => wanted.length === 0 || wanted.some((w) => f.includes(w)));

for (const file of files) {
  console.log(`\n== ${file}`);
  const mod = (await import(pathToFileURL(`${here}/${file}`).href)) as { run(): unknown };
  await mod.run();
}
