import { describe, expect, it } from 'vitest';
import {
  addMonths,
  billingPeriod,
  budgetPeriod,
  describePeriod,
  STALE_AFTER_MS,
} from '../../server/account/billing-period.ts';
import type { AccountSnapshot, Subscription } from '../../server/account/snapshot.ts';

const at = (y: number, m: number, d: number, h = 0) => Date.UTC(y, m - 1, d, h);
const iso = (ms: number) => new Date(ms).toISOString();

function snapshot(sub: Partial<Subscription> | null, fetchedAt = at(2026, 11, 26, 12)): AccountSnapshot {
  return {
    fetchedAt,
    tier: 'creator',
    subscription: sub && {
      name: 'Creator',
      status: 'active',
      interval: 'month',
      currentPeriodEnd: at(2026, 12, 17, 8),
      cancelAtPeriodEnd: false,
      priceCents: 1_200,
      currency: 'usd',
      discount: null,
      ...sub,
    },
  };
}
const NOW = at(2026, 11, 26, 12);

describe('addMonths', () => {
  it('keeps the time of day and clamps the day to the month', () => {
    expect(iso(addMonths(at(2026, 1, 31, 8), 1))).toBe('2026-02-28T08:00:00.000Z');
    expect(iso(addMonths(at(2026, 3, 31, 8), -1))).toBe('2026-02-28T08:00:00.000Z');
    expect(iso(addMonths(at(2026, 12, 17, 8), -12))).toBe('2025-12-17T08:00:00.000Z');
  });
});

describe('billingPeriod', () => {
  it('runs a monthly plan from the 17th to the 17th, labelled by its first day', () => {
    const p = billingPeriod(snapshot({}), NOW, 'UTC');
    expect([iso(p.start), iso(p.end), p.label, p.source, p.reason]).toEqual([
      '2026-11-17T08:00:00.000Z',
      '2026-12-17T08:00:00.000Z',
      '2026-11-17',
      'subscription',
      null,
    ]);
    const prev = billingPeriod(snapshot({}), NOW, 'UTC', -1);
    expect([iso(prev.start), iso(prev.end)]).toEqual([
      '2026-10-17T08:00:00.000Z',
      '2026-11-17T08:00:00.000Z',
    ]);
  });

  it('keeps a period ending on the 31st on the last day of short months', () => {
    const s = snapshot({ currentPeriodEnd: at(2026, 3, 31, 0) });
    const p = billingPeriod(s, at(2026, 3, 10), 'UTC');
    expect([iso(p.start), iso(p.end)]).toEqual(['2026-02-28T00:00:00.000Z', '2026-03-31T00:00:00.000Z']);
    const before = billingPeriod(s, at(2026, 3, 10), 'UTC', -1);
    expect([iso(before.start), iso(before.end)]).toEqual([
      '2026-01-31T00:00:00.000Z',
      '2026-02-28T00:00:00.000Z',
    ]);
  });

  it('assumes a renewal once the known end has passed, unless the plan cancels at period end', () => {
    const later = at(2026, 12, 20);
    const renewed = billingPeriod(snapshot({}, later), later, 'UTC');
    expect([iso(renewed.start), iso(renewed.end)]).toEqual([
      '2026-12-17T08:00:00.000Z',
      '2027-01-17T08:00:00.000Z',
    ]);
    const cancelled = billingPeriod(snapshot({ cancelAtPeriodEnd: true }, later), later, 'UTC');
    expect([cancelled.source, cancelled.reason, cancelled.label]).toEqual(['calendar', 'ended', '2026-12']);
  });

  it('runs a yearly plan for a year, while budgets count its months from the renewal day', () => {
    const s = snapshot({ interval: 'year', currentPeriodEnd: at(2027, 3, 17, 8) });
    const year = billingPeriod(s, NOW, 'UTC');
    expect([iso(year.start), iso(year.end), year.interval]).toEqual([
      '2026-03-17T08:00:00.000Z',
      '2027-03-17T08:00:00.000Z',
      'year',
    ]);
    const month = budgetPeriod(s, NOW, 'UTC');
    expect([iso(month.start), iso(month.end), month.source]).toEqual([
      '2026-11-17T08:00:00.000Z',
      '2026-12-17T08:00:00.000Z',
      'subscription',
    ]);
    expect(describePeriod(month, 'UTC')).toBe(
      "Billing month 2026-11-17 to 2026-12-17 of the account's yearly subscription.",
    );
  });

  it('falls back to the calendar month in the zone and says why', () => {
    const ny = 'America/New_York';
    const noAnswer = billingPeriod(null, at(2026, 12, 1, 3), ny);
    expect([noAnswer.label, noAnswer.source, noAnswer.reason]).toEqual(['2026-11', 'calendar', 'no_answer']);
    expect(describePeriod(noAnswer, ny)).toBe(
      'Calendar month 2026-11 in America/New_York: the account endpoint has not answered.',
    );
    expect(billingPeriod(snapshot(null), NOW, 'UTC').reason).toBe('no_subscription');
    const stale = billingPeriod(snapshot({}, NOW - STALE_AFTER_MS - 1), NOW, 'UTC');
    expect([stale.source, stale.reason]).toEqual(['calendar', 'stale']);
    expect(billingPeriod(snapshot({ status: 'canceled' }), NOW, 'UTC').reason).toBe('ended');
    expect(describePeriod(billingPeriod(snapshot({}), NOW, 'UTC'), 'UTC')).toBe(
      "Billing period 2026-11-17 to 2026-12-17, from the account's subscription (renews 2026-12-17).",
    );
  });
});
