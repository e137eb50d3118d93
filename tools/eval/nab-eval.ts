/**
 * NAB part of `npm run eval`: scores `keywatch detect series` with the shared harness on the
 * development subset, at the threshold fixed in advance (0.5 = the detector's own decision, a
 * calibrated p-value of credit_spike.alpha). ../shared is resolved beside the repository.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
export const SHARED = resolve(REPO, '../shared');
export const NAB_THRESHOLD = 0.5;

export function runNab(): { ok: boolean; output: string } {
  const tool = join(SHARED, 'tools/nab-eval.mjs');
  const data = join(SHARED, 'data/nab');
  if (!existsSync(tool) || !existsSync(data))
    return { ok: false, output: `NAB harness or data not found under ${SHARED}` };
  const detector = `"${process.execPath}" "${join(REPO, 'server/keywatch.mjs')}" detect series --input -`;
  const r = spawnSync(
    process.execPath,
    [
      tool,
      '--nab',
      data,
      '-d',
      detector,
      '--series',
      'realTweets/,artificialNoAnomaly/',
      '--threshold',
      String(NAB_THRESHOLD),
      '--per-series',
      '--jobs',
      '2',
    ],
    { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 },
  );
  return { ok: r.status === 0, output: `${r.stdout ?? ''}${r.stderr ?? ''}`.trim() };
}
