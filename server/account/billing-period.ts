/**
 * Billing periods: PURE (time and zone passed in). With a subscription, a period runs from
 * `current_period_end` minus one billing interval to `current_period_end`; without one (no
 * subscription, no answer from the account endpoint, or a snapshot too old to trust), the
 * calendar month in the configured zone is the period.
 */
import { DAY } from '../clock.ts';
import { localDate, monthPeriod, type Period } from '../time-zone.ts';
import type { AccountSnapshot, BillingInterval } from './snapshot.ts';

export type PeriodSource = 'subscription' | 'calendar';

/** Why the calendar month stands in for the billing period. */
export type CalendarReason = 'no_answer' | 'no_subscription' | 'stale' | 'ended';

export type BillingPeriod = Period & {
  source: PeriodSource;
  /** The subscription's interval; null for a calendar month. */
  interval: BillingInterval | null;
  /** Null when the period comes from the subscription. */
  reason: CalendarReason | null;
};

/**
 * A snapshot older than this no longer decides the period. Generous on purpose: flipping between
 * the billing period and the calendar month starts budget thresholds afresh, so a short outage of
 * the account endpoint must not do it.
 */
export const STALE_AFTER_MS = 2 * DAY;

/** Statuses of a subscription that no longer bills. */
const ENDED_STATUSES = new Set(['canceled', 'cancelled', 'incomplete_expired', 'ended']);

const MONTHS: Record<BillingInterval, number> = { month: 1, year: 12 };

/**
 * The instant `months` calendar months from `anchor` at the same UTC time of day, the day clamped
 * to the target month's length (31 Jan + 1 month = 28 Feb), as card billing does.
 */
export function addMonths(anchor: number, months: number): number {
  const a = new Date(anchor);
  const y = a.getUTCFullYear();
  const m = a.getUTCMonth() + months;
  const lastDay = new Date(Date.UTC(y, m + 1, 0)).getUTCDate();
  const dayOfMonth = Math.min(a.getUTCDate(), lastDay);
  return Date.UTC(
    y,
    m,
    dayOfMonth,
    a.getUTCHours(),
    a.getUTCMinutes(),
    a.getUTCSeconds(),
    a.getUTCMilliseconds(),
  );
}

/**
 * The period of `stepMonths` months, on the grid anchored at `end`, that contains `now`, shifted
 * by `offset` periods. Counting from the anchor each time keeps the day of the month (a period
 * ending 31 Jan is followed by one ending 28 Feb, then 31 Mar). Past the known end the
 * subscription is assumed to have renewed.
 */
export function anchoredPeriod(end: number, stepMonths: number, now: number, offset = 0) {
  let k = 0;
  // Whole periods back (k > 0) or forward (k < 0) from the anchor; bounded for absurd inputs.
  while (k < 10_000 && addMonths(end, -(k + 1) * stepMonths) > now) k++;
  while (k > -10_000 && addMonths(end, -k * stepMonths) <= now) k--;
  k -= offset;
  return { start: addMonths(end, -(k + 1) * stepMonths), end: addMonths(end, -k * stepMonths) };
}

function calendar(now: number, timeZone: string, offset: number, reason: CalendarReason): BillingPeriod {
  return { ...monthPeriod(now, timeZone, offset), source: 'calendar', interval: null, reason };
}

/** The subscription that decides periods at `now`, or why there is none. */
function usableSubscription(snapshot: AccountSnapshot | null, now: number) {
  if (!snapshot) return { reason: 'no_answer' as const };
  const s = snapshot.subscription;
  if (!s) return { reason: 'no_subscription' as const };
  if (now - snapshot.fetchedAt > STALE_AFTER_MS) return { reason: 'stale' as const };
  if (ENDED_STATUSES.has((s.status ?? '').toLowerCase())) return { reason: 'ended' as const };
  // A subscription set to cancel does not renew: after its end the calendar month takes over.
  if (s.cancelAtPeriodEnd && now >= s.currentPeriodEnd) return { reason: 'ended' as const };
  return { subscription: s };
}

function fromSubscription(
  end: number,
  stepMonths: number,
  interval: BillingInterval,
  now: number,
  offset: number,
  timeZone: string,
): BillingPeriod {
  const p = anchoredPeriod(end, stepMonths, now, offset);
  return { ...p, label: localDate(p.start, timeZone), source: 'subscription', interval, reason: null };
}

/** The billing period containing `now` (offset -1: the one before), as the invoice counts it. */
export function billingPeriod(
  snapshot: AccountSnapshot | null,
  now: number,
  timeZone: string,
  offset = 0,
): BillingPeriod {
  const found = usableSubscription(snapshot, now);
  if (!found.subscription) return calendar(now, timeZone, offset, found.reason);
  const s = found.subscription;
  return fromSubscription(s.currentPeriodEnd, MONTHS[s.interval], s.interval, now, offset, timeZone);
}

/**
 * The period budgets, the period-end forecast, runway and digests count in: the billing period
 * for a monthly plan; for a yearly plan, the month of the billing year that contains `now`
 * (anchored on the renewal day), because budgets are monthly allowances and a leak must not wait
 * a year to cross one.
 */
export function budgetPeriod(snapshot: AccountSnapshot | null, now: number, timeZone: string): BillingPeriod {
  const found = usableSubscription(snapshot, now);
  if (!found.subscription) return calendar(now, timeZone, 0, found.reason);
  const s = found.subscription;
  return fromSubscription(s.currentPeriodEnd, 1, s.interval, now, 0, timeZone);
}

const REASONS: Record<CalendarReason, string> = {
  no_answer: 'the account endpoint has not answered',
  no_subscription: 'the account has no subscription',
  stale: 'the account endpoint has not answered for two days',
  ended: 'the subscription has ended',
};

/** One sentence for the pages: which period is in use and why. */
export function describePeriod(p: BillingPeriod, timeZone: string): string {
  const last = localDate(p.end - 1, timeZone);
  if (p.source === 'subscription' && p.interval === 'year' && addMonths(p.start, 1) === p.end) {
    return `Billing month ${localDate(p.start, timeZone)} to ${last} of the account's yearly subscription.`;
  }
  if (p.source === 'subscription') {
    return `Billing period ${localDate(p.start, timeZone)} to ${last}, from the account's subscription (renews ${localDate(p.end, timeZone)}).`;
  }
  return `Calendar month ${p.label} in ${timeZone}: ${REASONS[p.reason ?? 'no_answer']}.`;
}
