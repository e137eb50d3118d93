/** Usage series from the bucket tables: one key's points, or totals grouped by key, environment or operation. */

import { sql } from 'drizzle-orm';
import { floorTo } from '../clock.ts';
import type { Db } from '../db/client.ts';
import { rows as rowsOf } from '../db/transaction.ts';
import { AppError } from '../errors.ts';
import { BUCKET_TABLES, STEPS, type Step, TOTAL_TABLES } from './buckets.ts';
import { idsIn } from './id-list.ts';
import {
  add,
  byRank,
  environmentOf,
  everyKeyIn,
  type GroupTotals,
  KEY_TABLE_OF,
  type KeyDirectory,
  keyDirectory,
  OPERATION_TABLE_OF,
  operationName,
  rankGroups,
  SUMS,
  zero,
} from './rank-groups.ts';

export type Point = { ts: number; credits: number; requests: number; errors: number; auth_failures: number };
export const GROUPS = ['key', 'environment', 'operation'] as const;
export type Group = (typeof GROUPS)[number];
export type Range = { from: number; to: number; step: Step };

/** Most points one response may carry; a larger range must use a coarser step. */
export const MAX_POINTS = 100_000;

export function bucketCount({ from, to, step }: Range): number {
  return Math.max(0, Math.ceil((to - floorTo(from, STEPS[step])) / STEPS[step]));
}

const COARSER: Record<Step, Step | null> = { minute: 'hour', hour: 'day', day: null };

/** A read of more than MAX_POINTS points (buckets times groups) is refused, saying what to ask instead. */
export function refuseTooManyPoints(range: Range, groups = 1): void {
  const points = bucketCount(range) * groups;
  if (points <= MAX_POINTS) return;
  const coarser = COARSER[range.step];
  const ask = coarser ? `step=${coarser} or a shorter range` : 'a shorter range';
  throw new AppError(
    400,
    'range_too_large',
    `That read is ${points.toLocaleString('en-US')} points (${groups > 1 ? `${groups} groups x ` : ''}${bucketCount(range)} ${range.step} buckets), over ${MAX_POINTS.toLocaleString('en-US')}; ask for ${ask}.`,
    [{ path: 'step', message: `too fine for this range; ask for ${ask}` }],
  );
}

type Row = { bucket: number; credits: number; requests: number; errors: number; auth_failures: number };

/** Zero-fills the range so charts and sums see every bucket. Range is [from, to). */
function fill({ from, to, step }: Range, rows: Row[]): Point[] {
  const size = STEPS[step];
  const byBucket = new Map(rows.map((r) => [r.bucket, r]));
  const points: Point[] = [];
  for (let t = floorTo(from, size); t < to; t += size) {
    const r = byBucket.get(t);
    points.push({
      ts: t,
      credits: r?.credits ?? 0,
      requests: r?.requests ?? 0,
      errors: r?.errors ?? 0,
      auth_failures: r?.auth_failures ?? 0,
    });
  }
  return points;
}

export async function keySeries(db: Db, keyId: string, range: Range): Promise<Point[]> {
  const rows = await rowsOf<Row>(
    db,
    sql`SELECT bucket, ${sql.raw(SUMS)} FROM ${sql.raw(BUCKET_TABLES[range.step])}
       WHERE key_id = ${keyId} AND bucket >= ${floorTo(range.from, STEPS[range.step])} AND bucket < ${range.to}
       GROUP BY bucket ORDER BY bucket`,
  );
  return fill(range, rows);
}

/** Every key's sums, from the per-bucket totals (one row per bucket, whatever the number of keys). */
export async function totalSeries(db: Db, range: Range): Promise<Point[]> {
  const rows = await rowsOf<Row>(
    db,
    sql`SELECT bucket, credits, requests, errors, auth_failures FROM ${sql.raw(TOTAL_TABLES[range.step])}
       WHERE bucket >= ${floorTo(range.from, STEPS[range.step])} AND bucket < ${range.to} ORDER BY bucket`,
  );
  return fill(range, rows);
}

export type GroupSeries = Omit<GroupTotals, 'auth_failures'> & { points: Point[] };
/** A page of groups: `limit` after `cursor` (an offset into the ranking), or the `top` N and the rest as one. */
export type GroupPage = { limit?: number; cursor?: number; top?: number };
/** The rest of the groups past the top N, summed into one series. */
export const OTHER_GROUP = '(other)';

/** Per-key sums hold one row per key and bucket already: only the bucket tables need summing. */
const keepsOneRow = (step: Step) => KEY_TABLE_OF[step] !== BUCKET_TABLES[step];
const perKeySums = (step: Step) => (keepsOneRow(step) ? 'credits, requests, errors, auth_failures' : SUMS);
const perKeyGrouping = (step: Step) => (keepsOneRow(step) ? '' : ' GROUP BY key_id, bucket');

/** Bucket rows of the chosen keys only (a page, or the top N), by key name. */
async function rowsOfKeys(db: Db, range: Range, chosen: GroupTotals[]): Promise<Map<string, Row[]>> {
  const out = new Map<string, Row[]>(chosen.map((g) => [g.group, []]));
  const names = new Map(chosen.map((g) => [g.key_id!, g.group]));
  // One row per key and bucket over every operation: what the per-key day sums hold.
  const rows = await rowsOf<Row & { key_id: string }>(
    db,
    sql`SELECT key_id, bucket, ${sql.raw(perKeySums(range.step))} FROM ${sql.raw(KEY_TABLE_OF[range.step])}
       WHERE key_id IN (${idsIn(db, [...names.keys()])}) AND bucket >= ${floorTo(range.from, STEPS[range.step])}
       AND bucket < ${range.to}${sql.raw(perKeyGrouping(range.step))}`,
  );
  for (const { key_id, ...r } of rows) out.get(names.get(key_id)!)?.push(r);
  return out;
}

