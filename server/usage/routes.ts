/** GET /api/v1/usage: totals over a range, optionally grouped by key, environment or operation. */
import { Hono, type MiddlewareHandler } from 'hono';
import { z } from 'zod';
import type { AppEnv } from '../auth/app-env.ts';
import { requireAuth } from '../auth/middleware.ts';
import type { Deps } from '../deps.ts';
import type { ApiOperation } from '../http/api-operation.ts';
import { sentThen } from '../http/sent-then.ts';
import { JSON_HEADERS } from '../http/stream.ts';
import type { TaskWorker } from '../http/task-worker.ts';
import { parseRangeQuery, RangeQuerySchema } from './range.ts';
import type { usageReadTasks } from './usage-reads.ts';

/** The worker that runs usageReadTasks (the app's reads worker, web/dashboard-reads.ts). */
export type UsageReads = Pick<TaskWorker<typeof usageReadTasks>, 'run' | 'release'> & {
  admit: MiddlewareHandler;
};

// Where the answers' points are written; kept importable from here, as before.
export { pointsView, rememberedIso } from './series-view.ts';

const PointSchema = z.object({
  ts: z.iso.datetime().meta({ description: 'Start of the bucket.' }),
  credits: z.number(),
  requests: z.number().int(),
  errors: z.number().int().meta({ description: 'Requests answered with a status of 400 or more.' }),
  auth_failures: z.number().int(),
});
export const SeriesSchema = z.object({
  from: z.iso.datetime(),
  to: z.iso.datetime(),
  step: RangeQuerySchema.shape.step.unwrap(),
  points: z.array(PointSchema),
});

export const usageApi: ApiOperation[] = [
  {
    method: 'get',
    path: '/',
    summary: 'Usage totals over a range, optionally grouped by key, environment or operation',
    scope: 'read',
    query: RangeQuerySchema,
    errors: [429],
    response: SeriesSchema.extend({
      group: RangeQuerySchema.shape.group.unwrap().optional(),
      groups: z.array(z.object({ points: z.array(PointSchema) }).loose()).optional(),
    }),
  },
];

/**
 * The query is checked here, so a bad one gets the same 400 without a trip to the worker; the
 * answer is read and written on the app's reads worker (usage-reads.ts), one at a time, and only
 * sent from this thread.
 */
export function usageRoutes(deps: Deps, reads: UsageReads) {
  return new Hono<AppEnv>().get('/', requireAuth(deps, 'read'), reads.admit, async (c) => {
    const range = parseRangeQuery(c.req.query(), deps.clock.now());
    const body = await reads.run('usage', range);
    sentThen(c, () => reads.release(body));
    // As c.json() labels an answer without groups; the grouped one was streamed with JSON_HEADERS.
    return c.body(body, 200, range.group ? JSON_HEADERS : { 'content-type': 'application/json' });
  });
}
