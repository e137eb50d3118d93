/** /api/v1/incidents/:id/ack|snooze|resolve|feedback (the reads belong to detection's sub-app). */
import { Hono } from 'hono';
import { requireAuth } from '../auth/middleware.ts';
import type { Deps } from '../deps.ts';
import { limitBody, readJson } from '../http/body.ts';
import type { AppEnv } from '../http/types.ts';
import { acknowledgeIncident, giveFeedback, resolveIncident, snoozeIncident } from './actions.ts';

const BODY_LIMIT = 16 * 1024;

export function incidentActionRoutes(deps: Deps) {
  const verbs = {
    ack: acknowledgeIncident,
    snooze: snoozeIncident,
    resolve: resolveIncident,
    feedback: giveFeedback,
  } as const;
  const app = new Hono<AppEnv>();
  for (const [name, verb] of Object.entries(verbs)) {
    app.post(`/:id/${name}`, requireAuth(deps), limitBody(BODY_LIMIT), async (c) => {
      const body = await readJson(c, { optional: true });
      const incident = verb(deps, c.req.param('id'), body, c.get('principal').actor);
      return c.json({ incident });
    });
  }
  return app;
}
