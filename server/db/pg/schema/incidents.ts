/** pg mirror of schema/incidents.ts. */
import { bigint, doublePrecision, index, jsonb, pgTable, text } from 'drizzle-orm/pg-core';
import { INCIDENT_STATES, SEVERITIES } from '../../schema/incidents.ts';
import { keys } from './keys.ts';

export const incidents = pgTable(
  'incidents',
  {
    id: text('id').primaryKey(),
    keyId: text('key_id').references(() => keys.id),
    subject: text('subject').notNull().default(''),
    kind: text('kind').notNull(),
    severity: text('severity', { enum: SEVERITIES }).notNull(),
    state: text('state', { enum: INCIDENT_STATES }).notNull(),
    startedAt: bigint('started_at', { mode: 'number' }).notNull(),
    detectedAt: bigint('detected_at', { mode: 'number' }).notNull().default(0),
    lastSeenAt: bigint('last_seen_at', { mode: 'number' }).notNull(),
    resolvedAt: bigint('resolved_at', { mode: 'number' }),
    observed: doublePrecision('observed').notNull(),
    expected: doublePrecision('expected').notNull(),
    score: doublePrecision('score').notNull(),
    impactCredits: doublePrecision('impact_credits').notNull().default(0),
    summary: text('summary').notNull(),
    details: jsonb('details').notNull().default({}),
    signals: jsonb('signals').notNull().default([]),
    acknowledgedBy: text('acknowledged_by'),
    acknowledgedAt: bigint('acknowledged_at', { mode: 'number' }),
    note: text('note'),
    snoozedUntil: bigint('snoozed_until', { mode: 'number' }),
    feedback: text('feedback'),
    createdAt: bigint('created_at', { mode: 'number' }).notNull(),
    updatedAt: bigint('updated_at', { mode: 'number' }).notNull(),
  },
  (t) => [
    index('incidents_key_kind_state_idx').on(t.keyId, t.kind, t.state),
    index('incidents_subject_state_idx').on(t.subject, t.state),
    index('incidents_started_idx').on(t.startedAt),
  ],
);

export const detectionAdjustments = pgTable(
  'detection_adjustments',
  {
    id: bigint('id', { mode: 'number' }).primaryKey().generatedByDefaultAsIdentity(),
    keyId: text('key_id').references(() => keys.id),
    kind: text('kind'),
    type: text('type', { enum: ['desensitize', 'rebaseline', 'suppress'] }).notNull(),
    from: bigint('from', { mode: 'number' }).notNull(),
    until: bigint('until', { mode: 'number' }),
    factor: doublePrecision('factor'),
    incidentId: text('incident_id'),
    createdBy: text('created_by').notNull(),
    createdAt: bigint('created_at', { mode: 'number' }).notNull(),
  },
  (t) => [index('detection_adjustments_key_idx').on(t.keyId, t.from)],
);
