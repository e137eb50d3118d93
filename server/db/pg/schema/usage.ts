/**
 * pg mirror of schema/usage.ts. PostgreSQL has no WITHOUT ROWID (SQLite's migration 0004 and its
 * tasks in migration-tasks.ts): a heap table with its primary-key index is the plain layout here,
 * so those hand-written steps have no counterpart.
 */
import { bigint, doublePrecision, index, integer, pgTable, primaryKey, text } from 'drizzle-orm/pg-core';
import { keys } from './keys.ts';

export const usageEvents = pgTable(
  'usage_events',
  {
    source: text('source').notNull(),
    eventId: text('event_id').notNull(),
    keyId: text('key_id')
      .notNull()
      .references(() => keys.id),
    ts: bigint('ts', { mode: 'number' }).notNull(),
    credits: doublePrecision('credits').notNull(),
    requests: bigint('requests', { mode: 'number' }).notNull(),
    /** An HTTP status: small. */
    status: integer('status').notNull(),
    operation: text('operation').notNull(),
    sourceIp: text('source_ip'),
    userAgent: text('user_agent'),
    clientOrigin: text('client_origin'),
    projectId: text('project_id'),
    latencyMs: doublePrecision('latency_ms'),
    receivedAt: bigint('received_at', { mode: 'number' }).notNull(),
  },
  (t) => [
    primaryKey({ columns: [t.source, t.eventId] }),
    // No (key_id, ts) index, as on SQLite (migration 0015 there): one key's events are a time
    // range read through this one, filtered by key.
    index('usage_events_ts_idx').on(t.ts),
  ],
);

function bucketTable(name: string, bucketIndex = true) {
  return pgTable(
    name,
    {
      keyId: text('key_id').notNull(),
      bucket: bigint('bucket', { mode: 'number' }).notNull(),
      operation: text('operation').notNull(),
      credits: doublePrecision('credits').notNull().default(0),
      // Sums over a month of a busy key, or of every key: past 2^31.
      requests: bigint('requests', { mode: 'number' }).notNull().default(0),
      errors: bigint('errors', { mode: 'number' }).notNull().default(0),
      authFailures: bigint('auth_failures', { mode: 'number' }).notNull().default(0),
    },
    (t) => [
      primaryKey({ columns: [t.keyId, t.bucket, t.operation] }),
      ...(bucketIndex ? [index(`${name}_bucket_idx`).on(t.bucket)] : []),
    ],
  );
}

/**
 * No bucket index on minutes and hours, as SQLite's migration 0012: ranges over every key are one
 * primary-key range per key (everyKey in server/usage/every-key.ts).
 */
export const usageMinute = bucketTable('usage_minute', false);
export const usageHour = bucketTable('usage_hour', false);
/** No bucket index, as SQLite's migration 0010. */
export const usageDay = bucketTable('usage_day', false);
export const usageMonth = bucketTable('usage_month');

function keyTotalTable(name: string) {
  return pgTable(
    name,
    {
      keyId: text('key_id').notNull(),
      bucket: bigint('bucket', { mode: 'number' }).notNull(),
      credits: doublePrecision('credits').notNull().default(0),
      requests: bigint('requests', { mode: 'number' }).notNull().default(0),
      errors: bigint('errors', { mode: 'number' }).notNull().default(0),
      authFailures: bigint('auth_failures', { mode: 'number' }).notNull().default(0),
    },
    (t) => [primaryKey({ columns: [t.keyId, t.bucket] })],
  );
}

export const usageKeyDay = keyTotalTable('usage_key_day');
export const usageKeyMonth = keyTotalTable('usage_key_month');

export const usageOperationDay = pgTable(
  'usage_operation_day',
  {
    operation: text('operation').notNull(),
    bucket: bigint('bucket', { mode: 'number' }).notNull(),
    credits: doublePrecision('credits').notNull().default(0),
    requests: bigint('requests', { mode: 'number' }).notNull().default(0),
    errors: bigint('errors', { mode: 'number' }).notNull().default(0),
    authFailures: bigint('auth_failures', { mode: 'number' }).notNull().default(0),
  },
  (t) => [primaryKey({ columns: [t.operation, t.bucket] })],
);

function totalTable(name: string) {
  return pgTable(name, {
    bucket: bigint('bucket', { mode: 'number' }).primaryKey(),
    credits: doublePrecision('credits').notNull().default(0),
    requests: bigint('requests', { mode: 'number' }).notNull().default(0),
    errors: bigint('errors', { mode: 'number' }).notNull().default(0),
    authFailures: bigint('auth_failures', { mode: 'number' }).notNull().default(0),
  });
}

export const usageMinuteTotal = totalTable('usage_minute_total');
export const usageHourTotal = totalTable('usage_hour_total');
export const usageDayTotal = totalTable('usage_day_total');

export const keyNetworks = pgTable(
  'key_networks',
  {
    keyId: text('key_id').notNull(),
    network: text('network').notNull(),
    firstSeenAt: bigint('first_seen_at', { mode: 'number' }).notNull(),
    lastSeenAt: bigint('last_seen_at', { mode: 'number' }).notNull(),
    requests: bigint('requests', { mode: 'number' }).notNull().default(0),
  },
  (t) => [
    primaryKey({ columns: [t.keyId, t.network] }),
    index('key_networks_last_seen_idx').on(t.lastSeenAt),
  ],
);

export const keyClients = pgTable(
  'key_clients',
  {
    keyId: text('key_id').notNull(),
    day: bigint('day', { mode: 'number' }).notNull(),
    kind: text('kind', { enum: ['ip', 'ua'] }).notNull(),
    value: text('value').notNull(),
    requests: bigint('requests', { mode: 'number' }).notNull().default(0),
    credits: doublePrecision('credits').notNull().default(0),
    lastSeenAt: bigint('last_seen_at', { mode: 'number' }).notNull(),
  },
  (t) => [primaryKey({ columns: [t.keyId, t.day, t.kind, t.value] })],
);

/**
 * The mirror of SQLite's fold mark. Unused and empty here (migrate-storage needs an empty target):
 * PostgreSQL writes the rollups with each batch (record-events-pg.ts), since its sequences commit
 * out of order and a mark over them could skip a row committed late.
 */
export const usageFold = pgTable('usage_fold', {
  id: integer('id').primaryKey(),
  foldedUntil: bigint('folded_until', { mode: 'number' }).notNull(),
});
