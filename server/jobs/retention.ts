/**
 * Retention: drops minute buckets and raw events past their age, hourly buckets later, daily
 * never; the per-bucket totals and the key networks seen go with them, so the file stays bounded.
 * Deletes in small chunks so the gateway and ingest never wait long on the write lock.
 */
import { DAY } from '../clock.ts';
import { statement } from '../db/statements.ts';
import type { Deps } from '../deps.ts';

const CHUNK = 5_000;
/** Free pages returned to the disk per run: 64 MB of 4 KB pages. */
const VACUUM_PAGES_PER_RUN = 16_384;

/** `row` names the rows to delete in a chunk: bucket tables have no rowid (WITHOUT ROWID). */
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
  { table: 'usage_events', row: 'rowid', column: 'ts', days: (d: Deps) => d.config.retentionDays.events },
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

export function applyRetention(deps: Deps): Record<string, number> {
  const deleted: Record<string, number> = {};
  for (const t of TARGETS) {
    const cutoff = deps.clock.now() - t.days(deps) * DAY;
    const stmt = statement(
      deps.sqlite,
      `DELETE FROM ${t.table} WHERE ${t.row} IN (SELECT ${columnsOf(t.row)} FROM ${t.table} WHERE ${t.column} < ? LIMIT ${CHUNK})`,
    );
    let total = 0;
    for (let changes = CHUNK; changes === CHUNK; ) {
      changes = stmt.run(cutoff).changes;
      total += changes;
    }
    deleted[t.table] = total;
  }
  if (Object.values(deleted).some((n) => n > 0)) {
    deps.log.info('retention applied', deleted);
    deps.sqlite.pragma('optimize');
  }
  // The file stays bounded: freed pages go back to the disk (incremental auto-vacuum, set by
  // migration 0011), a bounded number per run so the write lock is never held for long.
  deps.sqlite.pragma(`incremental_vacuum(${VACUUM_PAGES_PER_RUN})`);
  return deleted;
}

export const retentionJob = (deps: Deps) => ({
  name: 'retention',
  everyMs: 6 * 60 * 60_000,
  run: () => void applyRetention(deps),
});
