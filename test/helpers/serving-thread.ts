/** Proof that a read ran on a worker thread's connection rather than the serving thread's. */
import { expect } from 'vitest';
import type { TestDeps } from './store.ts';

/**
 * Empty TEMP tables named like every usage table and the keys table, on the serving thread's
 * connection only (SQLite): an unqualified name resolves to the temp schema first, so a read on
 * this connection sees no keys and no usage at all, while a worker's connection still sees the
 * real tables. `keys: false` leaves the keys table visible (for a route that finds its key first).
 * Undone by dropTempTables.
 */
export function hideUsageFromServingThread(deps: TestDeps, { keys = true } = {}): string[] {
  const tables = deps.sqlite
    .prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND (name LIKE 'usage%' OR name = ?)")
    .pluck()
    .all(keys ? 'keys' : '') as string[];
  expect(tables).toContain('usage_day');
  return hideTablesFromServingThread(deps, tables);
}

/** The same for the named tables: empty TEMP copies on the serving thread's connection. */
export function hideTablesFromServingThread(deps: TestDeps, tables: string[]): string[] {
  for (const t of tables) deps.sqlite.exec(`CREATE TEMP TABLE "${t}" AS SELECT * FROM main."${t}" WHERE 0`);
  return tables;
}

export function dropTempTables(deps: TestDeps, tables: string[]): void {
  for (const t of tables) deps.sqlite.exec(`DROP TABLE temp."${t}"`);
}
