/**
 * Data moves a migration starts and this finishes, right after the migrations run: SQL alone can
 * neither check free disk first nor say how far a copy of a gigabyte has got. Each task is one
 * transaction that also deletes its row from `migration_tasks`, so a crash rolls the task back and
 * the next start runs it again. Today's tasks (migration 0004): copy each rowid bucket table into
 * its WITHOUT ROWID replacement and fill its totals (and, from the days, the month rollup and the
 * per-key day and month sums of migration 0007 and the per-operation day sums of 0009), and fill
 * `key_networks` from raw events. Migration 0008: fill `key_clients` (who called each key, per day)
 * from raw events. Migrations 0011 and 0013 (and 0015): compact the file, and return free pages to
 * the disk.
 */
import { statfsSync } from 'node:fs';
import { dirname } from 'node:path';
import { subjectNetwork } from '../network.ts';
import type { Sqlite } from './client.ts';

export type Progress = (line: string) => void;

const BUCKET_COLUMNS = 'key_id, bucket, operation, credits, requests, errors, auth_failures';
const SUMS =
  'sum(credits) AS credits, sum(requests) AS requests, sum(errors) AS errors, sum(auth_failures) AS auth_failures';
/** Keys copied per statement: small enough to report progress every few seconds on a big table. */
const KEYS_PER_CHUNK = 50;
const DAY_MS = 86_400_000;

export class MigrationSpaceError extends Error {}

export function pendingMigrationTasks(sqlite: Sqlite): { name: string; source: string }[] {
  const exists = sqlite
    .prepare(`SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'migration_tasks'`)
    .get();
  if (!exists) return [];
  // In the order the migrations queued them: compacting the file comes after the copies.
  return sqlite.prepare('SELECT name, source FROM migration_tasks ORDER BY rowid').all() as {
    name: string;
    source: string;
  }[];
}

/** Bytes a table and its indexes take (dbstat when compiled in, else the whole file as a bound). */
function tableBytes(sqlite: Sqlite, table: string): number {
  try {
    const row = sqlite
      .prepare(
        'SELECT sum(pgsize) AS n FROM dbstat WHERE name = ? OR name IN (SELECT name FROM sqlite_master WHERE tbl_name = ?)',
      )
      .get(table, table) as { n: number | null };
    return row.n ?? 0;
  } catch {
    return (
      (sqlite.pragma('page_count', { simple: true }) as number) *
      (sqlite.pragma('page_size', { simple: true }) as number)
    );
  }
}

/** Bytes of the pages in use (the file less its free pages): what a VACUUM writes again. */
function usedBytes(sqlite: Sqlite): number {
  const pages =
    (sqlite.pragma('page_count', { simple: true }) as number) -
    (sqlite.pragma('freelist_count', { simple: true }) as number);
  return pages * (sqlite.pragma('page_size', { simple: true }) as number);
}

/**
 * Migration 0010: the file is rewritten without the pages the copies above left free, and switched
 * to incremental auto-vacuum so retention can hand freed pages back to the disk from then on.
 * VACUUM cannot run inside a transaction, but it is atomic itself: a crash leaves the task queued.
 */
function compact(sqlite: Sqlite, say: Progress): void {
  const fileBytes = () =>
    (sqlite.pragma('page_count', { simple: true }) as number) *
    (sqlite.pragma('page_size', { simple: true }) as number);
  const before = fileBytes();
  const started = Date.now();
  say(
    `compacting the database: ${mb(before)}, ${mb(before - usedBytes(sqlite))} of it free pages (no progress until done)`,
  );
  // A database created in incremental mode (openStore, for a new file) has no mode to switch, and
  // reclaim returns its free pages: no rewrite.
  if ((sqlite.pragma('auto_vacuum', { simple: true }) as number) !== 2) {
    sqlite.pragma('auto_vacuum = INCREMENTAL');
    sqlite.exec('VACUUM');
  }
  sqlite.prepare(`DELETE FROM migration_tasks WHERE name = 'compact'`).run();
  say(`compacting the database: ${mb(fileBytes())} after ${((Date.now() - started) / 1000).toFixed(1)} s`);
}

/**
 * Migration 0013: the pages dropped indexes left free go back to the disk by incremental vacuum,
 * a step at a time so progress can be said (it moves pages within the file; no second copy). A file
 * not in incremental mode (auto_vacuum NONE: never compacted by 0011) has nothing to return this way.
 */
