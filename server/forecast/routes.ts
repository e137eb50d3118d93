/** GET /api/v1/forecast: this month's spend, month-end projection with an 80% band, and runway. */
import { Hono } from 'hono';
import { z } from 'zod';
import type { AppEnv } from '../auth/app-env.ts';
import { requireAuth } from '../auth/middleware.ts';
import type { Deps } from '../deps.ts';
import { issuesFromZod, validationError } from '../errors.ts';
import { getKey } from '../keys/keys.ts';
import { forecastMonth, runwayDays } from './month-end.ts';
import { loadForecastInput } from './query.ts';

const QuerySchema = z.object({
  key: z.string().min(1).max(200).optional(),
  environment: z.string().min(1).max(50).optional(),
});

export type ForecastScope = { scope: 'key' | 'environment' | 'total'; target: string | null };

/** What the forecast shows beside the projection, read from the layers that own it. */
export type ForecastReaders = {
  /** The monthly budget (credits) for exactly this scope, or null. */
  budgetFor(scope: ForecastScope): number | null;
  /** The latest known account balance; null until a balance source reports one. */
  balance(): number | null;
};

export function forecastRoutes(deps: Deps, readers: ForecastReaders) {
  return new Hono<AppEnv>().get('/', requireAuth(deps, 'read'), (c) => {
    const parsed = QuerySchema.safeParse(c.req.query());
    if (!parsed.success) throw validationError(issuesFromZod(parsed.error.issues));
    const key = parsed.data.key ? getKey(deps, parsed.data.key) : undefined;
    const filter = {
      ...(key && { keyId: key.id }),
      ...(parsed.data.environment && { environment: parsed.data.environment }),
    };
    const { input, month } = loadForecastInput(deps.sqlite, deps.clock.now(), deps.config.timeZone, filter);
    const f = forecastMonth(input);
    let cumulative = 0;
    const balance = key || parsed.data.environment ? null : readers.balance();
    const scope: ForecastScope = key
      ? { scope: 'key', target: key.id }
      : parsed.data.environment
        ? { scope: 'environment', target: parsed.data.environment }
        : { scope: 'total', target: null };
    return c.json({
      month: month.label,
      time_zone: deps.config.timeZone,
      ...(key && { key: key.name, key_id: key.id }),
      ...(parsed.data.environment && { environment: parsed.data.environment }),
      spent: f.spent,
      projected: f.projected,
      low: f.low,
      high: f.high,
      daily_rate: f.dailyRate,
      budget: readers.budgetFor(scope),
      daily: input.monthToDate.map((d) => {
        cumulative += d.credits;
        return { date: d.date, credits: d.credits, cumulative };
      }),
      projection: f.projection,
      balance,
      runway_days: balance === null ? null : runwayDays(balance, f.dailyRate),
    });
  });
}
