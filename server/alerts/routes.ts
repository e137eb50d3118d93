/** /api/v1/alerts: routing, delivery status, and a test send. */
import { Hono } from 'hono';
import type { AppEnv } from '../auth/app-env.ts';
import { requireAuth } from '../auth/middleware.ts';
import type { Deps } from '../deps.ts';
import { limitBody, readJson } from '../http/body.ts';
import { listDeliveries, toDeliveryView } from './outbox.ts';
import { loadRouting, saveRouting } from './routing.ts';
import { queueTestEmail } from './send-test-email.ts';

const BODY_LIMIT = 64 * 1024;

export function alertRoutes(deps: Deps) {
  return new Hono<AppEnv>()
    .use(requireAuth(deps))
    .get('/routing', (c) => c.json({ routing: loadRouting(deps.db, deps.config) }))
    .put('/routing', limitBody(BODY_LIMIT), async (c) => {
      const routing = saveRouting(deps, await readJson(c), c.get('principal').actor);
      return c.json({ routing });
    })
    .get('/deliveries', (c) => c.json(listDeliveries(deps.db, deps.clock.now())))
    .post('/test', limitBody(BODY_LIMIT), async (c) => {
      const row = queueTestEmail(deps, await readJson(c, { optional: true }), c.get('principal').actor);
      return c.json({ delivery: toDeliveryView(row) }, 202);
    });
}