function reclaim(sqlite: Sqlite, say: Progress): void {
  const pageSize = sqlite.pragma('page_size', { simple: true }) as number;
  const free = () => sqlite.pragma('freelist_count', { simple: true }) as number;
  const incremental = (sqlite.pragma('auto_vacuum', { simple: true }) as number) === 2;
  const started = Date.now();
  const total = free();
  if (incremental && total > 0) {
    say(`returning free pages to the disk: ${mb(total * pageSize)}`);
    let reported = Date.now();
    for (let left = total; left > 0; ) {
      sqlite.pragma(`incremental_vacuum(${RECLAIM_PAGES_PER_STEP})`);
      const now = free();
      if (now >= left) break;
      left = now;
      if (Date.now() - reported > 2_000) {
        say(`returning free pages to the disk: ${Math.round((100 * (total - left)) / total)}%`);
        reported = Date.now();
      }
    }
    say(
      `returning free pages to the disk: ${mb(total * pageSize)} in ${((Date.now() - started) / 1000).toFixed(1)} s`,
    );
  }
  sqlite.prepare(`DELETE FROM migration_tasks WHERE name = 'reclaim'`).run();
}
/** 16 MB of 4 KB pages per step: a progress line every few seconds on a slow disk. */
const RECLAIM_PAGES_PER_STEP = 4_096;

// Grouped by hand: toLocaleString would load ICU's data (tens of milliseconds) on every start.
const mb = (n: number) => `${String(Math.ceil(n / 1e6)).replace(/\B(?=(\d{3})+$)/g, ',')} MB`;

