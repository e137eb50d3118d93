/** pg mirror of schema/detection.ts. */
import { bigint, boolean, jsonb, pgTable, primaryKey, text } from 'drizzle-orm/pg-core';

export const detectorState = pgTable('detector_state', {
  keyId: text('key_id').primaryKey(),
  state: jsonb('state').notNull(),
  evaluatedUntil: bigint('evaluated_until', { mode: 'number' }).notNull(),
  updatedAt: bigint('updated_at', { mode: 'number' }).notNull(),
});

export const detectionRules = pgTable(
  'detection_rules',
  {
    kind: text('kind').notNull(),
    keyId: text('key_id').notNull().default(''),
    enabled: boolean('enabled'),
    params: jsonb('params').notNull().default({}),
    updatedBy: text('updated_by').notNull(),
    updatedAt: bigint('updated_at', { mode: 'number' }).notNull(),
  },
  (t) => [primaryKey({ columns: [t.kind, t.keyId] })],
);

export const detectorCheckpoints = pgTable(
  'detector_checkpoints',
  {
    keyId: text('key_id').notNull(),
    at: bigint('at', { mode: 'number' }).notNull(),
    state: jsonb('state').notNull(),
  },
  (t) => [primaryKey({ columns: [t.keyId, t.at] })],
);

export const lateUsage = pgTable('late_usage', {
  keyId: text('key_id').primaryKey(),
  earliestTs: bigint('earliest_ts', { mode: 'number' }).notNull(),
  arrivedAt: bigint('arrived_at', { mode: 'number' }).notNull(),
  alert: boolean('alert').notNull(),
});
