/**
 * The account snapshot: what the provider's account endpoint last said about the plan and its
 * billing period. The balance poller writes it; budgets, forecast, digests, the invoice estimate
 * and the pages read it.
 */
import { eq } from 'drizzle-orm';
import type { Queryable } from '../db/client.ts';
import { accountSnapshot } from '../db/schema/index.ts';

export type BillingInterval = 'month' | 'year';

export type Subscription = {
  name: string | null;
  status: string | null;
  interval: BillingInterval;
  /** Epoch ms. */
  currentPeriodEnd: number;
  cancelAtPeriodEnd: boolean;
  /** Price per billing interval in cents, or null when the plan has no price. */
  priceCents: number | null;
  currency: string | null;
  discount: { amountOffCents: number | null; percentOff: number | null } | null;
};

/** The account as last read; `subscription` null for free, pack-only and usage-based accounts. */
export type AccountInfo = { tier: string | null; subscription: Subscription | null };
export type AccountSnapshot = AccountInfo & { fetchedAt: number };

const ROW_ID = 1;

export async function saveAccountSnapshot(
  db: Queryable,
  info: AccountInfo,
  fetchedAt: number,
): Promise<void> {
  const s = info.subscription;
  const row = {
    id: ROW_ID,
    fetchedAt,
    tier: info.tier,
    planName: s?.name ?? null,
    status: s?.status ?? null,
    billingInterval: s?.interval ?? null,
    currentPeriodEnd: s?.currentPeriodEnd ?? null,
    cancelAtPeriodEnd: s?.cancelAtPeriodEnd ?? null,
    priceCents: s?.priceCents ?? null,
    currency: s?.currency ?? null,
    discountAmountOffCents: s?.discount?.amountOffCents ?? null,
    discountPercentOff: s?.discount?.percentOff ?? null,
  };
  await db.insert(accountSnapshot).values(row).onConflictDoUpdate({ target: accountSnapshot.id, set: row });
}

/** Forgets the snapshot: the endpoint said it is not available to this key. */
export async function clearAccountSnapshot(db: Queryable): Promise<void> {
  await db.delete(accountSnapshot).where(eq(accountSnapshot.id, ROW_ID));
}

export async function latestAccountSnapshot(db: Queryable): Promise<AccountSnapshot | null> {
  const row = (await db.select().from(accountSnapshot).where(eq(accountSnapshot.id, ROW_ID)).limit(1))[0];
  if (!row) return null;
  const hasSubscription = row.billingInterval !== null && row.currentPeriodEnd !== null;
  const hasDiscount = row.discountAmountOffCents !== null || row.discountPercentOff !== null;
  return {
    fetchedAt: row.fetchedAt,
    tier: row.tier,
    subscription: hasSubscription
      ? {
          name: row.planName,
          status: row.status,
          interval: row.billingInterval!,
          currentPeriodEnd: row.currentPeriodEnd!,
          cancelAtPeriodEnd: row.cancelAtPeriodEnd ?? false,
          priceCents: row.priceCents,
          currency: row.currency,
          discount: hasDiscount
            ? { amountOffCents: row.discountAmountOffCents, percentOff: row.discountPercentOff }
            : null,
        }
      : null,
  };
}
