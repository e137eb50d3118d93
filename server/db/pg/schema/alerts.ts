/** pg mirror of schema/alerts.ts. */
import { bigint, doublePrecision, index, integer, jsonb, pgTable, text } from 'drizzle-orm/pg-core';
import { OUTBOX_STATUSES } from '../../schema/alerts.ts';

export const alertOutbox = pgTable(
  'alert_outbox',
  {
    id: bigint('id', { mode: 'number' }).primaryKey().generatedByDefaultAsIdentity(),
    messageId: text('message_id').notNull().unique(),
    category: text('category', { enum: ['incident', 'digest', 'test'] }).notNull(),
    channel: text('channel').notNull().default('email'),
    incidentId: text('incident_id'),
    reason: text('reason'),
    recipients: text('recipients').notNull(),
    subject: text('subject').notNull(),
    text: text('text').notNull(),
    html: text('html').notNull(),
    status: text('status', { enum: OUTBOX_STATUSES }).notNull().default('pending'),
    attempts: integer('attempts').notNull().default(0),
    nextAttemptAt: bigint('next_attempt_at', { mode: 'number' }).notNull(),
    lastAttemptAt: bigint('last_attempt_at', { mode: 'number' }),
    lastError: text('last_error'),
    sentAt: bigint('sent_at', { mode: 'number' }),
    createdAt: bigint('created_at', { mode: 'number' }).notNull(),
  },
  (t) => [
    index('alert_outbox_due_idx').on(t.status, t.nextAttemptAt),
    index('alert_outbox_incident_idx').on(t.incidentId, t.channel, t.status),
    index('alert_outbox_created_idx').on(t.createdAt),
  ],
);

export const alertNotifications = pgTable('alert_notifications', {
  incidentId: text('incident_id').primaryKey(),
  notifiedImpact: doublePrecision('notified_impact').notNull(),
  notifiedSeverity: text('notified_severity').notNull(),
  count: integer('count').notNull(),
  lastNotifiedAt: bigint('last_notified_at', { mode: 'number' }).notNull(),
  silenced: text('silenced'),
});

export const alertRouting = pgTable('alert_routing', {
  id: integer('id').primaryKey(),
  routing: jsonb('routing').notNull(),
  updatedBy: text('updated_by').notNull(),
  updatedAt: bigint('updated_at', { mode: 'number' }).notNull(),
});

export const digestsSent = pgTable('digests_sent', {
  period: text('period').primaryKey(),
  outboxId: bigint('outbox_id', { mode: 'number' }),
  sentAt: bigint('sent_at', { mode: 'number' }).notNull(),
});
