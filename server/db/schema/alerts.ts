/** Alerting: the durable email outbox, what each incident was last notified at, routing, digests sent. */
import { index, integer, real, sqliteTable, text } from 'drizzle-orm/sqlite-core';

export const OUTBOX_STATUSES = ['pending', 'sending', 'sent', 'failed'] as const;
export type OutboxStatus = (typeof OUTBOX_STATUSES)[number];

/**
 * Every email Keywatch sends, written in the same transaction as the change that caused it.
 * `sending` marks a row claimed by the sender; `message_id` is stable so a retry after a crash
 * carries the same Message-ID and receivers can drop the duplicate.
 */
export const alertOutbox = sqliteTable(
  'alert_outbox',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    messageId: text('message_id').notNull().unique(),
    category: text('category', { enum: ['incident', 'digest', 'test'] }).notNull(),
    /** One row per message and channel; email is the first channel. */
    channel: text('channel').notNull().default('email'),
    incidentId: text('incident_id'),
    /** Why an incident message was sent (opened, escalated, resolved...): kept to merge a newer state into it. */
    reason: text('reason'),
    /** Comma-separated addresses. */
    recipients: text('recipients').notNull(),
    subject: text('subject').notNull(),
    text: text('text').notNull(),
    html: text('html').notNull(),
    status: text('status', { enum: OUTBOX_STATUSES }).notNull().default('pending'),
    attempts: integer('attempts').notNull().default(0),
    nextAttemptAt: integer('next_attempt_at').notNull(),
    lastAttemptAt: integer('last_attempt_at'),
    lastError: text('last_error'),
    sentAt: integer('sent_at'),
    createdAt: integer('created_at').notNull(),
  },
  (t) => [
    index('alert_outbox_due_idx').on(t.status, t.nextAttemptAt),
    index('alert_outbox_incident_idx').on(t.incidentId, t.channel, t.status),
    index('alert_outbox_created_idx').on(t.createdAt),
  ],
);

export type OutboxRow = typeof alertOutbox.$inferSelect;

/**
 * What each incident was last notified at, so re-notification needs the impact to double. An
 * incident recorded without paging (too old when judged, or below the credit floor) has a row
 * with count 0 and `silenced` saying why; the digest counts those.
 */
export const alertNotifications = sqliteTable('alert_notifications', {
  incidentId: text('incident_id').primaryKey(),
  notifiedImpact: real('notified_impact').notNull(),
  notifiedSeverity: text('notified_severity').notNull(),
  count: integer('count').notNull(),
  lastNotifiedAt: integer('last_notified_at').notNull(),
  silenced: text('silenced'),
});

/** One row (id 1): the routing document as JSON; absent means the defaults from the environment. */
export const alertRouting = sqliteTable('alert_routing', {
  id: integer('id').primaryKey(),
  routing: text('routing').notNull(),
  updatedBy: text('updated_by').notNull(),
  updatedAt: integer('updated_at').notNull(),
});

/** Digests already sent, one per period ('daily:2026-11-25', 'weekly:2026-11-16'): sends are idempotent. */
export const digestsSent = sqliteTable('digests_sent', {
  period: text('period').primaryKey(),
  outboxId: integer('outbox_id'),
  sentAt: integer('sent_at').notNull(),
});
