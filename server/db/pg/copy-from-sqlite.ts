/**
 * Copies a (migrated) SQLite database into an empty, migrated PostgreSQL database: every table of
 * the pg schema, parents before children, thousands of rows per INSERT (one array per column), all in ONE
 * PostgreSQL transaction that also verifies row counts and the credit and request sums before it
 * commits. A failure or a mismatch therefore leaves the target as empty as it was, and the copy can
 * simply be run again (it is not resumable half-way: it starts over). The SQLite side is read in
 * one read transaction, so a server writing meanwhile does not make the copy inconsistent.
 */

import { is } from 'drizzle-orm';
import { getTableConfig, type PgTable, PgTable as PgTableClass } from 'drizzle-orm/pg-core';
import type pg from 'pg';
import type { Sqlite } from '../client.ts';
import { CopyFailedError, CopyMismatchError, TargetNotEmptyError } from './copy-errors.ts';
import * as schema from './schema/index.ts';

const DEFAULT_BATCH_ROWS = 5_000;
/** Tables whose credits and requests are summed on both sides after the copy. */
const SUMMED = new Set([
  'usage_events',
  'usage_minute',
  'usage_hour',
  'usage_day',
  'usage_month',
  'usage_minute_total',
  'usage_hour_total',
  'usage_day_total',
  'usage_key_day',
  'usage_key_month',
  'usage_operation_day',
  'key_clients',
]);

type TableCopy = {
  name: string;
  columns: string[];
  /** Each column's PostgreSQL type, for the array it travels in. */
  types: string[];
  /** Columns stored 0/1 in SQLite and boolean in PostgreSQL. */
  booleans: Set<number>;
  identity: string | undefined;
};

export type CopyReport = {
  tables: { name: string; rows: number; ms: number }[];
  rows: number;
  ms: number;
  /** Per summed table: credits and requests, as verified on both sides. */
  sums: Record<string, { credits: number; requests: number }>;
};

/** Every pg table, each after the tables its foreign keys point at. */
export function tablesInDependencyOrder(): PgTable[] {
  const tables = (Object.values(schema) as unknown[]).filter((t): t is PgTable => is(t, PgTableClass));
  const ordered: PgTable[] = [];
  const placed = new Set<string>();
  const visit = (t: PgTable, path: string[]) => {
    const cfg = getTableConfig(t);
    if (placed.has(cfg.name)) return;
    if (path.includes(cfg.name))
      throw new Error(`Foreign keys form a cycle: ${[...path, cfg.name].join(' -> ')}.`);
    for (const fk of cfg.foreignKeys) {
      const parent = fk.reference().foreignTable;
      if (getTableConfig(parent).name !== cfg.name) visit(parent, [...path, cfg.name]);
    }
    placed.add(cfg.name);
    ordered.push(t);
  };
  for (const t of tables) visit(t, []);
  return ordered;
}

function describeTable(t: PgTable): TableCopy {
  const cfg = getTableConfig(t);
  return {
    name: cfg.name,
    columns: cfg.columns.map((c) => c.name),
    types: cfg.columns.map((c) => c.getSQLType()),
    booleans: new Set(cfg.columns.flatMap((c, i) => (c.columnType === 'PgBoolean' ? [i] : []))),
    identity: cfg.columns.find((c) => c.generatedIdentity !== undefined)?.name,
  };
}

const q = (name: string) => `"${name.replace(/"/g, '""')}"`;

/** The first table of `tables` that holds a row in PostgreSQL, or undefined when all are empty. */
export async function firstNonEmptyTable(
  client: pg.ClientBase,
  tables: string[],
): Promise<string | undefined> {
  for (const name of tables) {
    const r = await client.query(`SELECT 1 FROM ${q(name)} LIMIT 1`);
    if (r.rowCount) return name;
  }
  return undefined;
}

export async function copySqliteToPg(
  sqlite: Sqlite,
  pool: pg.Pool,
  options: {
    batchRows?: number;
    progress?: (line: string) => void;
    now?: () => number;
  } = {},
): Promise<CopyReport> {
  const now = options.now ?? (() => performance.now());
  const progress = options.progress ?? (() => {});
  const tables = tablesInDependencyOrder().map(describeTable);
  const started = now();
  const client = await pool.connect();
  sqlite.exec('BEGIN');
  try {
    await client.query('BEGIN');
    const occupied = await firstNonEmptyTable(
      client,
      tables.map((t) => t.name),
    );
    if (occupied) {
      throw new TargetNotEmptyError(
        `the target PostgreSQL database already holds Keywatch data (table ${occupied} has rows): migrate-storage copies into an empty database only, so point --to at a new one (createdb) or empty this one first.`,
      );
    }
    const report: CopyReport = { tables: [], rows: 0, ms: 0, sums: {} };
    for (const table of tables) {
      const tableStarted = now();
      const rows = await copyTable(sqlite, client, table, options.batchRows ?? DEFAULT_BATCH_ROWS).catch(
        (e) => {
          const detail = (e as { detail?: string }).detail;
          throw new CopyFailedError(
            `copying table ${table.name} failed, so nothing was committed: ${String((e as Error).message).replace(/\.$/, '')}${detail ? ` (${detail.replace(/\.$/, '')})` : ''}.`,
          );
        },
      );
      const ms = now() - tableStarted;
      report.tables.push({ name: table.name, rows, ms });
      report.rows += rows;
      if (rows > 0)
        progress(`copied ${table.name}: ${rows.toLocaleString('en-US')} rows in ${(ms / 1000).toFixed(1)} s`);
    }
    report.sums = await verify(sqlite, client, tables);
    await client.query('COMMIT');
    // Planner statistics now, not when autovacuum gets round to the new rows: without them a
    // freshly filled database chose plans that made the source-health reads take over a second.
    progress('analyzing the copied tables');
    await client.query('ANALYZE');
    report.ms = now() - started;
    return report;
  } catch (e) {
    await client.query('ROLLBACK').catch(() => {});
    throw e;
  } finally {
    client.release();
    sqlite.exec('COMMIT');
  }
}

