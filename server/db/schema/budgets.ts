/** Monthly credit budgets (per key, per environment, total) and the thresholds already fired. */
import { integer, primaryKey, real, sqliteTable, text, uniqueIndex } from 'drizzle-orm/sqlite-core';

export const BUDGET_SCOPES = ['total', 'key', 'environment'] as const;
export type BudgetScope = (typeof BUDGET_SCOPES)[number];

export const budgets = sqliteTable(
  'budgets',
  {
    id: text('id').primaryKey(),
    scope: text('scope', { enum: BUDGET_SCOPES }).notNull(),
    /** Key id for scope 'key', environment name for 'environment', '' for 'total'. */
    target: text('target').notNull(),
    monthlyCredits: real('monthly_credits').notNull(),
    /** JSON array of fractions, ascending, e.g. [0.5,0.8,1]. */
    thresholds: text('thresholds').notNull(),
    notifyForecast: integer('notify_forecast', { mode: 'boolean' }).notNull(),
    createdAt: integer('created_at').notNull(),
    updatedAt: integer('updated_at').notNull(),
  },
  (t) => [uniqueIndex('budgets_scope_target_idx').on(t.scope, t.target)],
);

export type BudgetRow = typeof budgets.$inferSelect;

/** A threshold ('0.8') or 'forecast' that fired for a budget in a month ('2026-11'): fires once. */
export const budgetFirings = sqliteTable(
  'budget_firings',
  {
    budgetId: text('budget_id').notNull(),
    period: text('period').notNull(),
    threshold: text('threshold').notNull(),
    incidentId: text('incident_id').notNull(),
    firedAt: integer('fired_at').notNull(),
  },
  (t) => [primaryKey({ columns: [t.budgetId, t.period, t.threshold] })],
);
