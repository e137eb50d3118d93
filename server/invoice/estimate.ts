/**
 * The invoice estimate of a period: its credits priced by the plan setting, the subscription or
 * the configured credit price (in that order), a forecast to the period's end, and the amount
 * shared out by key and by environment pro rata to their credits.
 */
import { z } from 'zod';
import { addMonths, type BillingPeriod } from '../account/billing-period.ts';
import { currentBillingPeriod } from '../account/period.ts';
import { latestAccountSnapshot } from '../account/snapshot.ts';
import { discountedCents } from '../account/view.ts';
import type { Deps } from '../deps.ts';
import { issuesFromZod, validationError } from '../errors.ts';
import { forecastMonth } from '../forecast/month-end.ts';
import { loadForecastInput } from '../forecast/query.ts';
import { localMidnight } from '../time-zone.ts';
import { iso } from '../timestamps.ts';
import { readPlan } from './plan.ts';
import { choosePricing, type Pricing, priceCredits, shareOut } from './pricing.ts';
import { creditsByKey } from './query.ts';

export const EstimateQuerySchema = z.object({
  period: z
    .string()
    .regex(/^(current|previous|\d{4}-(0[1-9]|1[0-2]))$/, 'must be current, previous or a month YYYY-MM')
    .default('current'),
});

type EstimateDeps = Pick<Deps, 'db' | 'sqlite' | 'clock' | 'config'>;
const MONTHS = { month: 1, year: 12 } as const;

/** The period asked for: current/previous billing period (or calendar month), or a calendar month. */
async function resolvePeriod(deps: EstimateDeps, param: string, now: number): Promise<BillingPeriod> {
  if (param === 'current') return await currentBillingPeriod(deps, now);
  if (param === 'previous') return await currentBillingPeriod(deps, now, -1);
  const [y, m] = param.split('-').map(Number) as [number, number];
  const tz = deps.config.timeZone;
  const start = localMidnight(y, m, 1, tz);
  if (start > now) throw validationError([{ path: 'period', message: 'must not be a month still to come' }]);
  return {
    label: param,
    start,
    end: localMidnight(y, m + 1, 1, tz),
    source: 'calendar',
    interval: null,
    reason: null,
  };
}

/** The account's subscription price, when a usable subscription decides the billing period now. */
async function subscriptionPrice(deps: EstimateDeps, now: number) {
  const s = (await latestAccountSnapshot(deps.db))?.subscription;
  if (!s || (await currentBillingPeriod(deps, now)).source !== 'subscription') return null;
  return { currency: s.currency, discountedCents: discountedCents(s), interval: s.interval };
}

export async function estimateInvoice(deps: EstimateDeps, query: unknown) {
  const parsed = EstimateQuerySchema.safeParse(query);
  if (!parsed.success) throw validationError(issuesFromZod(parsed.error.issues));
  const now = deps.clock.now();
  const period = await resolvePeriod(deps, parsed.data.period, now);
  const subscription = await subscriptionPrice(deps, now);
  const pricing: Pricing = choosePricing({
    plan: await readPlan(deps.db),
    subscription,
    creditPrice: deps.config.creditPrice,
  });
  // A flat subscription price covers one billing interval; a calendar month pays its share.
  const intervalMs = subscription
    ? addMonths(period.start, MONTHS[subscription.interval]) - period.start
    : period.end - period.start;
  const share = period.source === 'subscription' ? 1 : (period.end - period.start) / intervalMs;

  const keys = await creditsByKey(deps.db, period.start, period.end);
  const credits = keys.reduce((s, k) => s + k.credits, 0);
  const priced = priceCredits(pricing, credits, share);
  const amountOf = (c: number) => priceCredits(pricing, c, share).amount;

  let forecast = { credits, amount: priced.amount, low: priced.amount, high: priced.amount };
  if (period.start <= now && now < period.end) {
    const f = forecastMonth((await loadForecastInput(deps.db, now, deps.config.timeZone, {}, period)).input);
    const projected = Math.round(f.projected);
    forecast = {
      credits: projected,
      amount: amountOf(projected),
      low: amountOf(f.low),
      high: amountOf(f.high),
    };
  }

  const environments = new Map<string | null, number>();
  for (const k of keys) environments.set(k.environment, (environments.get(k.environment) ?? 0) + k.credits);
  return {
    period: { from: iso(period.start), to: iso(period.end), source: period.source },
    currency: pricing.source === 'none' ? null : pricing.currency,
    price_source: pricing.source,
    credits,
    amount: priced.amount,
    bands: priced.lines,
    forecast,
    by_key: shareOut(keys, credits, priced.amount),
    by_environment: shareOut(
      [...environments].map(([environment, c]) => ({ environment, credits: c })),
      credits,
      priced.amount,
    ),
  };
}
