/**
 * A write that may be skipped rather than wait for the write lock. better-sqlite3 waits for a
 * busy database synchronously (busy_timeout), which on the serving thread freezes the gateway and
 * every other request while a worker thread commits a large batch. Bookkeeping that a later call
 * will redo (a token's last-used minute) runs here instead: it writes when the lock is free and
 * is skipped, not waited for, when another connection holds it. On PostgreSQL nothing freezes the
 * thread: the write is sent and not awaited, and a failure only loses this bookkeeping.
 */
import type { SQL } from 'drizzle-orm';
import type { Db } from './client.ts';
import { postgresOf, sqliteOf } from './transaction.ts';

/** drizzle's SQLite database runs a query synchronously: a busy error is thrown here, not later. */
type SqliteDb = { run(query: SQL): unknown };

/** Runs `write` without waiting for the lock; false when the database was busy and nothing was written. */
export function writeWithoutWaiting(db: Db, write: { getSQL(): SQL }): boolean {
  const pg = postgresOf(db);
  if (pg) {
    pg.execute(write.getSQL()).catch(() => {});
    return true;
  }
  const sqlite = sqliteOf(db);
  const wait = sqlite.pragma('busy_timeout', { simple: true }) as number;
  sqlite.pragma('busy_timeout = 0');
  try {
    (db as unknown as SqliteDb).run(write.getSQL());
    return true;
  } catch (e) {
    // drizzle wraps the driver's error; the SQLite code is on its cause.
    const { code, cause } = e as { code?: string; cause?: { code?: string } };
    if ((code ?? cause?.code) === 'SQLITE_BUSY') return false;
    throw e;
  } finally {
    sqlite.pragma(`busy_timeout = ${wait}`);
  }
}