export function runMigrationTasks(sqlite: Sqlite, path: string, progress: Progress): void {
  // A task whose source table is empty (every task of a new database) has nothing to move and
  // nothing to say: its table is not measured (dbstat reads every page of the file).
  const tasks = pendingMigrationTasks(sqlite).map((t) => ({
    ...t,
    quiet: !sqlite.prepare(`SELECT 1 FROM ${t.source} LIMIT 1`).get(),
  }));
  if (tasks.length === 0) return;
  // The copy is written beside the old table, and the write-ahead log holds it until checkpoint.
  const need =
    2 *
    tasks.reduce(
      (s, t) =>
        // Reclaiming moves pages within the file: only the write-ahead log grows, by what it moves.
        s +
        (t.name === 'compact'
          ? usedBytes(sqlite)
          : t.name === 'reclaim' || t.quiet
            ? 0
            : tableBytes(sqlite, t.source)),
      0,
    );
  if (path !== ':memory:' && need > 0) {
    const fs = statfsSync(dirname(path));
    const free = fs.bavail * fs.bsize;
    if (free < need) {
      throw new MigrationSpaceError(
        `Upgrading the usage tables of ${path} needs about ${mb(need)} free on its disk and only ${mb(free)} is: free some space and start again (nothing was changed).`,
      );
    }
  }
  let moved = false;
  for (const task of tasks) {
    const started = Date.now();
    moved ||= !task.quiet;
    const say = task.quiet ? () => {} : progress;
    if (task.name === 'compact') {
      compact(sqlite, say);
      continue;
    }
    if (task.name === 'reclaim') {
      reclaim(sqlite, say);
      continue;
    }
    if (!task.quiet)
      say(`migrating ${task.name}: starting (${mb(tableBytes(sqlite, task.source))} to rewrite)`);
    sqlite.transaction(() => {
      if (task.name === 'key_networks') fillKeyNetworks(sqlite);
      else if (task.name === 'key_clients') fillKeyClients(sqlite, say);
      else copyBucketTable(sqlite, task.name, task.source, say);
      sqlite.prepare('DELETE FROM migration_tasks WHERE name = ?').run(task.name);
    })();
    say(`migrating ${task.name}: done in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  }
  // The copies' pages leave the write-ahead log now. Nothing moved (a new database): its few pages
  // wait for the usual checkpoints, and a start does not wait for an fsync.
  if (moved) sqlite.pragma('wal_checkpoint(TRUNCATE)');
}

function copyBucketTable(sqlite: Sqlite, table: string, source: string, progress: Progress): void {
  const keys = sqlite
    .prepare(`SELECT DISTINCT key_id FROM ${source} ORDER BY key_id`)
    .pluck()
    .all() as string[];
  const copy = sqlite.prepare(
    `INSERT INTO ${table} (${BUCKET_COLUMNS}) SELECT ${BUCKET_COLUMNS} FROM ${source}
       WHERE key_id >= ? AND key_id <= ? ORDER BY key_id, bucket, operation`,
  );
  let reported = Date.now();
  for (let i = 0; i < keys.length; i += KEYS_PER_CHUNK) {
    const chunk = keys.slice(i, i + KEYS_PER_CHUNK);
    copy.run(chunk[0], chunk[chunk.length - 1]);
    if (Date.now() - reported > 2_000) {
      progress(`migrating ${table}: ${Math.round((100 * (i + chunk.length)) / keys.length)}% of keys copied`);
      reported = Date.now();
    }
  }
  sqlite.exec(
    `INSERT INTO ${table}_total (bucket, credits, requests, errors, auth_failures)
       SELECT bucket, ${SUMS} FROM ${table} GROUP BY bucket`,
  );
  if (table === 'usage_day') {
    // Months are whole UTC days: the month rollup is exactly the day rows summed by month.
    sqlite.exec(
      `INSERT INTO usage_month (${BUCKET_COLUMNS})
         SELECT key_id, CAST(strftime('%s', bucket / 1000, 'unixepoch', 'start of month') AS INTEGER) * 1000 AS month,
           operation, ${SUMS} FROM usage_day GROUP BY key_id, month, operation`,
    );
    // Migrations 0007 and 0009 filled the per-key and per-operation sums from the tables as they were then: still empty
    // when this copy was pending, so they are filled here from the rows just copied.
    for (const [keyTable, from] of [
      ['usage_key_day', 'usage_day'],
      ['usage_key_month', 'usage_month'],
    ]) {
      sqlite.exec(
        `INSERT INTO ${keyTable} (key_id, bucket, credits, requests, errors, auth_failures)
           SELECT key_id, bucket, ${SUMS} FROM ${from} GROUP BY key_id, bucket`,
      );
      sqlite.exec(`ANALYZE ${keyTable}`);
    }
    sqlite.exec(
      `INSERT INTO usage_operation_day (operation, bucket, credits, requests, errors, auth_failures)
         SELECT operation, bucket, ${SUMS} FROM usage_day GROUP BY operation, bucket`,
    );
  }
  sqlite.exec(`DROP TABLE ${source}`);
}

function fillKeyNetworks(sqlite: Sqlite): void {
  const rows = sqlite
    .prepare(
      `SELECT key_id, source_ip, min(ts) AS first, max(ts) AS last, sum(requests) AS requests
         FROM usage_events WHERE source_ip IS NOT NULL GROUP BY key_id, source_ip`,
    )
    .all() as { key_id: string; source_ip: string; first: number; last: number; requests: number }[];
  const upsert = sqlite.prepare(
    `INSERT INTO key_networks (key_id, network, first_seen_at, last_seen_at, requests) VALUES (?, ?, ?, ?, ?)
     ON CONFLICT (key_id, network) DO UPDATE SET first_seen_at = min(first_seen_at, excluded.first_seen_at),
       last_seen_at = max(last_seen_at, excluded.last_seen_at), requests = requests + excluded.requests`,
  );
  for (const r of rows) upsert.run(r.key_id, subjectNetwork(r.source_ip), r.first, r.last, r.requests);
}

/** Each key's callers per UTC day, from its raw events: a few keys per statement, with progress. */
function fillKeyClients(sqlite: Sqlite, progress: Progress): void {
  // Every event's key is a row of keys (a foreign key): the ids in order, without reading events.
  const keys = sqlite.prepare('SELECT id FROM keys ORDER BY id').pluck().all() as string[];
  const fill = (kind: 'ip' | 'ua', column: 'source_ip' | 'user_agent') =>
    sqlite.prepare(
      `INSERT INTO key_clients (key_id, day, kind, value, requests, credits, last_seen_at)
         SELECT key_id, (ts / ${DAY_MS}) * ${DAY_MS} AS day, '${kind}', coalesce(${column}, '') AS value,
           sum(requests), sum(credits), max(ts)
         FROM usage_events WHERE key_id >= ? AND key_id <= ? GROUP BY key_id, day, value`,
    );
  const statements = [fill('ip', 'source_ip'), fill('ua', 'user_agent')];
  let reported = Date.now();
  for (let i = 0; i < keys.length; i += KEYS_PER_CHUNK) {
    const chunk = keys.slice(i, i + KEYS_PER_CHUNK);
    for (const st of statements) st.run(chunk[0], chunk[chunk.length - 1]);
    if (Date.now() - reported > 2_000) {
      progress(
        `migrating key_clients: ${Math.round((100 * (i + chunk.length)) / keys.length)}% of keys done`,
      );
      reported = Date.now();
    }
  }
}
