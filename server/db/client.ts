/**
 * Opens the SQLite database (WAL), applies the committed migrations, and hands out drizzle.
 *
 * The SQL rule: entity tables (keys, incidents, budgets, users, tokens, rules, audit, outbox) are
 * read and written through drizzle's builders, awaited, so the same code runs on PostgreSQL
 * (storage.ts). Raw SQL is for where speed needs it — usage buckets and rollups, detection chunks,
 * big aggregate reads — always in a query module (never in a route handler), written once for both
 * stores through `rows`/`execute` (transaction.ts; prepared once per SQLite connection). Raw
 * better-sqlite3 statements remain only on SQLite-only paths: the ingest writer of record-events.ts
 * (PostgreSQL has its own, record-events-pg.ts), migration tasks and demo seeding.
 */
import {
  chmodSync,
  closeSync,
  copyFileSync,
  existsSync,
  fsync,
  fsyncSync,
  linkSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
} from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import Database from 'better-sqlite3';
import { type BetterSQLite3Database, drizzle } from 'drizzle-orm/better-sqlite3';
import { migrate } from 'drizzle-orm/better-sqlite3/migrator';
import { readMigrationFiles } from 'drizzle-orm/migrator';
import { rootPath } from '../paths.ts';
import { runMigrationTasks } from './migration-tasks.ts';
import * as schema from './schema/index.ts';

export type Db = BetterSQLite3Database<typeof schema>;
export type Sqlite = Database.Database;
/**
 * A transaction handle (transaction.ts): the same query surface as Db. On SQLite it is the
 * connection itself inside BEGIN…COMMIT; on PostgreSQL, drizzle's transaction.
 */
export type Tx = Db;
/** Anything that can run queries: the database or an open transaction. */
export type Queryable = Db;
export type Store = { db: Db; sqlite: Sqlite; close(): void };

// From the root, not this module: the compiled build runs from another folder than the sources.
export const MIGRATIONS_DIR = rootPath('migrations');

/**
 * The database holds password, session and token hashes: owner-only, whatever the umask. SQLite
 * gives its -wal and -shm files the database file's mode, and they are chmodded too.
 */
export function restrictToOwner(path: string): void {
  for (const file of databaseFiles(path)) {
    try {
      if (existsSync(file)) chmodSync(file, 0o600);
    } catch {
      // Not our file (another user's database we may only use): leave its mode as its owner set it.
    }
  }
}

/** A database's file and the two SQLite keeps beside it in WAL mode. */
const databaseFiles = (path: string) => [path, `${path}-wal`, `${path}-shm`];

const removeDatabaseFiles = (path: string) => {
  for (const file of databaseFiles(path)) rmSync(file, { force: true });
};

/**
 * A new database is made and migrated under a temporary name, then linked into place: one fsync
 * instead of about ten (each mode switch and commit otherwise syncs the journal, the file and its
 * folder: 20–80 ms of a start on an ordinary disk, issue 14). Nothing in it is anyone's data until
 * it is linked, so it is written unsynced; a crash meanwhile leaves a stray temporary file (the
 * next start removes it), not a half-made database. Two processes making the same database at once
 * both end up on the one linked first: link, unlike rename, fails when the path exists.
 */
