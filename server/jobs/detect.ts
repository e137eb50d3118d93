/** The detection job: every minute, evaluate the minutes that closed since the last run. */
import { MINUTE } from '../clock.ts';
import type { Deps } from '../deps.ts';
import type { DetectionRunner } from '../detection/runner.ts';
import type { Job } from './scheduler.ts';

/** Events of a minute may arrive a little late (push batches); wait this long before judging it. */
export const DETECT_GRACE = MINUTE;
/** A long catch-up (first start on a seeded database) proceeds a day per tick, never blocking for long. */
const MAX_CHUNKS_PER_TICK = 4;

/** `runner`: the detection worker in a running server, so ticks never hold the serving thread. */
export function createDetectJob(deps: Deps, runner: DetectionRunner): Job {
  return {
    name: 'detect',
    everyMs: MINUTE,
    async run() {
      const r = await runner.run({ until: deps.clock.now() - DETECT_GRACE, maxChunks: MAX_CHUNKS_PER_TICK });
      if (r.incidents_opened > 0) deps.log.info('detection opened incidents', { count: r.incidents_opened });
    },
  };
}
