/** Credits spent by a budget's scope over a time range, from the hourly rollup. */
import { type SQL, sql } from 'drizzle-orm';
import type { Db } from '../db/client.ts';
import type { BudgetScope } from '../db/schema/index.ts';
import { rows } from '../db/transaction.ts';

type Scope = { scope: BudgetScope; target: string };

const QUERY: Record<BudgetScope, (s: Scope, from: number, to: number) => SQL> = {
  // Every key's hours are one row per hour in the totals (usage_hour has no index on bucket alone).
  total: (_s, from, to) =>
    sql`SELECT coalesce(sum(credits), 0) AS c FROM usage_hour_total WHERE bucket >= ${from} AND bucket < ${to}`,
  key: (s, from, to) =>
    sql`SELECT coalesce(sum(credits), 0) AS c FROM usage_hour
      WHERE key_id = ${s.target} AND bucket >= ${from} AND bucket < ${to}`,
  environment: (
    s,
    from,
    to,
    // The environment's keys first, then one primary-key range per key.
  ) => sql`SELECT coalesce(sum(credits), 0) AS c FROM usage_hour
    WHERE key_id IN (SELECT id FROM keys WHERE environment = ${s.target}) AND bucket >= ${from} AND bucket < ${to}`,
};

/**
 * Hour buckets are UTC hours, so a range that starts at a local midnight falls on a bucket edge
 * in every zone with whole-hour offsets (a half-hour zone counts its first half hour late).
 */
export async function spendBetween(db: Db, scope: Scope, from: number, to: number): Promise<number> {
  const [row] = await rows<{ c: number }>(db, QUERY[scope.scope](scope, from, to));
  return row?.c ?? 0;
}
