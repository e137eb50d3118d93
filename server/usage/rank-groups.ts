/**
 * Totals per group (key, environment or operation) over a range, read from the coarsest rollups
 * that tile it, and ranked largest spender first: what pages, the top N and exports cut from.
 */

import { sql } from 'drizzle-orm';
import { floorTo } from '../clock.ts';
import type { Db } from '../db/client.ts';
import { rowArrays, rows as rowsOf } from '../db/transaction.ts';
import {
  BUCKET_TABLES,
  floorToMonth,
  KEY_TOTAL_TABLES,
  MONTH_TABLE,
  OPERATION_DAY_TABLE,
  type Resolution,
  STEPS,
  type Step,
} from './buckets.ts';
import { everyKey } from './every-key.ts';
import { idsIn } from './id-list.ts';
import type { Group, Range } from './series.ts';

export const SUMS =
  'sum(credits) AS credits, sum(requests) AS requests, sum(errors) AS errors, sum(auth_failures) AS auth_failures';

/**
 * What a ranking sums (keys only): `creditsOnly` (the order needs nothing else; requests, errors
 * and auth failures read as 0), or only the `keyIds` given, each summed exactly as in a ranking
 * of every key (same tiles, same rows in the same order).
 */
export type SumsOf = { creditsOnly?: boolean; keyIds?: readonly string[] };
const CREDITS_ONLY = 'sum(credits) AS credits, 0, 0, 0';

export type GroupTotals = {
  group: string;
  key_id?: string;
  credits: number;
  requests: number;
  errors: number;
  auth_failures: number;
};
export type Totals = Omit<GroupTotals, 'group' | 'key_id'>;
type KeyInfo = { name: string; environment: string | null };
export type KeyDirectory = Map<string, KeyInfo>;

/** Names and environments of every key: joined in memory after the sums, never inside the hot scan. */
export async function keyDirectory(db: Db): Promise<KeyDirectory> {
  const rows = await rowsOf<{ id: string } & KeyInfo>(db, sql`SELECT id, name, environment FROM keys`);
  return new Map(rows.map((r) => [r.id, { name: r.name, environment: r.environment }]));
}

/** The names groups go by: a key's environment ('(none)' when unset), an operation ('(unknown)' for ''). */
export const environmentOf = (k: KeyInfo | undefined) => k?.environment ?? '(none)';
export const operationName = (op: string) => (op === '' ? '(unknown)' : op);

export const add = (into: Totals, r: Totals) => {
  into.credits += r.credits;
  into.requests += r.requests;
  into.errors += r.errors;
  into.auth_failures += r.auth_failures;
};
export const zero = (): Totals => ({ credits: 0, requests: 0, errors: 0, auth_failures: 0 });

export const byRank = (a: GroupTotals, b: GroupTotals) =>
  b.credits - a.credits || a.group.localeCompare(b.group);

const COARSER_TABLE: Record<Resolution, Resolution | null> = {
  minute: 'hour',
  hour: 'day',
  day: 'month',
  month: null,
};
const TABLE_OF: Record<Resolution, string> = { ...BUCKET_TABLES, month: MONTH_TABLE };
/** Where sums per key are read: the per-key totals where kept, else the bucket table itself. */
export const KEY_TABLE_OF: Record<Resolution, string> = { ...TABLE_OF, ...KEY_TOTAL_TABLES };
/** Where sums per operation are read: the per-operation day sums, else the bucket table. */
export const OPERATION_TABLE_OF: Record<Resolution, string> = { ...TABLE_OF, day: OPERATION_DAY_TABLE };
/**
 * The condition a range over every key starts with: every table but the per-operation day sums is
 * keyed by key first, and is read one key at a time (everyKey) instead of through a bucket index.
 */
export const everyKeyIn = (db: Db, table: string) =>
  table === OPERATION_DAY_TABLE ? sql`` : sql`${everyKey(db)} AND `;
const floorOf = (r: Resolution, ms: number) => (r === 'month' ? floorToMonth(ms) : floorTo(ms, STEPS[r]));
const ceilOf = (r: Resolution, ms: number) => {
  const f = floorOf(r, ms);
  return f === ms ? ms : r === 'month' ? floorToMonth(f + 32 * 86_400_000) : f + STEPS[r];
};

