/** createApp(deps): the whole HTTP surface, with one error handler and one error shape. */
import { Hono } from 'hono';
import { secureHeaders } from 'hono/secure-headers';
import { homePage } from '../web/home.ts';
import type { Deps } from './deps.ts';
import { detectionRoutes, incidentsRoutes } from './detection/routes.ts';
import { createErrorHandler, errorBody } from './http/errors.ts';
import type { AppEnv } from './http/types.ts';
import { pushRoutes } from './ingest/push-route.ts';
import { keysRoutes } from './keys/routes.ts';
import { usageRoutes } from './usage/routes.ts';

export function createApp(deps: Deps) {
  const app = new Hono<AppEnv>();
  app.onError(createErrorHandler(deps.log));
  app.notFound((c) => c.json(errorBody('not_found', `No route for ${c.req.method} ${c.req.path}.`), 404));
  app.use(secureHeaders());
  app.get('/healthz', (c) => c.json({ ok: true, time: new Date(deps.clock.now()).toISOString() }));
  app.route('/api/v1/usage', pushRoutes(deps));
  app.route('/api/v1/usage', usageRoutes(deps));
  app.route('/api/v1/keys', keysRoutes(deps));
  app.route('/api/v1/incidents', incidentsRoutes(deps));
  app.route('/api/v1', detectionRoutes(deps));
  app.get('/', (c) => c.html(homePage(deps.config.publicUrl)));
  return app;
}

export type App = ReturnType<typeof createApp>;
