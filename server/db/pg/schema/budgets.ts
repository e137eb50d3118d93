/** pg mirror of schema/budgets.ts. */
import {
  bigint,
  boolean,
  doublePrecision,
  jsonb,
  pgTable,
  primaryKey,
  text,
  uniqueIndex,
} from 'drizzle-orm/pg-core';
import { BUDGET_SCOPES } from '../../schema/budgets.ts';

export const budgets = pgTable(
  'budgets',
  {
    id: text('id').primaryKey(),
    scope: text('scope', { enum: BUDGET_SCOPES }).notNull(),
    target: text('target').notNull(),
    monthlyCredits: doublePrecision('monthly_credits').notNull(),
    thresholds: jsonb('thresholds').notNull(),
    notifyForecast: boolean('notify_forecast').notNull(),
    createdAt: bigint('created_at', { mode: 'number' }).notNull(),
    updatedAt: bigint('updated_at', { mode: 'number' }).notNull(),
  },
  (t) => [uniqueIndex('budgets_scope_target_idx').on(t.scope, t.target)],
);

export const budgetFirings = pgTable(
  'budget_firings',
  {
    budgetId: text('budget_id').notNull(),
    period: text('period').notNull(),
    threshold: text('threshold').notNull(),
    incidentId: text('incident_id').notNull(),
    firedAt: bigint('fired_at', { mode: 'number' }).notNull(),
  },
  (t) => [primaryKey({ columns: [t.budgetId, t.period, t.threshold] })],
);
