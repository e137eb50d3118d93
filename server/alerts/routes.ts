/** /api/v1/alerts: routing, delivery status, and a test send. */
import { Hono } from 'hono';
import type { AppEnv } from '../auth/app-env.ts';
import { requireAuth } from '../auth/middleware.ts';
import type { Deps } from '../deps.ts';
import type { ApiOperation } from '../http/api-operation.ts';
import { limitBody, readJson } from '../http/body.ts';
import { listDeliveries, toDeliveryView } from './outbox.ts';
import { loadRouting, RoutingSchema, saveRouting } from './routing.ts';
import { queueTestEmail, TestEmailSchema } from './send-test-email.ts';

const BODY_LIMIT = 64 * 1024;

export const alertsApi: ApiOperation[] = [
  { method: 'get', path: '/routing', summary: 'Who gets which alerts', scope: 'read' },
  { method: 'put', path: '/routing', summary: 'Set alert routing', scope: 'admin', body: RoutingSchema },
  { method: 'get', path: '/deliveries', summary: 'Delivery status of every channel', scope: 'read' },
  {
    method: 'post',
    path: '/test',
    summary: 'Queue a test email and send it now',
    scope: 'admin',
    body: TestEmailSchema,
    bodyOptional: true,
    status: 202,
  },
];

export function alertRoutes(deps: Deps) {
  return new Hono<AppEnv>()
    .use(requireAuth(deps))
    .get('/routing', async (c) => c.json({ routing: await loadRouting(deps.db, deps.config) }))
    .put('/routing', limitBody(BODY_LIMIT), async (c) => {
      const routing = await saveRouting(deps, await readJson(c), c.get('principal').actor);
      return c.json({ routing });
    })
    .get('/deliveries', async (c) => c.json(await listDeliveries(deps.db, deps.clock.now())))
    .post('/test', limitBody(BODY_LIMIT), async (c) => {
      const row = await queueTestEmail(deps, await readJson(c, { optional: true }), c.get('principal').actor);
      return c.json({ delivery: toDeliveryView(row) }, 202);
    });
}
