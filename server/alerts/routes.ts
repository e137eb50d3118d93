/** /api/v1/alerts: routing, delivery status, and a test send. */
import { Hono } from 'hono';
import { z } from 'zod';
import { writeAudit } from '../audit.ts';
import type { Deps } from '../deps.ts';
import { issuesFromZod, validationError } from '../errors.ts';
import { requireAuth } from '../http/auth.ts';
import { limitBody, readJson } from '../http/body.ts';
import type { AppEnv } from '../http/types.ts';
import { mailDomain } from './notify.ts';
import { enqueueEmail, listDeliveries, toDeliveryView } from './outbox.ts';
import { renderTestEmail } from './render-test.ts';
import { loadRouting, saveRouting } from './routing.ts';

const BODY_LIMIT = 64 * 1024;
const TestSchema = z.strictObject({ to: z.array(z.email().max(254)).min(1).max(10).optional() });

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
      const parsed = TestSchema.safeParse((await readJson(c, { optional: true })) ?? {});
      if (!parsed.success) throw validationError(issuesFromZod(parsed.error.issues));
      const routing = loadRouting(deps.db, deps.config);
      const to = parsed.data.to ?? [...new Set([...routing.security_to, ...routing.billing_to])];
      if (to.length === 0) {
        throw validationError([{ path: 'to', message: 'no recipients configured; give "to"' }]);
      }
      const now = deps.clock.now();
      const actor = c.get('principal').actor;
      const row = deps.db.transaction((tx) => {
        const queued = enqueueEmail(tx, {
          ...renderTestEmail({
            publicUrl: deps.config.publicUrl,
            actor,
            at: now,
            timeZone: deps.config.timeZone,
          }),
          to,
          category: 'test',
          now,
          domain: mailDomain(deps.config),
        });
        writeAudit(tx, { ts: now, actor, action: 'alerts.test', target: String(queued.id), details: { to } });
        return queued;
      });
      return c.json({ delivery: toDeliveryView(row) }, 202);
    });
}