/**
 * Rows go in as one array per column, unnested by PostgreSQL: a statement has as many parameters
 * as the table has columns, whatever the batch size, and the server parses a few long literals
 * instead of binding tens of thousands of parameters. jsonb travels as text[] and is cast per row.
 */
async function copyTable(
  sqlite: Sqlite,
  client: pg.ClientBase,
  table: TableCopy,
  batchRows: number,
): Promise<number> {
  const width = table.columns.length;
  const arrays = table.types.map((t, i) => `$${i + 1}::${t === 'jsonb' ? 'text' : t}[]`);
  const selects = table.columns.map((c, i) => (table.types[i] === 'jsonb' ? `${q(c)}::jsonb` : q(c)));
  const text = `INSERT INTO ${q(table.name)} (${table.columns.map(q).join(',')})
    SELECT ${selects.join(',')} FROM unnest(${arrays.join(',')}) AS r(${table.columns.map(q).join(',')})`;
  // Named: PostgreSQL parses and plans the statement once per table, not once per batch.
  const name = `keywatch_copy_${table.name}`;
  const read = sqlite.prepare(`SELECT ${table.columns.map(q).join(', ')} FROM ${q(table.name)}`).raw();

  const empty = () => table.columns.map(() => [] as unknown[]);
  let columns = empty();
  let inBatch = 0;
  let copied = 0;
  // One batch in flight while the next is read from SQLite: reading and writing overlap.
  let inFlight: Promise<unknown> = Promise.resolve();
  const flush = async () => {
    await inFlight;
    inFlight = client.query({ name, text, values: columns });
    copied += inBatch;
    columns = empty();
    inBatch = 0;
  };
  for (const row of read.iterate() as Iterable<unknown[]>) {
    for (let c = 0; c < width; c++) {
      const v = row[c];
      columns[c]!.push(table.booleans.has(c) && v !== null ? v !== 0 : v);
    }
    if (++inBatch === batchRows) await flush();
  }
  if (inBatch > 0) await flush();
  await inFlight;
  // Copied ids were given explicitly: the identity must continue after the largest.
  if (table.identity && copied > 0) {
    await client.query(
      `SELECT setval(pg_get_serial_sequence($1, $2), (SELECT max(${q(table.identity)}) FROM ${q(table.name)}))`,
      [q(table.name), table.identity],
    );
  }
  return copied;
}

const close = (a: number, b: number) => Math.abs(a - b) <= 1e-9 * Math.max(1, Math.abs(a), Math.abs(b));

/** Row counts of every table and credit/request sums of the usage tables, compared on both sides. */
async function verify(
  sqlite: Sqlite,
  client: pg.ClientBase,
  tables: TableCopy[],
): Promise<Record<string, { credits: number; requests: number }>> {
  const mismatches: string[] = [];
  const sums: Record<string, { credits: number; requests: number }> = {};
  for (const t of tables) {
    const summed = SUMMED.has(t.name);
    const select = `SELECT count(*) AS n${summed ? ', coalesce(sum(credits), 0) AS credits, coalesce(sum(requests), 0) AS requests' : ''} FROM ${q(t.name)}`;
    const s = sqlite.prepare(select).get() as { n: number; credits?: number; requests?: number };
    const p = (await client.query<{ n: string; credits?: string; requests?: string }>(select)).rows[0]!;
    if (Number(p.n) !== s.n) mismatches.push(`${t.name}: ${s.n} rows in SQLite, ${p.n} in PostgreSQL`);
    if (summed) {
      if (!close(Number(p.credits), s.credits!))
        mismatches.push(`${t.name}: ${s.credits} credits in SQLite, ${p.credits} in PostgreSQL`);
      if (Number(p.requests) !== s.requests)
        mismatches.push(`${t.name}: ${s.requests} requests in SQLite, ${p.requests} in PostgreSQL`);
      sums[t.name] = { credits: s.credits!, requests: s.requests! };
    }
  }
  if (mismatches.length > 0) {
    throw new CopyMismatchError(
      `the copy does not match its source, so nothing was committed: ${mismatches.join('; ')}.`,
    );
  }
  return sums;
}
