/** Credits spent by a budget's scope over a time range, from the hourly rollup. */
import { type SQL, sql } from 'drizzle-orm';
import type { Db } from '../db/client.ts';
import type { BudgetScope } from '../db/schema/index.ts';
import { rows } from '../db/transaction.ts';
import { everyKey } from '../usage/every-key.ts';

type Scope = { scope: BudgetScope; target: string };

const QUERY: Record<BudgetScope, (db: Db, s: Scope, from: number, to: number) => SQL> = {
  // Every key's hours are one row per hour in the totals (usage_hour has no index on bucket alone).
  total: (_db, _s, from, to) =>
    sql`SELECT coalesce(sum(credits), 0) AS c FROM usage_hour_total WHERE bucket >= ${from} AND bucket < ${to}`,
  key: (_db, s, from, to) =>
    sql`SELECT coalesce(sum(credits), 0) AS c FROM usage_hour
      WHERE key_id = ${s.target} AND bucket >= ${from} AND bucket < ${to}`,
  // The environment's keys first, then one primary-key range per key.
  environment: (db, s, from, to) =>
    sql`SELECT coalesce(sum(credits), 0) AS c FROM usage_hour
      WHERE ${everyKey(db, s.target)} AND bucket >= ${from} AND bucket < ${to}`,
};

/**
 * Hour buckets are UTC hours, so a range that starts at a local midnight falls on a bucket edge
 * in every zone with whole-hour offsets (a half-hour zone counts its first half hour late).
 */
export async function spendBetween(db: Db, scope: Scope, from: number, to: number): Promise<number> {
  const [row] = await rows<{ c: number }>(db, QUERY[scope.scope](db, scope, from, to));
  return row?.c ?? 0;
}
