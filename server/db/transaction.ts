/**
 * One way to run a transaction and raw SQL on either store, so query modules do not know which
 * database they run on: `await transaction(db, async (tx) => …)`, `await rows(db, sql\`…\`)`.
 *
 * PostgreSQL: drizzle's own transaction on a pooled connection of its own.
 *
 * SQLite: better-sqlite3 runs a transaction synchronously and refuses a callback that returns a
 * promise, so BEGIN and COMMIT are issued here around the awaited callback, on the one connection
 * of the thread. Two things keep that safe. Transactions of one connection queue one behind the
 * other (a second BEGIN would fail, and its statements would land in the first transaction). And
 * every SQLite query resolves synchronously, so while a transaction is open only microtasks run:
 * no request, timer or I/O callback can start in between (nothing truly asynchronous — a fetch, a
 * password hash — may be awaited inside a transaction). A nested call runs as a SAVEPOINT.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import type Database from 'better-sqlite3';
import { entityKind, type SQL } from 'drizzle-orm';
import type pg from 'pg';
import type { Db } from './client.ts';
import { arrayStatement, statement } from './statements.ts';

type PgLike = {
  transaction<T>(fn: (tx: unknown) => Promise<T>): Promise<T>;
  execute(query: SQL): Promise<{ rows: unknown[]; rowCount: number | null }>;
};
type SqliteLike = {
  $client: Database.Database;
  dialect: { sqlToQuery(query: SQL): { sql: string; params: unknown[] } };
};

/** The PostgreSQL drizzle (or one of its transactions) behind a `Db`, or undefined on SQLite. */
export function postgresOf(db: Db): PgLike | undefined {
  return isPgDatabase(db) ? (db as unknown as PgLike) : undefined;
}

/**
 * drizzle's own test (`is(db, PgDatabase)`), by the class's entity kind: importing PgDatabase would
 * initialise the whole of drizzle's pg-core (its dialect, sessions and query builders) at every
 * start on SQLite, for one comparison. A transaction's class extends PgDatabase.
 */
function isPgDatabase(db: unknown): boolean {
  if (!db || typeof db !== 'object') return false;
  for (let cls = Object.getPrototypeOf(db)?.constructor; cls; cls = Object.getPrototypeOf(cls)) {
    if ((cls as { [entityKind]?: string })[entityKind] === 'PgDatabase') return true;
  }
  return false;
}

/**
 * The node-postgres connection behind a PostgreSQL handle, for the few writers that send arrays
 * with `unnest` (usage buckets): inside `transaction()` it is the transaction's own connection,
 * so their statements are part of it. Read from drizzle's session (its `client`); a drizzle
 * release that moved it fails test/db/transaction.test.ts, not production silently.
 */
export function pgClientOf(db: Db): PgQueryable | undefined {
  if (!postgresOf(db)) return undefined;
  const client = (db as unknown as { session?: { client?: PgQueryable } }).session?.client;
  if (!client || typeof client.query !== 'function')
    throw new Error('drizzle no longer exposes the node-postgres client of a transaction (session.client).');
  return client;
}

/** What the array-writing helpers need of a node-postgres client or pool. */
export type PgQueryable = {
  query<R extends object = Record<string, unknown>>(text: string, values?: unknown[]): Promise<{ rows: R[] }>;
};

/** The better-sqlite3 connection behind a SQLite handle (for the synchronous raw writers). */
export function sqliteOf(db: Db): Database.Database {
  return (db as unknown as SqliteLike).$client;
}

/** The node-postgres pool behind a PostgreSQL database handle, or undefined on SQLite. */
export function pgPoolOf(db: Db): pg.Pool | undefined {
  return postgresOf(db) ? (db as unknown as { $client: pg.Pool }).$client : undefined;
}

/** Which store a handle runs on. */
export function dialectOf(db: Db): 'sqlite' | 'postgres' {
  return postgresOf(db) ? 'postgres' : 'sqlite';
}

// Per SQLite connection: the end of the queue of transactions waiting for it.
const queues = new WeakMap<Database.Database, Promise<void>>();
// The connection whose transaction the current async context is inside (for nesting).
const inside = new AsyncLocalStorage<Database.Database>();
let savepoints = 0;
/** SQLite transactions of this thread begun or waiting for their turn. */
let open = 0;

