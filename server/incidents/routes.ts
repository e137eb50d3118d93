/** /api/v1/incidents: list and read (scope read), and what people do to one (ack, snooze, resolve, feedback). */
import { Hono } from 'hono';
import type { AppEnv } from '../auth/app-env.ts';
import { requireAuth } from '../auth/middleware.ts';
import type { Deps } from '../deps.ts';
import type { ApiOperation } from '../http/api-operation.ts';
import { limitBody, readJson } from '../http/body.ts';
import {
  AckSchema,
  acknowledgeIncident,
  FeedbackSchema,
  giveFeedback,
  ResolveSchema,
  resolveIncident,
  SnoozeSchema,
  snoozeIncident,
} from './actions.ts';
import type { IncidentListener } from './events.ts';
import { getIncident, IncidentListQuerySchema, listIncidents } from './queries.ts';

const BODY_LIMIT = 16 * 1024;
const VERBS = {
  ack: acknowledgeIncident,
  snooze: snoozeIncident,
  resolve: resolveIncident,
  feedback: giveFeedback,
} as const;

export const incidentsApi: ApiOperation[] = [
  {
    method: 'get',
    path: '/',
    summary: 'Incidents, newest first',
    scope: 'read',
    query: IncidentListQuerySchema,
  },
  { method: 'get', path: '/:id', summary: 'One incident', scope: 'read' },
  ...(
    [
      ['ack', AckSchema, 'Acknowledge an incident'],
      ['snooze', SnoozeSchema, 'Snooze an incident until a time or for some minutes'],
      ['resolve', ResolveSchema, 'Resolve an incident'],
      ['feedback', FeedbackSchema, 'Feedback that changes future detection'],
    ] as const
  ).map(
    ([name, body, summary]): ApiOperation => ({
      method: 'post',
      path: `/:id/${name}`,
      summary,
      scope: 'admin',
      body,
      bodyOptional: name !== 'feedback',
      errors: [409],
    }),
  ),
];

export function incidentRoutes(deps: Deps, listener: IncidentListener) {
  const app = new Hono<AppEnv>()
    .get('/', requireAuth(deps, 'read'), async (c) =>
      c.json({ incidents: await listIncidents(deps.db, c.req.query()) }),
    )
    .get('/:id', requireAuth(deps, 'read'), async (c) =>
      c.json({ incident: await getIncident(deps.db, c.req.param('id')) }),
    );
  for (const [name, verb] of Object.entries(VERBS)) {
    app.post(`/:id/${name}`, requireAuth(deps), limitBody(BODY_LIMIT), async (c) => {
      const body = await readJson(c, { optional: true });
      const incident = await verb({ ...deps, listener }, c.req.param('id'), body, c.get('principal').actor);
      return c.json({ incident });
    });
  }
  return app;
}
