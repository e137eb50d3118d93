/**
 * Stand-ins for the endpoints other branches build (forecast, sources, balance, budgets, rules,
 * backtest, deliveries, incident actions), answering exactly the shapes agreed in the brief, so the
 * pages can be checked lit up before the merge. Test-only: production never mounts these.
 */
import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import { Hono } from 'hono';
import { createApp } from '../../server/app.ts';
import { DAY } from '../../server/clock.ts';
import type { Deps } from '../../server/deps.ts';
import { findIncident } from '../../web/queries/incidents.ts';

const STUBBED =
  /^\/api\/v1\/(forecast|sources|budgets|rules|backtest|alerts\/|incidents\/[^/]+\/(ack|snooze|resolve|feedback))/;

export type Recorded = { method: string; path: string; body: unknown }[];

function forecastFrom(deps: Deps) {
  const now = deps.clock.now();
  const monthStart = Date.UTC(new Date(now).getUTCFullYear(), new Date(now).getUTCMonth(), 1);
  const days = deps.sqlite
    .prepare<[number], { bucket: number; credits: number }>(
      'SELECT bucket, sum(credits) AS credits FROM usage_day WHERE bucket >= ? GROUP BY bucket ORDER BY bucket',
    )
    .all(monthStart);
  let cumulative = 0;
  const daily = days.map((d) => {
    cumulative += d.credits;
    return { date: new Date(d.bucket).toISOString().slice(0, 10), credits: d.credits, cumulative };
  });
  const perDay = cumulative / Math.max(days.length, 1);
  const projection = [];
  for (
    let t = (days.at(-1)?.bucket ?? monthStart) + DAY, i = 1;
    new Date(t).getUTCMonth() === new Date(now).getUTCMonth();
    t += DAY, i++
  ) {
    const projected = cumulative + perDay * i;
    projection.push({
      date: new Date(t).toISOString().slice(0, 10),
      projected,
      low: projected - perDay * i * 0.2,
      high: projected + perDay * i * 0.25,
    });
  }
  const last = projection.at(-1) ?? { projected: cumulative, low: cumulative, high: cumulative };
  return {
    month: '2026-11',
    time_zone: 'UTC',
    spent: cumulative,
    projected: last.projected,
    low: last.low,
    high: last.high,
    budget: 3_000_000,
    daily,
    projection,
    runway_days: 41,
    balance: 4_100_000,
  };
}

export function agreedEndpoints(deps: Deps, recorded: Recorded) {
  const now = () => new Date(deps.clock.now()).toISOString();
  const app = new Hono();
  app.use(async (c, next) => {
    // Only the stand-ins' own requests: reading any other body would consume it before the real app.
    if (!STUBBED.test(c.req.path)) return next();
    const body = c.req.method === 'GET' ? undefined : await c.req.json().catch(() => undefined);
    recorded.push({ method: c.req.method, path: c.req.path, body });
    await next();
  });
  app.get('/api/v1/forecast', (c) => c.json(forecastFrom(deps)));
  app.get('/api/v1/sources', (c) =>
    c.json({
      sources: [
        {
          name: 'gateway',
          status: 'ok',
          last_event_at: now(),
          events_last_hour: 1204,
          errors_last_hour: 3,
          detail: null,
        },
        {
          name: 'webhooks',
          status: 'stale',
          last_event_at: new Date(deps.clock.now() - 3 * 3_600_000).toISOString(),
          events_last_hour: 0,
          errors_last_hour: 0,
          detail: 'No webhook for 3 hours',
        },
        {
          name: 'balance',
          status: 'never',
          last_event_at: null,
          events_last_hour: 0,
          errors_last_hour: 0,
          detail: 'Set MAGICHOUR_ACCOUNT_KEY',
        },
      ],
      gateway_queue: { size: 0, capacity: 10_000, dropped: 0 },
    }),
  );
  const budget = {
    id: 1,
    scope: 'total',
    target: null,
    monthly_credits: 3_000_000,
    thresholds: [0.5, 0.8, 1],
    notify_forecast: true,
    spent: 2_634_363,
    projected: 3_120_000,
    state: 'forecast_exceeded',
  };
  app.get('/api/v1/budgets', (c) => c.json({ budgets: [budget] }));
  app.post('/api/v1/budgets', async (c) => c.json({ budget: { ...budget, id: 2 } }, 201));
  app.get('/api/v1/rules', (c) =>
    c.json({
      rules: [
        {
          kind: 'credit_spike',
          enabled: true,
          params: { min_credits: 500, threshold: 6 },
          defaults: { min_credits: 500, threshold: 6 },
        },
        { kind: 'off_hours', enabled: false, params: {}, defaults: {} },
      ],
    }),
  );
  app.put('/api/v1/rules/:kind', (c) => c.json({ rule: { kind: c.req.param('kind') } }));
  app.post('/api/v1/backtest', (c) =>
    c.json({
      fired: 2,
      incidents: [
        {
          key: 'prod-web',
          kind: 'credit_spike',
          started_at: '2026-11-21T13:27:00.000Z',
          ended_at: '2026-11-21T14:57:00.000Z',
          observed: 92000,
          expected: 4100,
          severity: 'critical',
        },
        {
          key: 'prod-mobile',
          kind: 'credit_spike',
          started_at: '2026-11-12T09:00:00.000Z',
          ended_at: null,
          observed: 8200,
          expected: 2900,
          severity: 'warning',
        },
      ],
    }),
  );
  app.get('/api/v1/alerts/deliveries', (c) =>
    c.json({
      deliveries: [
        {
          id: 1,
          created_at: now(),
          to: 'oncall@example.com',
          subject: '[Keywatch] Credit spike on prod-web',
          status: 'sent',
          attempts: 1,
          last_error: null,
          sent_at: now(),
          incident_id: 'inc_e2e_spike',
        },
      ],
      failing: false,
    }),
  );
  app.post('/api/v1/alerts/test', (c) => c.json({ delivery: { id: 2, status: 'pending' } }, 202));
  app.post('/api/v1/incidents/:id/ack', (c) => {
    const incident = findIncident(deps, c.req.param('id'));
    if (!incident) return c.json({ error: { code: 'not_found', message: 'No such incident.' } }, 404);
    return c.json({
      incident: {
        ...incident,
        state: 'acknowledged',
        acknowledged_by: 'user:admin@keywatch.local',
        acknowledged_at: now(),
      },
    });
  });
  return app;
}

/** Serves the real app with the stand-ins in front, on 127.0.0.1. */
export async function serveWithAgreedEndpoints(deps: Deps) {
  const recorded: Recorded = [];
  const outer = new Hono();
  outer.route('/', agreedEndpoints(deps, recorded));
  const app = createApp(deps);
  outer.all('*', (c) => app.fetch(c.req.raw));
  const server = await new Promise<ReturnType<typeof serve>>((resolve) => {
    const s = serve({ fetch: outer.fetch, port: 0, hostname: '127.0.0.1' }, () => resolve(s));
  });
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { url, recorded, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}
