/**
 * Raw statements prepared once per connection and reused, keyed by their SQL text: the form every
 * raw query takes (see the SQL rule in client.ts). A statement's pluck/raw mode sticks to it, so a
 * given SQL text is always used in the same mode.
 */
import type Database from 'better-sqlite3';
import type { Sqlite } from './client.ts';

const cache = new WeakMap<Sqlite, Map<string, Database.Statement<unknown[] | object, unknown>>>();

export function statement<P extends unknown[] | object = unknown[], R = unknown>(
  sqlite: Sqlite,
  sql: string,
): Database.Statement<P, R> {
  let statements = cache.get(sqlite);
  if (!statements) {
    statements = new Map();
    cache.set(sqlite, statements);
  }
  let found = statements.get(sql);
  if (!found) {
    found = sqlite.prepare(sql);
    statements.set(sql, found);
  }
  return found as Database.Statement<P, R>;
}

const arrayCache = new WeakMap<Sqlite, Map<string, Database.Statement<unknown[], unknown[]>>>();

/**
 * The same, in raw mode: rows come back as arrays of column values, in SELECT order. A cache of
 * their own, since the mode sticks to a statement and one SQL text may be read both ways.
 */
export function arrayStatement(sqlite: Sqlite, sql: string): Database.Statement<unknown[], unknown[]> {
  let statements = arrayCache.get(sqlite);
  if (!statements) {
    statements = new Map();
    arrayCache.set(sqlite, statements);
  }
  let found = statements.get(sql);
  if (!found) {
    found = sqlite.prepare<unknown[], unknown[]>(sql).raw(true);
    statements.set(sql, found);
  }
  return found;
}

/**
 * A module's own statements, made by `prepare` once per connection: for the hot paths (the ingest
 * writer, the fold), where a lookup by SQL text per call would cost, named fields read better too.
 */
export function preparedPerConnection<S>(prepare: (sqlite: Sqlite) => S): (sqlite: Sqlite) => S {
  const made = new WeakMap<Sqlite, S>();
  return (sqlite) => {
    let s = made.get(sqlite);
    if (!s) {
      s = prepare(sqlite);
      made.set(sqlite, s);
    }
    return s;
  };
}
