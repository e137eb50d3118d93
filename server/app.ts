/** createApp(deps): the whole HTTP surface, with one error handler and one error shape. */
import { Hono } from 'hono';
import { lazyAssets } from '../web/assets.ts';
import { dashboardReadsFor } from '../web/dashboard-reads.ts';
import { assetRoutes } from '../web/routes/assets.ts';
import { authRoutes } from '../web/routes/auth.tsx';
import { exportRoutes } from '../web/routes/exports.ts';
import { pageRoutes } from '../web/routes/pages.tsx';
import { currentBudgetPeriod } from './account/period.ts';
import { accountApi, accountRoutes } from './account/routes.ts';
import { createAlertListener } from './alerts/notify.ts';
import { alertRoutes, alertsApi } from './alerts/routes.ts';
import type { AppEnv } from './auth/app-env.ts';
import { createLoginLimiter } from './auth/login-limiter.ts';
import { CSRF_HEADER } from './auth/middleware.ts';
import { auditApi, auditRoutes, tokensApi, tokensRoutes, usersApi, usersRoutes } from './auth/routes.ts';
import { SESSION_COOKIE } from './auth/sessions.ts';
import { budgetFor } from './budgets/budgets.ts';
import { budgetRoutes, budgetsApi } from './budgets/routes.ts';
import { readinessOf } from './db/storage.ts';
import type { Deps } from './deps.ts';
import { detectionApi, detectionRoutes } from './detection/routes.ts';
import type { DetectionRunner } from './detection/runner.ts';
import { forecastApi, forecastRoutes } from './forecast/routes.ts';
import { accessLog } from './http/access-log.ts';
import { type ApiOperation, mountedAt } from './http/api-operation.ts';
import { createErrorHandler, errorBody } from './http/errors.ts';
import { lazyApiDocument } from './http/openapi.ts';
import { securityHeaders } from './http/security-headers.ts';
import { incidentRoutes, incidentsApi } from './incidents/routes.ts';
import { gatewayRoutes } from './ingest/gateway/routes.ts';
import { latestBalance } from './ingest/poll/balance.ts';
import { magicHour } from './ingest/providers/magichour.ts';
import { settleBeforeReads } from './ingest/push/read-barrier.ts';
import { pushApi, pushRoutes } from './ingest/push/routes.ts';
import { balanceApi, balanceRoutes, sourcesApi, sourcesRoutes } from './ingest/routes.ts';
import { createSourceServices, type SourceServices } from './ingest/services.ts';
import { webhookRoutes } from './ingest/webhooks/routes.ts';
import { invoiceApi, invoiceRoutes } from './invoice/routes.ts';
import { keysApi, keysRoutes } from './keys/routes.ts';
import type { EventLoopDelay } from './ops/metrics.ts';
import { openApiRoutes, openApiSelf } from './ops/openapi-routes.ts';
import { metricsRoutes } from './ops/routes.ts';
import { usageApi, usageRoutes } from './usage/routes.ts';

/**
 * `sources` is created here unless the caller (serve.ts) owns it to flush it on shutdown;
 * `instruments` holds what serve.ts measures about the process (the event loop's delay) and the
 * detection worker detect/run hands its run to (without one, detection runs in this thread).
 */