export async function transaction<T>(db: Db, fn: (tx: Db) => Promise<T>): Promise<T> {
  const pg = postgresOf(db);
  if (pg) return pg.transaction((tx) => fn(tx as Db));
  const sqlite = sqliteOf(db);
  if (inside.getStore() === sqlite) return nested(sqlite, db, fn);
  const before = queues.get(sqlite) ?? Promise.resolve();
  let release!: () => void;
  const mine = new Promise<void>((resolve) => {
    release = resolve;
  });
  queues.set(
    sqlite,
    before.then(() => mine),
  );
  open++;
  try {
    await before;
    return await inside.run(sqlite, async () => {
      // IMMEDIATE takes the write lock up front (waiting up to busy_timeout): a deferred transaction
      // that reads first and writes later can fail outright when another connection wrote meanwhile.
      sqlite.prepare('BEGIN IMMEDIATE').run();
      try {
        const result = await fn(db);
        sqlite.prepare('COMMIT').run();
        return result;
      } catch (e) {
        if (sqlite.inTransaction) sqlite.prepare('ROLLBACK').run();
        throw e;
      }
    });
  } finally {
    release();
    // With no transaction left the nesting check is switched off: while an AsyncLocalStorage is
    // enabled, Node runs a hook for every promise and async resource of the thread, a tax on every
    // request the serving thread handles (about 15% of the gateway's CPU per request, measured with
    // tools/bench/gateway.bench.ts BENCH_BEFORE). The next transaction's run() enables it again.
    if (--open === 0) inside.disable();
  }
}

async function nested<T>(sqlite: Database.Database, db: Db, fn: (tx: Db) => Promise<T>): Promise<T> {
  const name = `kw_sp${++savepoints}`;
  sqlite.prepare(`SAVEPOINT ${name}`).run();
  try {
    const result = await fn(db);
    sqlite.prepare(`RELEASE ${name}`).run();
    return result;
  } catch (e) {
    sqlite.prepare(`ROLLBACK TO ${name}`).run();
    sqlite.prepare(`RELEASE ${name}`).run();
    throw e;
  }
}

/**
 * Rows of a raw query, written once for both stores with drizzle's `sql` template (`?` or `$n` is
 * rendered per store). On SQLite the statement is prepared once per connection (statements.ts).
 */
export async function rows<T>(db: Db, query: SQL): Promise<T[]> {
  const pg = postgresOf(db);
  if (pg) return (await pg.execute(query)).rows as T[];
  const { sql: text, params } = sqliteQuery(db, query);
  return statement(sqliteOf(db), text).all(...params) as T[];
}

/**
 * Rows of a raw query as arrays of column values in SELECT order: for big reads (a year of days of
 * a hundred keys), where making an object per row costs more than the query. On PostgreSQL, the
 * row objects' values (their keys keep the SELECT order).
 */
export async function rowArrays<T extends unknown[]>(db: Db, query: SQL): Promise<T[]> {
  const pg = postgresOf(db);
  if (pg) return (await pg.execute(query)).rows.map((r) => Object.values(r as object) as T);
  const { sql: text, params } = sqliteQuery(db, query);
  return arrayStatement(sqliteOf(db), text).all(...params) as T[];
}

/** Runs a raw statement; how many rows it changed. */
export async function execute(db: Db, query: SQL): Promise<number> {
  const pg = postgresOf(db);
  if (pg) return (await pg.execute(query)).rowCount ?? 0;
  const { sql: text, params } = sqliteQuery(db, query);
  return statement(sqliteOf(db), text).run(...params).changes;
}

function sqliteQuery(db: Db, query: SQL) {
  return (db as unknown as SqliteLike).dialect.sqlToQuery(query);
}

/** Rows changed by an awaited insert, update or delete without `returning()`, on either store. */
export function changedRows(result: unknown): number {
  const r = result as { changes?: number; rowCount?: number | null };
  return r.changes ?? r.rowCount ?? 0;
}