function createMigrated(
  path: string,
  progress: (line: string) => void,
  template: string | null = DATABASE_TEMPLATE,
): boolean {
  const temporary = `${temporaryPrefix(path)}${process.pid}`;
  try {
    writeMigrated(temporary, progress, template);
    const fd = openSync(temporary, 'r+');
    try {
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    return publish(temporary, path);
  } finally {
    removeDatabaseFiles(temporary);
  }
}

/**
 * createMigrated with its fsync on the thread pool (openStoreInBackground): on an ordinary disk the
 * sync is 2–40 ms of a first start, in which the caller's thread can do other work.
 */
async function createMigratedInBackground(path: string, progress: (line: string) => void): Promise<boolean> {
  const temporary = `${temporaryPrefix(path)}${process.pid}`;
  try {
    writeMigrated(temporary, progress, DATABASE_TEMPLATE);
    // Opened here and synced at once: an awaited open would start the sync only after the caller's
    // work, which is what it is meant to overlap.
    const fd = openSync(temporary, 'r+');
    try {
      await new Promise<void>((done, fail) => fsync(fd, (err) => (err ? fail(err) : done())));
    } finally {
      closeSync(fd);
    }
    return publish(temporary, path);
  } finally {
    removeDatabaseFiles(temporary);
  }
}

/** The template's copy (or a new file) under the temporary name, migrated and closed, not yet synced. */
function writeMigrated(temporary: string, progress: (line: string) => void, template: string | null): void {
  const copy = template === null ? null : openTemplateCopy(template, temporary);
  const sqlite = copy?.sqlite ?? openNewDatabase(temporary);
  try {
    // A copy holding every migration of ours has nothing to apply: not even the files to read.
    if (!copy?.complete) migrate(drizzle(sqlite, { schema }), { migrationsFolder: MIGRATIONS_DIR });
    runMigrationTasks(sqlite, temporary, progress);
  } finally {
    // The last connection's close checkpoints the WAL into the file and deletes it.
    sqlite.close();
  }
}

/** Links the synced temporary file in at `path`: false when another process made it first. */
function publish(temporary: string, path: string): boolean {
  try {
    linkSync(temporary, path);
    return true;
  } catch (e) {
    // EEXIST: another process made it first, and that one is used (and migrated as usual). A
    // file system without hard links: renamed instead, unless one appeared meanwhile.
    if ((e as NodeJS.ErrnoException).code === 'EEXIST' || existsSync(path)) return false;
    renameSync(temporary, path);
    return true;
  }
}

const temporaryPrefix = (path: string) => `${path}.new-`;

/**
 * The temporary databases (`<path>.new-<pid>` and its -wal/-shm) that a process killed while making
 * this database left behind: each is removed once its process is gone. A live process's is its
 * own business (it may be making the database right now); a pid reused since is left too, and
 * goes on a later start.
 */
export function removeStrayTemporaries(path: string): void {
  const prefix = basename(temporaryPrefix(path));
  let names: string[];
  try {
    names = readdirSync(dirname(path));
  } catch {
    return;
  }
  for (const name of names) {
    if (!name.startsWith(prefix)) continue;
    const pid = /^(\d+)(-wal|-shm)?$/.exec(name.slice(prefix.length))?.[1];
    if (pid === undefined || isRunning(Number(pid))) continue;
    rmSync(join(dirname(path), name), { force: true });
  }
}

/** Whether a process with this id exists (EPERM: it does, another user's). */
function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * An empty database with every migration applied, made by the build (server/build.mjs calls
 * makeDatabaseTemplate): a new database starts as a copy of it instead of running every migration
 * (about 40 ms of a first start). The copy is used only when the migrations it holds are the first
 * of this checkout's, hash for hash, so a build made on another branch is ignored; migrations added
 * since the build apply to the copy as usual.
 */
export const DATABASE_TEMPLATE = rootPath('server', '.build', 'empty.db');

/** Writes the template to `path` (the build's folder), made as a new database is made without one. */
export function makeDatabaseTemplate(path: string): void {
  rmSync(path, { force: true });
  createMigrated(path, () => {}, null);
}

/** A connection to a file no one else uses yet (createMigrated): unsynced, foreign keys on. */
function openUnsynced(file: string): Sqlite {
  const sqlite = new Database(file);
  sqlite.pragma('synchronous = OFF');
  sqlite.pragma('foreign_keys = ON');
  return sqlite;
}

/** An empty owner-only file, in the modes of a new database, before its first table. */
function openNewDatabase(file: string): Sqlite {
  closeSync(openSync(file, 'w', 0o600));
  const sqlite = openUnsynced(file);
  sqlite.pragma('auto_vacuum = INCREMENTAL');
  sqlite.pragma('journal_mode = WAL');
  return sqlite;
}

/**
 * The template copied to `to` (owner-only; both modes live in the file) and opened, with whether it
 * holds every migration of ours; null, leaving nothing, when it is missing or not ours.
 */
function openTemplateCopy(template: string, to: string): { sqlite: Sqlite; complete: boolean } | null {
  let sqlite: Sqlite | undefined;
  try {
    copyFileSync(template, to);
    chmodSync(to, 0o600);
    sqlite = openUnsynced(to);
    const applied = sqlite
      .prepare('SELECT hash FROM __drizzle_migrations ORDER BY id')
      .pluck()
      .all() as string[];
    const ours = readMigrationFiles({ migrationsFolder: MIGRATIONS_DIR });
    if (applied.length <= ours.length && applied.every((hash, i) => hash === ours[i]!.hash))
      return { sqlite, complete: applied.length === ours.length };
  } catch {
    // No template (a run from the sources before any build) or an unreadable one.
  }
  sqlite?.close();
  removeDatabaseFiles(to);
  return null;
}

/** A migration's progress lines, on stderr unless the caller takes them. */
const printProgress = (line: string) => process.stderr.write(`${line}\n`);

type OpenStoreOptions = {
  migrate?: boolean;
  progress?: (line: string) => void;
  /**
   * false: this connection's commits never copy the WAL back into the database (checkpoint). The
   * serving thread opens it so: a small commit there could otherwise spend 100 ms copying the
   * megabytes a worker wrote, with the gateway's event loop blocked. The gateway's writer thread
   * checkpoints instead (usage-writer-thread.ts), as do the other connections' own commits.
   */
  checkpoints?: boolean;
  /** SQLite's page cache of this connection in MB (default 16). */
  cacheMb?: number;
  /** The database a new file is copied from (default DATABASE_TEMPLATE); null: migrate from nothing. */
  template?: string | null;
  /** The file was just made migrated (openStoreInBackground): nothing to apply or check. */
  migrated?: boolean;
};

export function openStore(path: string, options: OpenStoreOptions = {}): Store {
  const progress = options.progress ?? printProgress;
  let created = path !== ':memory:' && !existsSync(path);
  /** Made migrated (createMigrated): nothing left to apply. */
  let migrated = options.migrated ?? false;
  if (path !== ':memory:') {
    mkdirSync(dirname(path), { recursive: true });
    // A file openStoreInBackground just made migrated had its strays removed there.
    if (options.migrate !== false && !migrated) {
      removeStrayTemporaries(path);
      if (created) {
        migrated = createMigrated(
          path,
          progress,
          options.template === undefined ? DATABASE_TEMPLATE : options.template,
        );
        created = false;
      }
    }
    // Created owner-only before SQLite sees it (an empty file is an empty database).
    if (created) closeSync(openSync(path, 'a', 0o600));
    restrictToOwner(path);
  }
  const sqlite = new Database(path);
  // Before its first table: the mode migration 0011 switches older files to with a VACUUM.
  if (created) sqlite.pragma('auto_vacuum = INCREMENTAL');
  sqlite.pragma('journal_mode = WAL');
  // NORMAL is durable across application crashes in WAL mode; only an OS crash can lose the last commits.
  sqlite.pragma('synchronous = NORMAL');
  sqlite.pragma('foreign_keys = ON');
  sqlite.pragma('busy_timeout = 5000');
  // 16 MB per connection, and there is one per thread (serving, usage writer, detection, task
  // workers): pages beyond it are re-read from the kernel's file cache, which costs a syscall, not
  // the process's memory (issue 14's RSS goal counts every thread).
  sqlite.pragma(`cache_size = -${(options.cacheMb ?? 16) * 1024}`);
  if (options.checkpoints === false) sqlite.pragma('wal_autocheckpoint = 0');
  const db = drizzle(sqlite, { schema });
  if (options.migrate !== false && !migrated) {
    migrate(db, { migrationsFolder: MIGRATIONS_DIR });
    runMigrationTasks(sqlite, path, progress);
  }
  if (path !== ':memory:') restrictToOwner(path);
  return {
    db,
    sqlite,
    close() {
      if (!sqlite.open) return;
      try {
        sqlite.pragma('optimize');
      } finally {
        sqlite.close();
      }
    },
  };
}

/**
 * openStore for a caller with other work to do meanwhile (a server start loads its code): a new
 * database's one fsync runs on the thread pool, and the caller's work queued before this call runs
 * while it does. An existing database opens as with openStore, and `onMigrated` is called before
 * this returns, ahead of the caller's queued work; for a new one, once it is linked in place.
 */
export async function openStoreInBackground(
  path: string,
  onMigrated: (() => void) | undefined,
  options: OpenStoreOptions = {},
): Promise<Store> {
  if (
    path === ':memory:' ||
    options.migrate === false ||
    options.template !== undefined ||
    existsSync(path)
  ) {
    const store = openStore(path, options);
    onMigrated?.();
    return store;
  }
  mkdirSync(dirname(path), { recursive: true });
  removeStrayTemporaries(path);
  const migrated = await createMigratedInBackground(path, options.progress ?? printProgress);
  onMigrated?.();
  return openStore(path, { ...options, migrated });
}

/**
 * Ready to serve: the database answers and every committed migration is applied (a process started
 * against a database another, newer release migrated, or one still migrating, is not ready).
 */
export function storageReadiness(sqlite: Sqlite): { ready: boolean; detail: string } {
  try {
    const journal = JSON.parse(readFileSync(resolve(MIGRATIONS_DIR, 'meta/_journal.json'), 'utf8')) as {
      entries: unknown[];
    };
    const applied = sqlite.prepare('SELECT count(*) AS n FROM __drizzle_migrations').get() as { n: number };
    return applied.n >= journal.entries.length
      ? { ready: true, detail: `storage reachable, ${applied.n} migrations applied` }
      : { ready: false, detail: `${applied.n} of ${journal.entries.length} migrations applied` };
  } catch (e) {
    return { ready: false, detail: `storage unreachable: ${(e as Error).message}` };
  }
}
