/** Usage: raw events (idempotent per source and event id) and bucketed series per key and operation. */
import { index, integer, primaryKey, real, sqliteTable, text } from 'drizzle-orm/sqlite-core';
import { keys } from './keys.ts';

export const usageEvents = sqliteTable(
  'usage_events',
  {
    source: text('source').notNull(),
    eventId: text('event_id').notNull(),
    keyId: text('key_id')
      .notNull()
      .references(() => keys.id),
    ts: integer('ts').notNull(),
    credits: real('credits').notNull(),
    requests: integer('requests').notNull(),
    status: integer('status').notNull(),
    operation: text('operation').notNull(),
    sourceIp: text('source_ip'),
    userAgent: text('user_agent'),
    /** The caller's web origin (scheme://host[:port]) from Origin or Referer: a key used from a page. */
    clientOrigin: text('client_origin'),
    projectId: text('project_id'),
    latencyMs: real('latency_ms'),
    receivedAt: integer('received_at').notNull(),
  },
  (t) => [
    primaryKey({ columns: [t.source, t.eventId] }),
    index('usage_events_key_ts_idx').on(t.keyId, t.ts),
    index('usage_events_ts_idx').on(t.ts),
    // Source health: last event and last hour's counts per source.
    index('usage_events_source_ts_idx').on(t.source, t.ts),
  ],
);

/**
 * One table shape per resolution. `bucket` is the bucket's start in epoch ms (UTC);
 * `operation` is '' when the source did not say. Written through on ingest, so the
 * rollups are never stale.
 */
function bucketTable(name: string) {
  return sqliteTable(
    name,
    {
      keyId: text('key_id').notNull(),
      bucket: integer('bucket').notNull(),
      operation: text('operation').notNull(),
      credits: real('credits').notNull().default(0),
      requests: integer('requests').notNull().default(0),
      /** Requests answered with status >= 400. */
      errors: integer('errors').notNull().default(0),
      /** Requests answered with 401 (bad or revoked key). */
      authFailures: integer('auth_failures').notNull().default(0),
    },
    (t) => [
      primaryKey({ columns: [t.keyId, t.bucket, t.operation] }),
      index(`${name}_bucket_idx`).on(t.bucket),
    ],
  );
}

export const usageMinute = bucketTable('usage_minute');
export const usageHour = bucketTable('usage_hour');
export const usageDay = bucketTable('usage_day');

export type BucketTable = typeof usageMinute;
