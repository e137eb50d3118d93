/** The account as the API and the pages show it: plan, price after discount, renewal, period in use. */
import type { Deps } from '../deps.ts';
import { iso } from '../timestamps.ts';
import { type BillingPeriod, describePeriod } from './billing-period.ts';
import { currentBillingPeriod, currentBudgetPeriod } from './period.ts';
import { type AccountSnapshot, latestAccountSnapshot, type Subscription } from './snapshot.ts';

/** The plan's price for one interval after its discount, in cents (amount off first, then percent). */
export function discountedCents(s: Subscription): number | null {
  if (s.priceCents === null) return null;
  const afterAmount = Math.max(0, s.priceCents - (s.discount?.amountOffCents ?? 0));
  return Math.round(afterAmount * (1 - (s.discount?.percentOff ?? 0) / 100));
}

const periodJson = (p: BillingPeriod) => ({
  from: iso(p.start),
  to: iso(p.end),
  source: p.source,
  label: p.label,
  ...(p.reason && { fallback_reason: p.reason }),
});

export type AccountView = {
  snapshot: AccountSnapshot | null;
  billing: BillingPeriod;
  budget: BillingPeriod;
  note: string;
};

export async function readAccountView(deps: Pick<Deps, 'db' | 'config'>, now: number): Promise<AccountView> {
  const budget = await currentBudgetPeriod(deps, now);
  return {
    snapshot: await latestAccountSnapshot(deps.db),
    billing: await currentBillingPeriod(deps, now),
    budget,
    note: describePeriod(budget, deps.config.timeZone),
  };
}

export function toAccountJson(view: AccountView) {
  const s = view.snapshot?.subscription ?? null;
  return {
    answered: view.snapshot !== null,
    fetched_at: view.snapshot ? iso(view.snapshot.fetchedAt) : null,
    tier: view.snapshot?.tier ?? null,
    subscription: s && {
      name: s.name,
      status: s.status,
      billing_interval: s.interval,
      current_period_end: iso(s.currentPeriodEnd),
      cancel_at_period_end: s.cancelAtPeriodEnd,
      price: s.priceCents === null ? null : { amount: s.priceCents, currency: s.currency },
      discount: s.discount && { amount_off: s.discount.amountOffCents, percent_off: s.discount.percentOff },
      price_after_discount: discountedCents(s),
    },
    billing_period: periodJson(view.billing),
    budget_period: periodJson(view.budget),
    period_note: view.note,
  };
}
