/**
 * Incidents: one per subject (a key, the account, an unknown-token network) per episode, its
 * findings joined as signals; budget findings are incidents of their own. Written only through
 * server/incidents/lifecycle.ts.
 */
import { index, integer, real, sqliteTable, text } from 'drizzle-orm/sqlite-core';
import { keys } from './keys.ts';

export const SEVERITIES = ['info', 'warning', 'critical'] as const;
export type Severity = (typeof SEVERITIES)[number];
export const INCIDENT_STATES = ['open', 'acknowledged', 'snoozed', 'resolved'] as const;
export type IncidentState = (typeof INCIDENT_STATES)[number];

export const incidents = sqliteTable(
  'incidents',
  {
    id: text('id').primaryKey(),
    /** Null for account-level findings (e.g. unattributed spend) and unknown-token networks. */
    keyId: text('key_id').references(() => keys.id),
    /** What the episode is about: `key:<id>`, `account`, `network:<cidr>` or `budget:<id>`. */
    subject: text('subject').notNull().default(''),
    /** The most severe signal's kind (ties: the earliest). */
    kind: text('kind').notNull(),
    severity: text('severity', { enum: SEVERITIES }).notNull(),
    state: text('state', { enum: INCIDENT_STATES }).notNull(),
    /** Start of the first bucket that looks anomalous (back-dated). */
    startedAt: integer('started_at').notNull(),
    /** Data time at which a detector first raised it (end of the bucket it judged). */
    detectedAt: integer('detected_at').notNull().default(0),
    lastSeenAt: integer('last_seen_at').notNull(),
    resolvedAt: integer('resolved_at'),
    observed: real('observed').notNull(),
    expected: real('expected').notNull(),
    score: real('score').notNull(),
    /** Credits attributable to the episode so far (observed minus expected, summed). */
    impactCredits: real('impact_credits').notNull().default(0),
    summary: text('summary').notNull(),
    /** JSON: baseline band, window, top contributors, recommended actions. */
    details: text('details').notNull().default('{}'),
    /** JSON array of the episode's signals, one per kind (see incidents/signals.ts). */
    signals: text('signals').notNull().default('[]'),
    acknowledgedBy: text('acknowledged_by'),
    acknowledgedAt: integer('acknowledged_at'),
    note: text('note'),
    snoozedUntil: integer('snoozed_until'),
    feedback: text('feedback'),
    createdAt: integer('created_at').notNull(),
    updatedAt: integer('updated_at').notNull(),
  },
  (t) => [
    index('incidents_key_kind_state_idx').on(t.keyId, t.kind, t.state),
    index('incidents_subject_state_idx').on(t.subject, t.state),
    index('incidents_started_idx').on(t.startedAt),
  ],
);

export type IncidentRow = typeof incidents.$inferSelect;

/**
 * People's feedback that changes future detection: `desensitize` (a false positive: need a larger
 * deviation for a while), `rebaseline` (a new normal from `from` on), `suppress` (expected activity
 * in [from, until)). `kind` null applies to every kind.
 */
export const detectionAdjustments = sqliteTable(
  'detection_adjustments',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    keyId: text('key_id').references(() => keys.id),
    kind: text('kind'),
    type: text('type', { enum: ['desensitize', 'rebaseline', 'suppress'] }).notNull(),
    from: integer('from').notNull(),
    until: integer('until'),
    /** For desensitize: how much larger a deviation must be (e.g. 2 = twice). */
    factor: real('factor'),
    incidentId: text('incident_id'),
    createdBy: text('created_by').notNull(),
    createdAt: integer('created_at').notNull(),
  },
  (t) => [index('detection_adjustments_key_idx').on(t.keyId, t.from)],
);