/**
 * [from, to) cut into the coarsest rollups that tile it: the whole months inside a year of days
 * come from the month table, the edges from days (and whole days inside a week of hours from the
 * day table), so a sum over a long range reads a few rows per key instead of every bucket.
 */
export function tiles(
  from: number,
  to: number,
  resolution: Resolution,
): { table: string; resolution: Resolution; from: number; to: number }[] {
  const coarser = COARSER_TABLE[resolution];
  const tile = (a: number, b: number) => ({ table: TABLE_OF[resolution], resolution, from: a, to: b });
  if (!coarser) return [tile(from, to)];
  const lo = ceilOf(coarser, from);
  const hi = floorOf(coarser, to);
  if (lo >= hi) return [tile(from, to)];
  return [tile(from, lo), ...tiles(lo, hi, coarser), tile(hi, to)].filter((t) => t.from < t.to);
}

/**
 * Sums over [from, to) per value of `column` (key_id or operation), read from the rollups that
 * tile the range: per key from the per-key totals where they are kept. One statement per tile,
 * merged here, so each reads its table in key order and none needs a temporary b-tree over a union.
 */
async function sumsByColumn(
  db: Db,
  column: 'key_id' | 'operation',
  from: number,
  to: number,
  step: Step,
  only: SumsOf = {},
): Promise<(Totals & { grp: string })[]> {
  const out = new Map<string, Totals & { grp: string }>();
  const sums = only.creditsOnly ? CREDITS_ONLY : SUMS;
  for (const t of tiles(from, to, step)) {
    const table = (column === 'key_id' ? KEY_TABLE_OF : OPERATION_TABLE_OF)[t.resolution];
    const which = only.keyIds ? sql`key_id IN (${idsIn(db, only.keyIds)}) AND ` : everyKeyIn(db, table);
    // As arrays: a tile is a row per key, and three tiles of a thousand keys rank every page.
    const rows = await rowArrays<[string, number, number, number, number]>(
      db,
      sql`SELECT ${sql.raw(column)} AS grp, ${sql.raw(sums)} FROM ${sql.raw(table)}
        WHERE ${which}bucket >= ${t.from} AND bucket < ${t.to} GROUP BY ${sql.raw(column)}`,
    );
    for (const [grp, credits, requests, errors, auth_failures] of rows) {
      const had = out.get(grp);
      if (had) {
        had.credits += credits;
        had.requests += requests;
        had.errors += errors;
        had.auth_failures += auth_failures;
      } else out.set(grp, { grp, credits, requests, errors, auth_failures });
    }
  }
  return [...out.values()];
}

/**
 * Each key's sums over the buckets starting in [from, to), by key id, from the rollups that tile
 * the range (no join).
 */
export async function sumsByKey(db: Db, from: number, to: number, step: Step = 'hour') {
  return (await sumsByColumn(db, 'key_id', from, to, step)).map(({ grp, ...t }) => ({
    key_id: grp,
    ...t,
  }));
}

/** Every group's totals over the range, largest spender first: the order pages and the top N cut. */
export async function rankGroups(
  db: Db,
  range: Range,
  group: Group,
  // Callers ranking many ranges at once (a year of months) read the keys once and pass them.
  directory?: KeyDirectory,
  only: SumsOf = {},
): Promise<GroupTotals[]> {
  const from = floorTo(range.from, STEPS[range.step]);
  if (group === 'operation') {
    return (await sumsByColumn(db, 'operation', from, range.to, range.step))
      .map(({ grp, ...t }) => ({ group: operationName(grp), ...t }))
      .sort(byRank);
  }
  const rows = (await sumsByColumn(db, 'key_id', from, range.to, range.step, only)).map(({ grp, ...t }) => ({
    key_id: grp,
    ...t,
  }));
  const keys = directory ?? (await keyDirectory(db));
  if (group === 'key') {
    return rows
      .map(({ key_id, ...t }) => ({ group: keys.get(key_id)?.name ?? key_id, key_id, ...t }))
      .sort(byRank);
  }
  const envs = new Map<string, GroupTotals>();
  for (const { key_id, ...t } of rows) {
    const name = environmentOf(keys.get(key_id));
    const g = envs.get(name) ?? { group: name, ...zero() };
    add(g, t);
    envs.set(name, g);
  }
  return [...envs.values()].sort(byRank);
}
