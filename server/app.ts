/** createApp(deps): the whole HTTP surface, with one error handler and one error shape. */
import { Hono } from 'hono';
import { secureHeaders } from 'hono/secure-headers';
import { homePage } from '../web/home.ts';
import type { Deps } from './deps.ts';
import { gatewayRoutes } from './gateway/routes.ts';
import { createErrorHandler, errorBody } from './http/errors.ts';
import type { AppEnv } from './http/types.ts';
import { pushRoutes } from './ingest/push-route.ts';
import { webhookRoutes } from './ingest/webhooks/routes.ts';
import { keysRoutes } from './keys/routes.ts';
import { magicHour } from './providers/magichour.ts';
import { balanceRoutes, sourcesRoutes } from './sources/routes.ts';
import { createSourceServices, type SourceServices } from './sources/services.ts';
import { usageRoutes } from './usage/routes.ts';

/** `sources` is created here unless the caller (main.ts) owns it to flush it on shutdown. */
export function createApp(deps: Deps, sources: SourceServices = createSourceServices(deps)) {
  const app = new Hono<AppEnv>();
  app.onError(createErrorHandler(deps.log));
  app.notFound((c) => c.json(errorBody('not_found', `No route for ${c.req.method} ${c.req.path}.`), 404));
  // Before secureHeaders: the gateway passes the provider's answer through unchanged.
  app.route(sources.gateway.prefix, gatewayRoutes(sources.gateway));
  app.use(secureHeaders());
  app.route(
    '/webhooks/magichour',
    webhookRoutes(
      deps,
      { ...magicHour, webhooks: magicHour.webhooks! },
      deps.config.magichour.webhookSecret,
      () => sources.webhookRejects.add(),
    ),
  );
  app.route('/api/v1/sources', sourcesRoutes(deps, sources));
  app.route('/api/v1/balance', balanceRoutes(deps));
  app.get('/healthz', (c) => c.json({ ok: true, time: new Date(deps.clock.now()).toISOString() }));
  app.route('/api/v1/usage', pushRoutes(deps));
  app.route('/api/v1/usage', usageRoutes(deps));
  app.route('/api/v1/keys', keysRoutes(deps));
  app.get('/', (c) => c.html(homePage(deps.config.publicUrl)));
  return app;
}

export type App = ReturnType<typeof createApp>;
