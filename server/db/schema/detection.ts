/**
 * Detection's own tables: each key's incremental detector state (JSON, so live detection never
 * rereads history; key_id '' holds the account-level state and the global cursor) and the
 * rules: tunables per detector kind, globally (key_id '') or for one key.
 */
import { integer, primaryKey, sqliteTable, text } from 'drizzle-orm/sqlite-core';

export const detectorState = sqliteTable('detector_state', {
  keyId: text('key_id').primaryKey(),
  state: text('state').notNull(),
  /** Every bucket that ends at or before this time has been evaluated. */
  evaluatedUntil: integer('evaluated_until').notNull(),
  updatedAt: integer('updated_at').notNull(),
});

export const detectionRules = sqliteTable(
  'detection_rules',
  {
    kind: text('kind').notNull(),
    /** '' for the global rule, else a key id. */
    keyId: text('key_id').notNull().default(''),
    /** Null: inherit. */
    enabled: integer('enabled', { mode: 'boolean' }),
    /** JSON object of parameter overrides. */
    params: text('params').notNull().default('{}'),
    updatedBy: text('updated_by').notNull(),
    updatedAt: integer('updated_at').notNull(),
  },
  (t) => [primaryKey({ columns: [t.kind, t.keyId] })],
);

/**
 * Snapshots of each key's detector state at most once a day, for the last week: late usage
 * rewinds a key to the snapshot before its earliest late minute and replays from there.
 */
export const detectorCheckpoints = sqliteTable(
  'detector_checkpoints',
  {
    keyId: text('key_id').notNull(),
    /** The state is as of the end of the bucket ending here (epoch ms). */
    at: integer('at').notNull(),
    state: text('state').notNull(),
  },
  (t) => [primaryKey({ columns: [t.keyId, t.at] })],
);

/**
 * Usage stored for minutes detection had already judged: per key, the earliest such minute. The
 * next detection run rewinds the key and judges it again. `alert` is 0 when all of it was history
 * imported on purpose (CSV), which is learned but never alerted on.
 */
export const lateUsage = sqliteTable('late_usage', {
  keyId: text('key_id').primaryKey(),
  earliestTs: integer('earliest_ts').notNull(),
  arrivedAt: integer('arrived_at').notNull(),
  alert: integer('alert', { mode: 'boolean' }).notNull(),
});
