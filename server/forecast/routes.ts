/**
 * GET /api/v1/forecast: spend so far this period (the billing period when the account has a
 * subscription, else the calendar month), the period-end projection with an 80% band, and runway.
 */
import { Hono } from 'hono';
import { z } from 'zod';
import type { AppEnv } from '../auth/app-env.ts';
import { requireAuth } from '../auth/middleware.ts';
import { DAY } from '../clock.ts';
import type { Deps } from '../deps.ts';
import { issuesFromZod, validationError } from '../errors.ts';
import type { ApiOperation } from '../http/api-operation.ts';
import { getKey } from '../keys/keys.ts';
import type { Period } from '../time-zone.ts';
import { iso } from '../timestamps.ts';
import { forecastMonth, runwayDays } from './month-end.ts';
import { loadForecastInput } from './query.ts';

const ForecastQuerySchema = z.object({
  key: z.string().min(1).max(200).optional(),
  environment: z.string().min(1).max(50).optional(),
});

export const forecastApi: ApiOperation[] = [
  {
    method: 'get',
    path: '/',
    summary: 'Spend so far this period, period-end projection with an 80% band, runway',
    scope: 'read',
    query: ForecastQuerySchema,
  },
];

export type ForecastScope = { scope: 'key' | 'environment' | 'total'; target: string | null };

/** What the forecast shows beside the projection, read from the layers that own it. */
export type ForecastReaders = {
  /** The monthly budget (credits) for exactly this scope, or null. */
  budgetFor(scope: ForecastScope): Promise<number | null>;
  /** The latest known account balance; null until a balance source reports one. */
  balance(): Promise<number | null>;
  /** The period the forecast runs to at `now`: the billing period, else the calendar month. */
  period(now: number): Promise<Period & { source: 'subscription' | 'calendar' }>;
};

export function forecastRoutes(deps: Deps, readers: ForecastReaders) {
  return new Hono<AppEnv>().get('/', requireAuth(deps, 'read'), async (c) => {
    const parsed = ForecastQuerySchema.safeParse(c.req.query());
    if (!parsed.success) throw validationError(issuesFromZod(parsed.error.issues));
    const key = parsed.data.key ? await getKey(deps, parsed.data.key) : undefined;
    const filter = {
      ...(key && { keyId: key.id }),
      ...(parsed.data.environment && { environment: parsed.data.environment }),
    };
    const now = deps.clock.now();
    const period = await readers.period(now);
    const { input } = await loadForecastInput(deps.db, now, deps.config.timeZone, filter, period);
    const f = forecastMonth(input);
    let cumulative = 0;
    const balance = key || parsed.data.environment ? null : await readers.balance();
    const scope: ForecastScope = key
      ? { scope: 'key', target: key.id }
      : parsed.data.environment
        ? { scope: 'environment', target: parsed.data.environment }
        : { scope: 'total', target: null };
    const runway = balance === null ? null : runwayDays(balance, f.dailyRate);
    return c.json({
      // 'YYYY-MM' for a calendar month, the first day of a billing period.
      month: period.label,
      period: { from: iso(period.start), to: iso(period.end), source: period.source },
      time_zone: deps.config.timeZone,
      ...(key && { key: key.name, key_id: key.id }),
      ...(parsed.data.environment && { environment: parsed.data.environment }),
      spent: f.spent,
      projected: f.projected,
      low: f.low,
      high: f.high,
      daily_rate: f.dailyRate,
      budget: await readers.budgetFor(scope),
      daily: input.monthToDate.map((d, i) => {
        // The first date of a billing period that began mid-day counts from the period's start.
        const credits = i === 0 ? d.credits - (input.beforeStart ?? 0) : d.credits;
        cumulative += credits;
        return { date: d.date, credits, cumulative };
      }),
      projection: f.projection,
      balance,
      runway_days: runway,
      // Whether the balance lasts until the period ends (and a subscription's credits renew).
      runway_past_period_end: runway === null ? null : now + runway * DAY >= period.end,
    });
  });
}
