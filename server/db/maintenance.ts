/** Upkeep after a bulk write (CSV import, simulated history), on whichever store holds the data. */
import { sql } from 'drizzle-orm';
import type { Db } from './client.ts';
import { dialectOf, execute, sqliteOf } from './transaction.ts';

/**
 * Refreshes the planner's statistics after many rows arrived at once, so the first page read after
 * an import does not plan from an empty table's numbers: SQLite's `PRAGMA optimize`, PostgreSQL's
 * ANALYZE (autovacuum would get to it, but only later).
 */
export async function optimizeAfterBulkLoad(db: Db): Promise<void> {
  if (dialectOf(db) === 'sqlite') sqliteOf(db).pragma('optimize');
  else await execute(db, sql`ANALYZE`);
}
