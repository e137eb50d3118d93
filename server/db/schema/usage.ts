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
    // Retention, detection's chunks, source health (which walks it per source), and every read of
    // one key's events: a time range filtered by key. No (key_id, ts) index (migration 0015): its
    // entries land in every key's part of the tree, most of the pages an ingest batch wrote.
    index('usage_events_ts_idx').on(t.ts),
  ],
);

/**
 * One table shape per resolution. `bucket` is the bucket's start in epoch ms (UTC);
 * `operation` is '' when the source did not say. Written through on ingest, so the
 * rollups are never stale. In the database these are WITHOUT ROWID tables clustered on their
 * primary key (migration 0004; drizzle cannot say so): a key's range is one contiguous read and
 * no second copy of the key is kept in a separate index.
 */
function bucketTable(name: string, bucketIndex = true) {
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
      ...(bucketIndex ? [index(`${name}_bucket_idx`).on(t.bucket)] : []),
    ],
  );
}

/**
 * No bucket index on minutes and hours (migration 0012: 420 MB of a year of 1,000 keys, and one more
 * B-tree written per new bucket row): ranges over every key read the totals, or one primary-key range
 * per key (everyKey in server/usage/every-key.ts), and retention deletes key by key.
 */
export const usageMinute = bucketTable('usage_minute', false);
export const usageHour = bucketTable('usage_hour', false);
/**
 * No bucket index (migration 0010): ranges over every key read the per-key and per-operation day
 * sums, and retention never drops days; in a WITHOUT ROWID table the index repeated the whole key.
 */
export const usageDay = bucketTable('usage_day', false);
/** Calendar months (UTC), kept forever: a year of month totals per key is a dozen rows per key. */
export const usageMonth = bucketTable('usage_month');

export type BucketTable = typeof usageMinute;

/**
 * Day and month sums per key over every operation: what rankings, key-by-key charts and the
 * forecast read when they do not ask by operation (a third of the day table's rows, and no lookup
 * from a bucket index back into the table). WITHOUT ROWID in the database (migration 0007).
 */
function keyTotalTable(name: string) {
  return sqliteTable(
    name,
    {
      keyId: text('key_id').notNull(),
      bucket: integer('bucket').notNull(),
      credits: real('credits').notNull().default(0),
      requests: integer('requests').notNull().default(0),
      errors: integer('errors').notNull().default(0),
      authFailures: integer('auth_failures').notNull().default(0),
    },
    (t) => [primaryKey({ columns: [t.keyId, t.bucket] })],
  );
}

export const usageKeyDay = keyTotalTable('usage_key_day');
export const usageKeyMonth = keyTotalTable('usage_key_month');

/**
 * Day sums per operation over every key: charts and rankings by operation read a few rows per day
 * instead of every key's. WITHOUT ROWID in the database (migration 0009).
 */
export const usageOperationDay = sqliteTable(
  'usage_operation_day',
  {
    operation: text('operation').notNull(),
    bucket: integer('bucket').notNull(),
    credits: real('credits').notNull().default(0),
    requests: integer('requests').notNull().default(0),
    errors: integer('errors').notNull().default(0),
    authFailures: integer('auth_failures').notNull().default(0),
  },
  (t) => [primaryKey({ columns: [t.operation, t.bucket] })],
);

/**
 * The same sums over every key, one row per bucket: whole-account series and forecasts read a
 * year of days or eight weeks of hours as a few hundred rows instead of every key's.
 */
function totalTable(name: string) {
  return sqliteTable(name, {
    bucket: integer('bucket').primaryKey(),
    credits: real('credits').notNull().default(0),
    requests: integer('requests').notNull().default(0),
    errors: integer('errors').notNull().default(0),
    authFailures: integer('auth_failures').notNull().default(0),
  });
}

export const usageMinuteTotal = totalTable('usage_minute_total');
export const usageHourTotal = totalTable('usage_hour_total');
export const usageDayTotal = totalTable('usage_day_total');

/**
 * The client networks each key was seen from (IPv4 /24, IPv6 /64), maintained on every write:
 * the keys page's "seen from several networks" flag (and the client-exposure signal) count rows
 * here instead of scanning a week of raw events. WITHOUT ROWID in the database (migration 0004).
 */
export const keyNetworks = sqliteTable(
  'key_networks',
  {
    keyId: text('key_id').notNull(),
    network: text('network').notNull(),
    firstSeenAt: integer('first_seen_at').notNull(),
    lastSeenAt: integer('last_seen_at').notNull(),
    requests: integer('requests').notNull().default(0),
  },
  (t) => [
    primaryKey({ columns: [t.keyId, t.network] }),
    index('key_networks_last_seen_idx').on(t.lastSeenAt),
  ],
);

/**
 * Who called each key, per UTC day: requests and credits per source IP ('ip') and per user agent
 * ('ua'), '' when the source did not say. The key page's top IPs and agents over 30 days read a few
 * rows per day here instead of every raw event of a busy key. Maintained on every write, dropped
 * with the raw events by retention. WITHOUT ROWID in the database (migration 0008).
 */
export const keyClients = sqliteTable(
  'key_clients',
  {
    keyId: text('key_id').notNull(),
    day: integer('day').notNull(),
    kind: text('kind', { enum: ['ip', 'ua'] }).notNull(),
    value: text('value').notNull(),
    requests: integer('requests').notNull().default(0),
    credits: real('credits').notNull().default(0),
    lastSeenAt: integer('last_seen_at').notNull(),
  },
  // No index on the day: in a WITHOUT ROWID table it would repeat the whole key; retention scans
  // this small table instead (a few rows per key and day).
  (t) => [primaryKey({ columns: [t.keyId, t.day, t.kind, t.value] })],
);

/**
 * How far the rollups (buckets, their totals, key networks and clients) have taken in the raw
 * events: every `usage_events` row with a rowid at or below `folded_until` is in them, none above
 * it. Push batches commit their events only; the fold (server/usage/fold-usage.ts) adds what lies
 * past the mark and moves it in one transaction, so a crash between the two folds it once later.
 * One row (id 1).
 */
export const usageFold = sqliteTable('usage_fold', {
  id: integer('id').primaryKey(),
  foldedUntil: integer('folded_until').notNull(),
});
