/** GET /api/v1/sources (freshness per source, gateway queue) and GET /api/v1/balance. */
import { Hono } from 'hono';
import type { AppEnv } from '../auth/app-env.ts';
import { requireAuth } from '../auth/middleware.ts';
import { DAY, floorTo, HOUR } from '../clock.ts';
import type { Deps } from '../deps.ts';
import type { ApiOperation } from '../http/api-operation.ts';
import { iso, isoOrNull } from '../timestamps.ts';
import { balanceState, listSourceHealth } from './health.ts';
import { balanceSamplesSince, unattributedCreditsSince } from './poll/balance.ts';
import type { SourceServices } from './services.ts';

export const sourcesApi: ApiOperation[] = [
  { method: 'get', path: '/', summary: 'Freshness and health per source, gateway queue', scope: 'read' },
];
export const balanceApi: ApiOperation[] = [
  { method: 'get', path: '/', summary: 'Account balance over 30 days and unattributed spend', scope: 'read' },
];

export function sourcesRoutes(deps: Deps, services: SourceServices) {
  return new Hono<AppEnv>().get('/', requireAuth(deps), async (c) => {
    const q = services.gateway.queue.stats();
    const sources = await listSourceHealth(deps, {
      queue: q,
      webhookSecretSet: Boolean(deps.config.magichour.webhookSecret),
      accountKeySet: Boolean(deps.config.magichour.accountKey),
      webhookRejectsLastHour: services.webhookRejects.lastHour(),
    });
    return c.json({
      sources,
      gateway_queue: {
        size: q.size,
        capacity: q.capacity,
        dropped: q.dropped,
        journaled: q.journal?.pending ?? null,
        journal_error: q.journal?.error ?? null,
      },
    });
  });
}

export function balanceRoutes(deps: Deps) {
  return new Hono<AppEnv>().get('/', requireAuth(deps), async (c) => {
    const now = deps.clock.now();
    const state = await balanceState(deps, Boolean(deps.config.magichour.accountKey));
    const rows = await balanceSamplesSince(deps.db, now - 30 * DAY);
    const unattributed = await unattributedCreditsSince(deps.db, now - 30 * DAY);
    return c.json({
      available: state.latest !== null,
      status: state.status,
      balance: state.latest?.balance ?? null,
      as_of: isoOrNull(state.latest?.ts),
      series: lastPerHour(rows).map((r) => ({ ts: iso(r.ts), balance: r.balance })),
      unattributed_credits_30d: unattributed,
    });
  });
}

/** Thirty days of five-minute samples are 8,640 points; a chart needs the last of each hour. */
function lastPerHour<T extends { ts: number }>(rows: T[]): T[] {
  const out: T[] = [];
  for (const r of rows) {
    const prev = out[out.length - 1];
    if (prev && floorTo(prev.ts, HOUR) === floorTo(r.ts, HOUR)) out[out.length - 1] = r;
    else out.push(r);
  }
  return out;
}
