/** Credits spent by a budget's scope over a time range, from the hourly rollup. */
import type { Sqlite } from '../db/client.ts';
import type { BudgetScope } from '../db/schema/index.ts';
import { statement } from '../db/statements.ts';

const SQL: Record<BudgetScope, string> = {
  total: 'SELECT coalesce(sum(credits), 0) AS c FROM usage_hour WHERE bucket >= @from AND bucket < @to',
  key: 'SELECT coalesce(sum(credits), 0) AS c FROM usage_hour WHERE key_id = @target AND bucket >= @from AND bucket < @to',
  environment: `SELECT coalesce(sum(u.credits), 0) AS c FROM usage_hour u JOIN keys k ON k.id = u.key_id
    WHERE k.environment = @target AND u.bucket >= @from AND u.bucket < @to`,
};

/**
 * Hour buckets are UTC hours, so a range that starts at a local midnight falls on a bucket edge
 * in every zone with whole-hour offsets (a half-hour zone counts its first half hour late).
 */
export function spendBetween(
  sqlite: Sqlite,
  scope: { scope: BudgetScope; target: string },
  from: number,
  to: number,
): number {
  const row = statement(sqlite, SQL[scope.scope]).get({ target: scope.target, from, to }) as { c: number };
  return row.c;
}
