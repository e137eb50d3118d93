/** GET /metrics: Prometheus text format; behind KEYWATCH_METRICS_TOKEN as a bearer token when set. */
import { Hono } from 'hono';
import type { AppEnv } from '../auth/app-env.ts';
import { constantTimeEqual } from '../auth/secrets.ts';
import type { Deps } from '../deps.ts';
import { errorBody } from '../http/errors.ts';
import { METRICS_CONTENT_TYPE, renderMetrics } from '../http/metrics.ts';
import { collectMetrics, type Instruments } from './metrics.ts';

const BEARER = /^Bearer\s+(\S+)\s*$/i;

export function metricsRoutes(deps: Deps, instruments: Instruments) {
  return new Hono<AppEnv>().get('/', async (c) => {
    const expected = deps.config.metricsToken;
    if (expected !== undefined) {
      const given = BEARER.exec(c.req.header('authorization') ?? '')?.[1] ?? '';
      if (!constantTimeEqual(given, expected)) {
        c.header('www-authenticate', 'Bearer realm="keywatch-metrics"');
        return c.json(
          errorBody('unauthorized', 'GET /metrics needs the KEYWATCH_METRICS_TOKEN bearer token.'),
          401,
        );
      }
    }
    const body = renderMetrics(await collectMetrics(deps, instruments));
    return c.body(body, 200, { 'content-type': METRICS_CONTENT_TYPE, 'cache-control': 'no-store' });
  });
}
