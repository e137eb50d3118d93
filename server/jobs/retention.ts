/**
 * Retention: drops minute buckets and raw events past their age, hourly buckets later, daily
 * never; the per-bucket totals and the key networks seen go with them, so the file stays bounded.
 * Deletes in small chunks so the gateway and ingest never wait long on the write lock.
 */
import { type SQL, sql } from 'drizzle-orm';
import { DAY } from '../clock.ts';
import { dialectOf, execute } from '../db/transaction.ts';
import type { Deps } from '../deps.ts';

const CHUNK = 5_000;
/** Free pages returned to the disk per run: 64 MB of 4 KB pages. */
const VACUUM_PAGES_PER_RUN = 16_384;

/**
 * `row` names the rows to delete in a chunk: bucket tables have no rowid (WITHOUT ROWID), and on
 * PostgreSQL none has one, so `pgRow` names the events by their primary key there.
 */
const TARGETS = [
  {
    table: 'usage_minute',
    row: '(key_id, bucket, operation)',
    column: 'bucket',
    days: (d: Deps) => d.config.retentionDays.minute,
  },
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
    table: 'usage_hour',
    row: '(key_id, bucket, operation)',
    column: 'bucket',
    days: (d: Deps) => d.config.retentionDays.hour,
  },
  {
    table: 'usage_hour_total',
    row: 'bucket',
    column: 'bucket',
    days: (d: Deps) => d.config.retentionDays.hour,
  },
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

export async function applyRetention(deps: Deps): Promise<Record<string, number>> {
  const dialect = dialectOf(deps.db);
  const deleted: Record<string, number> = {};
  for (const t of TARGETS) {
    const cutoff = deps.clock.now() - t.days(deps) * DAY;
    let total = 0;
    for (let changes = CHUNK; changes === CHUNK; ) {
      changes = await execute(deps.db, deleteChunk(t, dialect, cutoff));
      total += changes;
    }
    deleted[t.table] = total;
  }
  const any = Object.values(deleted).some((n) => n > 0);
  if (any) deps.log.info('retention applied', deleted);
  // SQLite's own maintenance; PostgreSQL's autovacuum and autoanalyze do the same on their own.
  if (dialect === 'sqlite') {
    if (any) deps.sqlite.pragma('optimize');
    // The file stays bounded: freed pages go back to the disk (incremental auto-vacuum, set by
    // migration 0011), a bounded number per run so the write lock is never held for long.
    deps.sqlite.pragma(`incremental_vacuum(${VACUUM_PAGES_PER_RUN})`);
  }
  return deleted;
}

export const retentionJob = (deps: Deps) => ({
  name: 'retention',
  everyMs: 6 * 60 * 60_000,
  run: async () => {
    await applyRetention(deps);
  },
});
