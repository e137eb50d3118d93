/** pg mirror of schema/projects.ts. */
import { bigint, doublePrecision, index, pgTable, text } from 'drizzle-orm/pg-core';
import { keys } from './keys.ts';

export const projects = pgTable(
  'projects',
  {
    id: text('id').primaryKey(),
    keyId: text('key_id').references(() => keys.id),
    kind: text('kind'),
    operation: text('operation'),
    status: text('status'),
    createdAt: bigint('created_at', { mode: 'number' }).notNull(),
    estimatedCredits: doublePrecision('estimated_credits'),
    finalCredits: doublePrecision('final_credits'),
    updatedAt: bigint('updated_at', { mode: 'number' }).notNull(),
  },
  // Retention's only way in (no query reads a key's projects): old projects are deleted by creation.
  (t) => [index('projects_created_idx').on(t.createdAt)],
);

export const unattributedSpend = pgTable(
  'unattributed_spend',
  {
    id: bigint('id', { mode: 'number' }).primaryKey().generatedByDefaultAsIdentity(),
    ts: bigint('ts', { mode: 'number' }).notNull(),
    until: bigint('until', { mode: 'number' }).notNull(),
    source: text('source', { enum: ['webhook', 'balance'] }).notNull(),
    credits: doublePrecision('credits').notNull(),
    projectId: text('project_id'),
    /** Free text (why the spend is unattributed), not JSON. */
    details: text('details'),
    createdAt: bigint('created_at', { mode: 'number' }).notNull(),
  },
  (t) => [index('unattributed_spend_ts_idx').on(t.ts)],
);
