/**
 * Provider projects (Magic Hour jobs) and spend no known key explains. A project links a
 * provider job id to the key that created it, so webhooks can correct its credits later.
 */
import { index, integer, real, sqliteTable, text } from 'drizzle-orm/sqlite-core';
import { keys } from './keys.ts';

export const projects = sqliteTable(
  'projects',
  {
    /** The provider's project id (a cuid for Magic Hour). */
    id: text('id').primaryKey(),
    /** The key that created it; null when only a webhook or the balance knows of it. */
    keyId: text('key_id').references(() => keys.id),
    kind: text('kind'),
    operation: text('operation'),
    status: text('status'),
    createdAt: integer('created_at').notNull(),
    /** Credits charged at creation (an estimate for video). */
    estimatedCredits: real('estimated_credits'),
    /** Final credits from the provider (completion webhook or GET project); 0 after a refund. */
    finalCredits: real('final_credits'),
    updatedAt: integer('updated_at').notNull(),
  },
  // Retention's only way in (no query reads a key's projects): old projects are deleted by creation.
  (t) => [index('projects_created_idx').on(t.createdAt)],
);

/** Credits spent on the account that no gateway or push event attributes to a key. */
export const unattributedSpend = sqliteTable(
  'unattributed_spend',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    /** Start of the interval (or the event time) in epoch ms. */
    ts: integer('ts').notNull(),
    /** End of the interval; equals ts for a single webhook event. */
    until: integer('until').notNull(),
    /** 'webhook' (a project no key created) or 'balance' (a drop not explained by attributed usage). */
    source: text('source', { enum: ['webhook', 'balance'] }).notNull(),
    credits: real('credits').notNull(),
    projectId: text('project_id'),
    details: text('details'),
    createdAt: integer('created_at').notNull(),
  },
  (t) => [index('unattributed_spend_ts_idx').on(t.ts)],
);
