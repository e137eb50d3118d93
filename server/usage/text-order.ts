/**
 * Text sorted the same on both stores: SQLite compares bytes, PostgreSQL by the database's locale
 * ("B" after "a" in en_US, before it in C). Appended to a text ORDER BY term so a list, and which
 * rows a LIMIT keeps, do not depend on the store or on how its database was created.
 */
import { type SQL, sql } from 'drizzle-orm';
import type { Db } from '../db/client.ts';
import { dialectOf } from '../db/transaction.ts';

export function byteOrder(db: Db): SQL {
  return sql.raw(dialectOf(db) === 'postgres' ? ' COLLATE "C"' : '');
}
