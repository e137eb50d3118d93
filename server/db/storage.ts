/**
 * Opens whichever store KEYWATCH_DB names — a SQLite file or a PostgreSQL database — behind one
 * shape: `db` (drizzle over the shared table definitions, see pg/client.ts), readiness and close.
 * Query modules take `db` and never ask which store it is; the few that must (index hints, the
 * SQLite-only maintenance of migration-tasks.ts) ask dialectOf(db).
 *
 * `sqlite` is the raw better-sqlite3 connection for the modules whose statements are not yet
 * written for both stores; on PostgreSQL touching it throws, naming the property, so a path not
 * yet ported fails loudly instead of silently writing elsewhere.
 */
import type pg from 'pg';
import type { StorageTarget } from '../storage-target.ts';
import { type Db, openStoreInBackground, type Sqlite, storageReadiness } from './client.ts';
import type { PgOpenOptions } from './pg/client.ts';
import { pgPoolOf, sqliteOf } from './transaction.ts';

export type Readiness = { ready: boolean; detail: string };

export type Storage = {
  kind: StorageTarget['kind'];
  db: Db;
  sqlite: Sqlite;
  /** The PostgreSQL pool (for the writers that use node-postgres directly), else undefined. */
  pool: pg.Pool | undefined;
  readiness(): Promise<Readiness>;
  close(): Promise<void>;
};

export type OpenStorageOptions = {
  /** Apply the committed migrations (default true; worker threads open a store already migrated). */
  migrate?: boolean;
  /** SQLite: whether this connection's commits checkpoint the WAL (client.ts). */
  checkpoints?: boolean;
  /** SQLite: this connection's page cache in MB (client.ts; default 16). */
  cacheMb?: number;
  progress?: (line: string) => void;
  /** PostgreSQL: connections this process's pool may open. */
  max?: PgOpenOptions['max'];
  /**
   * Called once the database is migrated and in place, before this connection is handed back: on
   * an existing SQLite file, before the call returns (serve's writer thread opens its own meanwhile).
   */
  onMigrated?: () => void;
};

export async function openStorage(target: StorageTarget, options: OpenStorageOptions = {}): Promise<Storage> {
  if (target.kind === 'postgres') {
    // Loaded only here: node-postgres and drizzle's driver for it are a large part of the code every
    // thread would otherwise compile at start, SQLite or not.
    const { openPgStore, pgStorageReadiness } = await import('./pg/client.ts');
    const store = await openPgStore(target.url, {
      ...(options.migrate !== undefined && { migrate: options.migrate }),
      ...(options.max !== undefined && { max: options.max }),
    });
    options.onMigrated?.();
    return {
      kind: 'postgres',
      db: store.db,
      sqlite: sqliteUnavailable(),
      pool: store.pool,
      readiness: () => pgStorageReadiness(store.pool),
      close: () => store.close(),
    };
  }
  const store = await openStoreInBackground(target.path, options.onMigrated, {
    ...(options.migrate !== undefined && { migrate: options.migrate }),
    ...(options.checkpoints !== undefined && { checkpoints: options.checkpoints }),
    ...(options.cacheMb !== undefined && { cacheMb: options.cacheMb }),
    ...(options.progress && { progress: options.progress }),
  });
  return {
    kind: 'sqlite',
    db: store.db,
    sqlite: store.sqlite,
    pool: undefined,
    readiness: async () => storageReadiness(store.sqlite),
    close: async () => store.close(),
  };
}

/** Ready to serve: the store answers and every committed migration is applied. */
export async function readinessOf(db: Db): Promise<Readiness> {
  const pool = pgPoolOf(db);
  if (!pool) return storageReadiness(sqliteOf(db));
  const { pgStorageReadiness } = await import('./pg/client.ts');
  return pgStorageReadiness(pool);
}

/** The raw SQLite connection on PostgreSQL: any use names itself (see the module comment). */
export function sqliteUnavailable(): Sqlite {
  return new Proxy({} as Sqlite, {
    get(_target, property) {
      if (property === 'then') return undefined;
      throw new Error(
        `deps.sqlite.${String(property)} used with PostgreSQL storage: this query is not written for both stores yet.`,
      );
    },
  });
}
