/**
 * POST /api/v1/usage (scope ingest): atomic, idempotent batches of usage events. Decoding,
 * validation and the transaction run on the push worker (push-tasks.ts); this thread only gathers
 * the body's bytes and hands them over (transferred, not copied).
 */
import { Hono } from 'hono';
import type { AppEnv } from '../../auth/app-env.ts';
import { limitInFlight } from '../../auth/in-flight.ts';
import { requireAuth } from '../../auth/middleware.ts';
import type { Deps } from '../../deps.ts';
import type { ApiOperation } from '../../http/api-operation.ts';
import { limitBody, readJsonBytes } from '../../http/body.ts';
import { createTaskWorker, type TaskWorker } from '../../http/task-worker.ts';
import { PushBatchSchema, PushResultSchema } from './push.ts';
import { pushTasks } from './push-tasks.ts';

export const pushApi: ApiOperation[] = [
  {
    method: 'post',
    path: '/',
    summary: 'Push usage events',
    description:
      'Up to 10,000 events; the batch is atomic (one bad event rejects it all) and idempotent on `id`.',
    scope: 'ingest',
    body: PushBatchSchema,
    response: PushResultSchema,
    errors: [429, 503],
  },
];

export type PushWorker = TaskWorker<typeof pushTasks>;

export const createPushWorker = (deps: Deps): PushWorker =>
  createTaskWorker(deps, new URL('./push-worker.ts', import.meta.url), pushTasks);

/**
 * Batches waiting for the push worker, refused (429) before their body is read: up to 10 MB each,
 * and a storm of retries must not queue without end. Four per token lets a shipper overlap its
 * requests.
 */
const PUSHES_IN_FLIGHT = { work: 'push batches', perCaller: 4, total: 8, retryAfterS: 1 };

export function pushRoutes(deps: Deps, worker: PushWorker) {
  const inFlight = limitInFlight(PUSHES_IN_FLIGHT);
  return new Hono<AppEnv>().post('/', requireAuth(deps, 'ingest'), inFlight.admit, limitBody(), async (c) => {
    const body = await readJsonBytes(c);
    const result = await worker.run('push', { body }, [body]);
    if (result.discovered.length > 0) {
      deps.log.info('discovered keys in pushed usage', { keys: result.discovered });
    }
    return c.json({ accepted: result.accepted, duplicates: result.duplicates });
  });
}
