/** POST /api/v1/usage (scope ingest): atomic, idempotent batches of usage events. */
import { Hono } from 'hono';
import type { AppEnv } from '../../auth/app-env.ts';
import { requireAuth } from '../../auth/middleware.ts';
import type { Deps } from '../../deps.ts';
import { limitBody, readJson } from '../../http/body.ts';
import { recordEvents } from '../../usage/record-events.ts';
import { parsePushBatch } from './push.ts';

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
