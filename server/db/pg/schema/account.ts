/** pg mirror of schema/account.ts. */
import { bigint, boolean, doublePrecision, integer, jsonb, pgTable, text } from 'drizzle-orm/pg-core';

export const accountSnapshot = pgTable('account_snapshot', {
  id: integer('id').primaryKey(),
  fetchedAt: bigint('fetched_at', { mode: 'number' }).notNull(),
  tier: text('tier'),
  planName: text('plan_name'),
  status: text('status'),
  billingInterval: text('billing_interval', { enum: ['month', 'year'] }),
  currentPeriodEnd: bigint('current_period_end', { mode: 'number' }),
  cancelAtPeriodEnd: boolean('cancel_at_period_end'),
  priceCents: bigint('price_cents', { mode: 'number' }),
  currency: text('currency'),
  discountAmountOffCents: bigint('discount_amount_off_cents', { mode: 'number' }),
  discountPercentOff: doublePrecision('discount_percent_off'),
});

export const invoicePlan = pgTable('invoice_plan', {
  id: integer('id').primaryKey(),
  currency: text('currency').notNull(),
  bands: jsonb('bands').notNull(),
  updatedAt: bigint('updated_at', { mode: 'number' }).notNull(),
  updatedBy: text('updated_by').notNull(),
});
