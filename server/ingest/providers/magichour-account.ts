/**
 * Magic Hour's `GET /v1/account`, read with zod at the edge: the tier and, for subscribed
 * accounts, the plan and its billing period. `subscription` is null for free, pack-only and
 * usage-based accounts; an interval we do not know is treated as no subscription, so periods fall
 * back to the calendar month rather than guess.
 */
import { z } from 'zod';
import type { AccountInfo, BillingInterval } from '../../account/snapshot.ts';

const Cents = z.number().finite().min(0).max(1e12);

const SubscriptionSchema = z.looseObject({
  name: z.string().max(200).nullish(),
  status: z.string().max(50).nullish(),
  billing_interval: z.string().max(20),
  // ISO-8601 in the SDKs' reference; unix seconds or ms are accepted too.
  current_period_end: z.union([z.string().min(1).max(64), z.number().finite().positive()]),
  cancel_at_period_end: z.boolean().nullish(),
  price: z.looseObject({ amount: Cents, currency: z.string().min(1).max(10) }).nullish(),
  discount: z
    .looseObject({ amount_off: Cents.nullish(), percent_off: z.number().finite().min(0).max(100).nullish() })
    .nullish(),
});

const AccountSchema = z.looseObject({
  tier: z.string().max(100).nullish(),
  subscription: SubscriptionSchema.nullish(),
});

const INTERVALS: Record<string, BillingInterval> = {
  month: 'month',
  monthly: 'month',
  year: 'year',
  yearly: 'year',
  annual: 'year',
  annually: 'year',
};

function instant(value: string | number): number | null {
  if (typeof value === 'number') return value < 1e12 ? value * 1000 : value;
  const ms = Date.parse(value);
  return Number.isNaN(ms) ? null : ms;
}

/** Null when the body is not an account we can read (the balance may still be). */
export function parseAccount(body: unknown): AccountInfo | null {
  const parsed = AccountSchema.safeParse(body);
  if (!parsed.success) return null;
  const { tier, subscription: s } = parsed.data;
  const interval = s ? INTERVALS[s.billing_interval.toLowerCase()] : undefined;
  const end = s ? instant(s.current_period_end) : null;
  if (!s || !interval || end === null) return { tier: tier ?? null, subscription: null };
  const discount =
    s.discount && (s.discount.amount_off != null || s.discount.percent_off != null) ? s.discount : null;
  return {
    tier: tier ?? null,
    subscription: {
      name: s.name ?? null,
      status: s.status ?? null,
      interval,
      currentPeriodEnd: end,
      cancelAtPeriodEnd: s.cancel_at_period_end ?? false,
      priceCents: s.price ? Math.round(s.price.amount) : null,
      currency: s.price ? s.price.currency.toUpperCase() : null,
      discount: discount && {
        amountOffCents: discount.amount_off ?? null,
        percentOff: discount.percent_off ?? null,
      },
    },
  };
}
