/** pg mirror of schema/sources.ts. */
import { bigint, doublePrecision, index, pgTable, text, uniqueIndex } from 'drizzle-orm/pg-core';

export const webhookEvents = pgTable(
  'webhook_events',
  {
    id: bigint('id', { mode: 'number' }).primaryKey().generatedByDefaultAsIdentity(),
    provider: text('provider').notNull(),
    type: text('type').notNull(),
    objectId: text('object_id').notNull(),
    eventTs: bigint('event_ts', { mode: 'number' }).notNull(),
    receivedAt: bigint('received_at', { mode: 'number' }).notNull(),
    /** The raw body exactly as received (text, not jsonb: jsonb would reorder and reformat it). */
    body: text('body').notNull(),
    processedAt: bigint('processed_at', { mode: 'number' }),
    outcome: text('outcome'),
  },
  (t) => [
    uniqueIndex('webhook_events_dedupe_idx').on(t.provider, t.type, t.objectId),
    index('webhook_events_received_idx').on(t.receivedAt),
  ],
);

export const balanceSamples = pgTable('balance_samples', {
  ts: bigint('ts', { mode: 'number' }).primaryKey(),
  balance: doublePrecision('balance').notNull(),
});

export const sourceState = pgTable('source_state', {
  name: text('name').primaryKey(),
  status: text('status', { enum: ['ok', 'error', 'disabled'] }).notNull(),
  detail: text('detail').notNull(),
  updatedAt: bigint('updated_at', { mode: 'number' }).notNull(),
});
