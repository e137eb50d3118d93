/** The detection job: every minute, evaluate the minutes that closed since the last run. */
import { floorTo, MINUTE } from '../clock.ts';
import type { Deps } from '../deps.ts';
import type { DetectionRunner } from '../detection/runner.ts';
import type { Job } from './scheduler.ts';

/** Events of a minute may arrive a little late (push batches); wait this long before judging it. */
export const DETECT_GRACE = MINUTE;
/**
 * In this thread, a long catch-up (first start on a seeded database) proceeds a day per tick, never
 * blocking for long. On the worker it goes on run after run (ten days each, so a detect/run asked
 * meanwhile waits for one of them only) until it reaches the last closed minute.
 */
const MAX_CHUNKS_PER_TICK = 4;
const MAX_CHUNKS_PER_RUN_OFF_THREAD = 40;

/** `runner`: the detection worker in a running server, so ticks never hold the serving thread. */
export function createDetectJob(deps: Deps, runner: DetectionRunner): Job {
  return {
    name: 'detect',
    everyMs: MINUTE,
    async run() {
      const until = deps.clock.now() - DETECT_GRACE;
      let opened = 0;
      let reached = Number.NEGATIVE_INFINITY;
      for (;;) {
        const maxChunks = runner.offThread ? MAX_CHUNKS_PER_RUN_OFF_THREAD : MAX_CHUNKS_PER_TICK;
        const r = await runner.run({ until, maxChunks });
        opened += r.incidents_opened;
        // Stops when done, or when a run made no progress (the next tick tries again).
        if (!runner.offThread || r.evaluated_until >= floorTo(until, MINUTE) || r.evaluated_until <= reached)
          break;
        reached = r.evaluated_until;
      }
      if (opened > 0) deps.log.info('detection opened incidents', { count: opened });
    },
  };
}
