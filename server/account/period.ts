/** The periods in force now, from the stored account snapshot (see billing-period.ts for the rules). */
import type { Deps } from '../deps.ts';
import { type BillingPeriod, billingPeriod, budgetPeriod } from './billing-period.ts';
import { latestAccountSnapshot } from './snapshot.ts';

type PeriodDeps = Pick<Deps, 'db' | 'config'>;

/** The period budgets, the period-end forecast, runway and digests count in. */
export async function currentBudgetPeriod(deps: PeriodDeps, now: number): Promise<BillingPeriod> {
  return budgetPeriod(await latestAccountSnapshot(deps.db), now, deps.config.timeZone);
}

/** The invoice's billing period containing `now`, or (offset -1) the one before it. */
export async function currentBillingPeriod(
  deps: PeriodDeps,
  now: number,
  offset = 0,
): Promise<BillingPeriod> {
  return billingPeriod(await latestAccountSnapshot(deps.db), now, deps.config.timeZone, offset);
}
