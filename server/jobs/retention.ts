/**
 * Retention: drops minute buckets and raw events past their age, hourly buckets later, daily
 * never; the per-bucket totals and the key networks seen go with them, and provider projects once
 * no final credits can still come for them, so the file stays bounded.
 * Deletes in small chunks so the gateway and ingest never wait long on the write lock.
 */
import { type SQL, sql } from 'drizzle-orm';
import { DAY } from '../clock.ts';
import { dialectOf, execute, rows, sqliteOf, transaction } from '../db/transaction.ts';
import type { Deps } from '../deps.ts';
import { createTaskWorker } from '../http/task-worker.ts';
import { foldAllUsage, foldPosition, settleUsage } from '../usage/fold-usage.ts';

const CHUNK = 5_000;
/** Free pages returned to the disk per statement: 64 MB of 4 KB pages. */
const VACUUM_PAGES_PER_STEP = 16_384;

/**
 * `row` names the rows to delete in a chunk: bucket tables have no rowid (WITHOUT ROWID), and on
 * PostgreSQL none has one, so `pgRow` names the events by their primary key there.
 */
const TARGETS = [
  {
    table: 'usage_minute_total',
    row: 'bucket',
    column: 'bucket',
    days: (d: Deps) => d.config.retentionDays.minute,
  },
  {
    table: 'usage_events',
    row: 'rowid',
    pgRow: '(source, event_id)',
    column: 'ts',
    days: (d: Deps) => d.config.retentionDays.events,
  },
  {
    table: 'key_networks',
    row: '(key_id, network)',
    column: 'last_seen_at',
    days: (d: Deps) => d.config.retentionDays.events,
  },
  {
    // Days of callers go with the raw events they summarise (no day index: a small table, scanned).
    table: 'key_clients',
    row: '(key_id, day, kind, value)',
    column: 'day',
    days: (d: Deps) => d.config.retentionDays.events,
  },
  {
    table: 'usage_hour_total',
    row: 'bucket',
    column: 'bucket',
    days: (d: Deps) => d.config.retentionDays.hour,
  },
  {
    // Projects only wait for their final credits (completion webhook or GET project).
    table: 'projects',
    row: 'rowid',
    pgRow: 'id',
    column: 'created_at',
    days: (d: Deps) => d.config.retentionDays.projects,
  },
] as const;

/**
 * Bucket tables keyed (key_id, bucket, operation) with no index on bucket alone (migration 0012):
 * their old rows are deleted key by key, each a range at the start of that key's primary key.
 */
const PER_KEY_TARGETS = [
  { table: 'usage_minute', days: (d: Deps) => d.config.retentionDays.minute },
  { table: 'usage_hour', days: (d: Deps) => d.config.retentionDays.hour },
] as const;

const columnsOf = (row: string) => row.replace(/[()]/g, '');

/** One chunk's DELETE of a target (table and column names are the constants above, never input). */
function deleteChunk(
  t: (typeof TARGETS)[number],
  dialect: ReturnType<typeof dialectOf>,
  cutoff: number,
): SQL {
  const row = dialect === 'postgres' && 'pgRow' in t ? t.pgRow : t.row;
  return sql`DELETE FROM ${sql.raw(t.table)} WHERE ${sql.raw(row)} IN
    (SELECT ${sql.raw(columnsOf(row))} FROM ${sql.raw(t.table)} WHERE ${sql.raw(t.column)} < ${cutoff} LIMIT ${sql.raw(String(CHUNK))})`;
}

/** One chunk of one key's old buckets (the table name is a constant above, never input). */
const deleteKeyChunk = (table: string, keyId: string, cutoff: number) =>
  sql`DELETE FROM ${sql.raw(table)} WHERE (key_id, bucket, operation) IN
    (SELECT key_id, bucket, operation FROM ${sql.raw(table)} WHERE key_id = ${keyId} AND bucket < ${cutoff}
     LIMIT ${sql.raw(String(CHUNK))})`;

export async function applyRetention(deps: Deps): Promise<Record<string, number>> {
  const dialect = dialectOf(deps.db);
  const deleted: Record<string, number> = {};
  // Pushed usage folded first, so the buckets its old events make are judged by this pass too.
  await settleUsage(deps.db);
  const keyIds = (await rows<{ id: string }>(deps.db, sql`SELECT id FROM keys`)).map((k) => k.id);
  for (const t of PER_KEY_TARGETS) {
    const cutoff = deps.clock.now() - t.days(deps) * DAY;
    let total = 0;
    for (const keyId of keyIds) {
      for (let changes = CHUNK; changes === CHUNK; ) {
        changes = await execute(deps.db, deleteKeyChunk(t.table, keyId, cutoff));
        total += changes;
      }
    }
    deleted[t.table] = total;
  }
  for (const t of TARGETS) {
    const cutoff = deps.clock.now() - t.days(deps) * DAY;
    let total = 0;
    for (let changes = CHUNK; changes === CHUNK; ) {
      changes =
        t.table === 'usage_events' && dialect === 'sqlite'
          ? await deleteFoldedEvents(deps, deleteChunk(t, dialect, cutoff))
          : await execute(deps.db, deleteChunk(t, dialect, cutoff));
      total += changes;
    }
    deleted[t.table] = total;
  }
  const any = Object.values(deleted).some((n) => n > 0);
  if (any) deps.log.info('retention applied', deleted);
  // SQLite's own maintenance; PostgreSQL's autovacuum and autoanalyze do the same on their own.
  if (dialect === 'sqlite') {
    if (any) deps.sqlite.pragma('optimize');
    await returnFreePages(deps);
  }
  return deleted;
}

/**
 * Raw events leave only once folded into the rollups (usage/fold-usage.ts): what a push left
 * pending is folded in the same transaction as the delete, never lost with its events. The delete
 * may take the table's last rows: foldPosition brings the mark back so their rowids, handed out
 * again, are folded.
 */
function deleteFoldedEvents(deps: Deps, chunk: SQL): Promise<number> {
  return transaction(deps.db, async (tx) => {
    foldAllUsage(sqliteOf(tx));
    const changes = await execute(tx, chunk);
    foldPosition(sqliteOf(tx));
    return changes;
  });
}

/**
 * The file stays bounded: every free page goes back to the disk (incremental auto-vacuum, set by
 * migration 0011), a bounded number per statement with the event loop free between them, so the
 * write lock is never held for long and a big first pass (an upgrade's dropped indexes, a
 * shortened retention) shrinks the file in the same run instead of 64 MB every six hours.
 */
async function returnFreePages(deps: Deps): Promise<void> {
  const free = () => deps.sqlite.pragma('freelist_count', { simple: true }) as number;
  for (let left = free(); left > 0; ) {
    deps.sqlite.pragma(`incremental_vacuum(${VACUUM_PAGES_PER_STEP})`);
    const now = free();
    // Not an incremental-vacuum file (auto_vacuum NONE): nothing to return this way.
    if (now >= left) break;
    left = now;
    await new Promise((r) => setImmediate(r));
  }
}

export const retentionTasks = { apply: (deps: Deps) => applyRetention(deps) };

/** Every six hours, on its own worker thread and connection (retention-worker.ts). */
export function retentionJob(deps: Deps) {
  // Started on the first run; idle, it does not keep the process alive.
  const worker = createTaskWorker(deps, new URL('./retention-worker.ts', import.meta.url), retentionTasks);
  return {
    name: 'retention',
    everyMs: 6 * 60 * 60_000,
    run: async () => {
      await worker.run('apply', undefined);
    },
    close: () => worker.close(),
  };
}