/** Every group's rows over the range by group name, and the key id behind each key name. */
type EveryRow = { rows: Map<string, Row[]>; keyIds: Map<string, string> };

/**
 * Every operation's, environment's or key's rows over the range, by group name: operations from
 * their day sums (else the bucket table), keys and environments from the per-key sums (named
 * through the key directory afterwards).
 */
async function rowsOfEveryGroup(db: Db, range: Range, group: Group, keys: KeyDirectory): Promise<EveryRow> {
  const from = floorTo(range.from, STEPS[range.step]);
  const out = new Map<string, Map<number, Row>>();
  const keyIds = new Map<string, string>();
  const put = (name: string, r: Row) => {
    let rows = out.get(name);
    if (!rows) {
      rows = new Map();
      out.set(name, rows);
    }
    const had = rows.get(r.bucket);
    if (had) add(had, r);
    else rows.set(r.bucket, r);
  };
  if (group === 'operation') {
    const rows = await rowsOf<Row & { operation: string }>(
      db,
      sql`SELECT operation, bucket, ${sql.raw(SUMS)} FROM ${sql.raw(OPERATION_TABLE_OF[range.step])}
         WHERE ${everyKeyIn(db, OPERATION_TABLE_OF[range.step])}bucket >= ${from} AND bucket < ${range.to}
         GROUP BY operation, bucket`,
    );
    for (const { operation, ...r } of rows) put(operationName(operation), r);
  } else {
    const rows = await rowsOf<Row & { key_id: string }>(
      db,
      sql`SELECT key_id, bucket, ${sql.raw(perKeySums(range.step))} FROM ${sql.raw(KEY_TABLE_OF[range.step])}
         WHERE ${everyKeyIn(db, KEY_TABLE_OF[range.step])}bucket >= ${from} AND bucket < ${range.to}${sql.raw(perKeyGrouping(range.step))}`,
    );
    for (const { key_id, ...r } of rows) {
      const k = keys.get(key_id);
      if (group === 'environment') put(environmentOf(k), r);
      else {
        const name = k?.name ?? key_id;
        keyIds.set(name, key_id);
        put(name, r);
      }
    }
  }
  return { rows: new Map([...out].map(([name, rows]) => [name, [...rows.values()]])), keyIds };
}

/** Groups ranked by their rows' sums, largest spender first. */
function rankRows({ rows, keyIds }: EveryRow): GroupTotals[] {
  return [...rows]
    .map(([group, rs]) => {
      const t = zero();
      for (const r of rs) add(t, r);
      const id = keyIds.get(group);
      return { group, ...(id !== undefined && { key_id: id }), ...t };
    })
    .sort(byRank);
}

function seriesOf(range: Range, g: GroupTotals, rows: Row[]): GroupSeries {
  return {
    group: g.group,
    ...(g.key_id !== undefined && { key_id: g.key_id }),
    credits: g.credits,
    requests: g.requests,
    errors: g.errors,
    points: fill(range, rows),
  };
}

/**
 * Series per group, largest spender first: every group, a page of them (`limit` after `cursor`),
 * or the `top` N with the rest summed as one "(other)" series (what a stacked chart draws). The
 * sums scan the bucket table alone; key names are joined afterwards, so no key row is walked per bucket.
 */
export async function groupedSeries(
  db: Db,
  range: Range,
  group: Group,
  page: GroupPage = {},
): Promise<{ groups: GroupSeries[]; total_groups: number; next_cursor: number | null }> {
  // Every group's rows are read anyway for a few groups (operations, environments) and for every
  // key when that fits in one answer: one read ranks and draws them. A page of keys over a long
  // range is ranked from the coarse rollups first, then only its keys' rows are read.
  const keys = await keyDirectory(db);
  const everyKey =
    page.limit === undefined && page.top === undefined && bucketCount(range) * keys.size <= MAX_POINTS;
  const every = group !== 'key' || everyKey ? await rowsOfEveryGroup(db, range, group, keys) : null;
  const few = every?.rows ?? null;
  const ranked = every ? rankRows(every) : await rankGroups(db, range, group, keys);
  const offset = page.cursor ?? 0;
  const count = page.top ?? page.limit ?? ranked.length;
  const chosen = ranked.slice(offset, offset + count);
  // Zero-filled, every group has every bucket: the cap counts across the groups returned.
  refuseTooManyPoints(range, chosen.length + (page.top !== undefined ? 1 : 0));
  const rows = few ?? (await rowsOfKeys(db, range, chosen));
  const groups = chosen.map((g) => seriesOf(range, g, rows.get(g.group) ?? []));
  if (page.top !== undefined) {
    const rest = ranked.slice(count);
    if (rest.length > 0) groups.push(await otherSeries(db, range, rest, groups));
    return { groups, total_groups: ranked.length, next_cursor: null };
  }
  const next = offset + chosen.length;
  return { groups, total_groups: ranked.length, next_cursor: next < ranked.length ? next : null };
}

/** The groups past the top N as one series: the total less the top N, bucket by bucket. */
async function otherSeries(
  db: Db,
  range: Range,
  rest: GroupTotals[],
  top: GroupSeries[],
): Promise<GroupSeries> {
  const points = await totalSeries(db, range);
  for (const g of top) {
    g.points.forEach((p, i) => {
      const o = points[i]!;
      o.credits -= p.credits;
      o.requests -= p.requests;
      o.errors -= p.errors;
      o.auth_failures -= p.auth_failures;
    });
  }
  const totals = zero();
  for (const g of rest) add(totals, g);
  return {
    group: OTHER_GROUP,
    credits: totals.credits,
    requests: totals.requests,
    errors: totals.errors,
    points,
  };
}
