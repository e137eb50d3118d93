/** GET /api/v1/forecast: this month's spend, month-end projection with an 80% band, and runway. */
import { Hono } from 'hono';
import { z } from 'zod';
import { requireAuth } from '../auth/middleware.ts';
import { listBudgets } from '../budgets/budgets.ts';
import type { Deps } from '../deps.ts';
import { issuesFromZod, validationError } from '../errors.ts';
import type { AppEnv } from '../http/types.ts';
import { getKey } from '../keys/keys.ts';
import { forecastMonth, runwayDays } from './month-end.ts';
import { loadForecastInput } from './query.ts';

const QuerySchema = z.object({
  key: z.string().min(1).max(200).optional(),
  environment: z.string().min(1).max(50).optional(),
});

/** The latest known account balance; null until a balance source reports one. */
export type BalanceReader = () => number | null;

export function forecastRoutes(deps: Deps, readBalance: BalanceReader = () => null) {
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
    const balance = key || parsed.data.environment ? null : readBalance();
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
      budget: matchingBudget(deps, key?.id, parsed.data.environment),
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

/** The monthly budget for exactly this scope (a key, an environment, or the whole account). */
function matchingBudget(
  deps: Deps,
  keyId: string | undefined,
  environment: string | undefined,
): number | null {
  const scope = keyId ? 'key' : environment ? 'environment' : 'total';
  const target = keyId ?? environment ?? '';
  const budget = listBudgets(deps.db).find(
    (b) => b.scope === scope && (scope === 'total' || b.target === target),
  );
  return budget?.monthlyCredits ?? null;
}
