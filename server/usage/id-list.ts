/**
 * A list of ids bound as one JSON parameter, as a subquery (`col IN (…)`): one SQL text whatever
 * the count, so the statement is prepared once; on SQLite the planner still seeks each id.
 */
import { type SQL, sql } from 'drizzle-orm';
import type { Db } from '../db/client.ts';
import { dialectOf } from '../db/transaction.ts';

export function idsIn(db: Db, ids: readonly string[]): SQL {
  const json = JSON.stringify(ids);
  // Both name their one column `value`.
  return dialectOf(db) === 'sqlite'
    ? sql`SELECT value FROM json_each(${json})`
    : sql`SELECT value FROM json_array_elements_text(CAST(${json} AS json))`;
}
