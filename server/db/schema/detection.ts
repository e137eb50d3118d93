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