export function createApp(
  deps: Deps,
  sources: SourceServices = createSourceServices(deps),
  instruments: { eventLoop?: EventLoopDelay; detection?: DetectionRunner } = {},
) {
  const app = new Hono<AppEnv>();
  // Page scripts and CSS are bundled on first use, in memory, once per app.
  const getAssets = lazyAssets();
  // Alerting hears every incident change made through the API (actions, detect/run).
  const alerts = createAlertListener(deps);
  app.onError(createErrorHandler(deps.log));
  app.use(accessLog(deps.log));
  app.notFound((c) => c.json(errorBody('not_found', `No route for ${c.req.method} ${c.req.path}.`), 404));
  // Before securityHeaders: the gateway passes the provider's answer through unchanged.
  app.route(sources.gateway.prefix, gatewayRoutes(sources.gateway));
  app.use(securityHeaders());
  app.route(
    '/webhooks/magichour',
    webhookRoutes(
      deps,
      { ...magicHour, webhooks: magicHour.webhooks! },
      deps.config.magichour.webhookSecret,
      () => sources.webhookRejects.add(),
    ),
  );
  // Past this point a request may read rollups: it sees every push acknowledged before it.
  app.use(settleBeforeReads(sources.settleUsage));
  // Every /api/v1 module is mounted with its operation declarations: the OpenAPI document and the
  // API reference page are built from them (test/ops/openapi.test.ts checks none is missing).
  const operations: ApiOperation[] = [];
  const api = (prefix: string, routes: Hono<AppEnv>, declared: readonly ApiOperation[]) => {
    app.route(prefix, routes);
    operations.push(...mountedAt(prefix, declared));
  };
  api('/api/v1/sources', sourcesRoutes(deps, sources), sourcesApi);
  api('/api/v1/balance', balanceRoutes(deps), balanceApi);
  api('/api/v1/account', accountRoutes(deps), accountApi);
  app.get('/healthz', (c) => c.json({ ok: true, time: new Date(deps.clock.now()).toISOString() }));
  app.get('/readyz', async (c) => {
    const r = await readinessOf(deps.db);
    // The gateway keeps serving while storage is down; its backlog says how far it is behind.
    const q = sources.gateway.queue.stats();
    const gateway_queue = {
      size: q.size,
      capacity: q.capacity,
      dropped: q.dropped,
      journaled: q.journal?.pending ?? null,
      last_error: q.last_error ?? q.journal?.error ?? null,
    };
    if (r.ready) return c.json({ ready: true, detail: r.detail, gateway_queue });
    // Not ready is an error answer like any other: it carries the error body beside the detail.
    const error = { code: 'not_ready', message: `Not ready: ${r.detail}.` };
    return c.json({ ready: false, detail: r.detail, gateway_queue, error }, 503);
  });
  app.route(
    '/metrics',
    metricsRoutes(deps, { gatewayLatency: sources.gatewayLatency, eventLoop: instruments.eventLoop }),
  );
  api('/api/v1/usage', pushRoutes(deps, sources.push), pushApi);
  api('/api/v1/usage', usageRoutes(deps, dashboardReadsFor(deps)), usageApi);
  api('/api/v1/keys', keysRoutes(deps, dashboardReadsFor(deps)), keysApi);
  api(
    '/api/v1/forecast',
    forecastRoutes(deps, {
      budgetFor: ({ scope, target }) => budgetFor(deps.db, scope, target),
      balance: async () => (await latestBalance(deps.db))?.balance ?? null,
      period: (now) => currentBudgetPeriod(deps, now),
    }),
    forecastApi,
  );
  api('/api/v1/incidents', incidentRoutes(deps, alerts), incidentsApi);
  api('/api/v1', detectionRoutes(deps, alerts, instruments.detection), detectionApi);
  api('/api/v1/alerts', alertRoutes(deps), alertsApi);
  api('/api/v1/budgets', budgetRoutes(deps), budgetsApi);
  api('/api/v1/invoice', invoiceRoutes(deps), invoiceApi);
  api('/api/v1/users', usersRoutes(deps), usersApi);
  api('/api/v1/tokens', tokensRoutes(deps), tokensApi);
  api('/api/v1/audit', auditRoutes(deps), auditApi);
  // Built on first request, not at start: converting every schema costs start-up time.
  const apiDocument = lazyApiDocument(operations, {
    sessionCookie: SESSION_COOKIE,
    csrfHeader: CSRF_HEADER,
    serverUrl: deps.config.publicUrl,
  });
  api('/api/v1/openapi.json', openApiRoutes(apiDocument), openApiSelf);
  app.route('/assets', assetRoutes(getAssets));
  app.route('/export', exportRoutes(deps));
  app.route('/', authRoutes(deps, getAssets, createLoginLimiter(deps.clock)));
  app.route('/', pageRoutes(deps, getAssets, apiDocument));
  return app;
}

export type App = ReturnType<typeof createApp>;
