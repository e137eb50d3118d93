/** Usage sources: received webhook events (dedupe + durable log), balance samples, source status. */
import { index, integer, real, sqliteTable, text, uniqueIndex } from 'drizzle-orm/sqlite-core';

/** Every verified webhook event, stored before it is acknowledged; (provider, type, object) dedupes. */
export const webhookEvents = sqliteTable(
  'webhook_events',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    provider: text('provider').notNull(),
    type: text('type').notNull(),
    /** The provider object the event is about (Magic Hour: payload.id). */
    objectId: text('object_id').notNull(),
    /** The provider's signed timestamp, epoch ms. */
    eventTs: integer('event_ts').notNull(),
    receivedAt: integer('received_at').notNull(),
    /** The raw body as received (it carries no secret). */
    body: text('body').notNull(),
    processedAt: integer('processed_at'),
    /** 'attributed' | 'unattributed' | 'ignored' */
    outcome: text('outcome'),
  },
  (t) => [
    uniqueIndex('webhook_events_dedupe_idx').on(t.provider, t.type, t.objectId),
    index('webhook_events_received_idx').on(t.receivedAt),
  ],
);

/** The account's credit balance over time (balance poller). */
export const balanceSamples = sqliteTable('balance_samples', {
  ts: integer('ts').primaryKey(),
  balance: real('balance').notNull(),
});

/** Last known state of sources that can be switched off or fail on their own (balance poller). */
export const sourceState = sqliteTable('source_state', {
  name: text('name').primaryKey(),
  status: text('status', { enum: ['ok', 'error', 'disabled'] }).notNull(),
  detail: text('detail').notNull(),
  updatedAt: integer('updated_at').notNull(),
});
