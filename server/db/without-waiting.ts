/**
 * A write that may be skipped rather than wait for the write lock. better-sqlite3 waits for a
 * busy database synchronously (busy_timeout), which on the serving thread freezes the gateway and
 * every other request while a worker thread commits a large batch. Bookkeeping that a later call
 * will redo (a token's last-used minute) runs here instead: it writes when the lock is free and
 * is skipped, not waited for, when another connection holds it.
 */
import type { Sqlite } from './client.ts';

/** Runs `write` without waiting for the lock; false when the database was busy and nothing was written. */
export function writeWithoutWaiting(sqlite: Sqlite, write: () => void): boolean {
  const wait = sqlite.pragma('busy_timeout', { simple: true }) as number;
  sqlite.pragma('busy_timeout = 0');
  try {
    write();
    return true;
  } catch (e) {
    if ((e as { code?: string }).code === 'SQLITE_BUSY') return false;
    throw e;
  } finally {
    sqlite.pragma(`busy_timeout = ${wait}`);
  }
}
