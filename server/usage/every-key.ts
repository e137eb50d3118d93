/**
 * Every key, as the first column of a table's primary key: a range over all keys in a table keyed
 * (key_id, bucket, ...) becomes one primary-key descent per key. The minute and hour tables keep no
 * index on bucket alone (migration 0012: 420 MB of a year of 1,000 keys, and one more B-tree written
 * per new bucket row), so a range that does not name its keys starts with this condition instead.
 * Bucket rows only ever belong to stored keys (events reference keys, and keys are never deleted).
 */
import { type SQL, sql } from 'drizzle-orm';
import type { Db } from '../db/client.ts';
import { dialectOf } from '../db/transaction.ts';

/** The condition, for every key or one environment's keys. */
export function everyKey(db: Db, environment?: string): SQL {
  const ids =
    environment === undefined
      ? sql`SELECT id FROM keys`
      : sql`SELECT id FROM keys WHERE environment = ${environment}`;
  // PostgreSQL plans `IN (subquery)` (and a join) as a hash join over a sequential scan of the whole
  // bucket table; an array of ids is an index scan of the primary key, key by key (1,000 keys x 60
  // days of hours: 33 ms instead of 270 ms for a day). SQLite has no arrays, and seeks per key for IN.
  return dialectOf(db) === 'postgres' ? sql`key_id = ANY(ARRAY(${ids}))` : sql`key_id IN (${ids})`;
}
