/** POST /api/v1/usage (scope ingest): atomic, idempotent batches of usage events. */
import { Hono } from 'hono';
import type { AppEnv } from '../../auth/app-env.ts';
import { requireAuth } from '../../auth/middleware.ts';
import type { Deps } from '../../deps.ts';
import type { ApiOperation } from '../../http/api-operation.ts';
import { limitBody, readJson } from '../../http/body.ts';
import { recordEvents } from '../../usage/record-events.ts';
import { PushBatchSchema, PushResultSchema, parsePushBatch } from './push.ts';

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
    errors: [503],
  },
];

export function pushRoutes(deps: Deps) {
  return new Hono<AppEnv>().post('/', requireAuth(deps, 'ingest'), limitBody(), async (c) => {
    const events = parsePushBatch(await readJson(c), deps.clock, {
      maxAgeDays: deps.config.retentionDays.events,
    });
    const result = recordEvents(deps, events);
    if (result.discovered.length > 0) {
      deps.log.info('discovered keys in pushed usage', { keys: result.discovered.map((k) => k.name) });
    }
    return c.json({ accepted: result.accepted, duplicates: result.duplicates });
  });
}
