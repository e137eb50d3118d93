/** The account as the provider last described it (plan, billing period, price) and the invoice plan setting. */
import { integer, real, sqliteTable, text } from 'drizzle-orm/sqlite-core';

/**
 * The latest answer of the account endpoint: one row (id 1), replaced on every poll. The
 * subscription columns are null for free, pack-only and usage-based accounts.
 */
export const accountSnapshot = sqliteTable('account_snapshot', {
  id: integer('id').primaryKey(),
  fetchedAt: integer('fetched_at').notNull(),
  tier: text('tier'),
  planName: text('plan_name'),
  status: text('status'),
  /** 'month' | 'year' as the provider spells it, normalised. */
  billingInterval: text('billing_interval', { enum: ['month', 'year'] }),
  /** Epoch ms of the end of the current billing period. */
  currentPeriodEnd: integer('current_period_end'),
  cancelAtPeriodEnd: integer('cancel_at_period_end', { mode: 'boolean' }),
  /** Plan price per billing interval, in cents of `currency`. */
  priceCents: integer('price_cents'),
  currency: text('currency'),
  discountAmountOffCents: integer('discount_amount_off_cents'),
  discountPercentOff: real('discount_percent_off'),
});

export type AccountSnapshotRow = typeof accountSnapshot.$inferSelect;

/** The invoice plan setting (PUT /api/v1/invoice/plan): one row (id 1); bands as JSON. */
export const invoicePlan = sqliteTable('invoice_plan', {
  id: integer('id').primaryKey(),
  currency: text('currency').notNull(),
  /** JSON array of {from_credits, to_credits (null: no limit), price_per_credit}. */
  bands: text('bands').notNull(),
  updatedAt: integer('updated_at').notNull(),
  updatedBy: text('updated_by').notNull(),
});
