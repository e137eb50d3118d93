/** Usage series from the bucket tables: one key's points, or totals grouped by key, environment or operation. */

import { floorTo } from '../clock.ts';
import type { Sqlite } from '../db/client.ts';
import { statement } from '../db/statements.ts';
import { AppError } from '../errors.ts';
import {
  BUCKET_TABLES,
  floorToMonth,
  KEY_TOTAL_TABLES,
  MONTH_TABLE,
  OPERATION_DAY_TABLE,
  type Resolution,
  STEPS,
  type Step,
  TOTAL_TABLES,
} from './buckets.ts';

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

const SUMS =
  'sum(credits) AS credits, sum(requests) AS requests, sum(errors) AS errors, sum(auth_failures) AS auth_failures';

export function keySeries(sqlite: Sqlite, keyId: string, range: Range): Point[] {
  const rows = statement<[string, number, number], Row>(
    sqlite,
    `SELECT bucket, ${SUMS} FROM ${BUCKET_TABLES[range.step]}
       WHERE key_id = ? AND bucket >= ? AND bucket < ? GROUP BY bucket ORDER BY bucket`,
  ).all(keyId, floorTo(range.from, STEPS[range.step]), range.to);
  return fill(range, rows);
}

/** Every key's sums, from the per-bucket totals (one row per bucket, whatever the number of keys). */
export function totalSeries(sqlite: Sqlite, range: Range): Point[] {
  const rows = statement<[number, number], Row>(
    sqlite,
    `SELECT bucket, credits, requests, errors, auth_failures FROM ${TOTAL_TABLES[range.step]}
       WHERE bucket >= ? AND bucket < ? ORDER BY bucket`,
  ).all(floorTo(range.from, STEPS[range.step]), range.to);
  return fill(range, rows);
}

export type GroupTotals = {
  group: string;
  key_id?: string;
  credits: number;
  requests: number;
  errors: number;
  auth_failures: number;
};
export type GroupSeries = Omit<GroupTotals, 'auth_failures'> & { points: Point[] };
/** A page of groups: `limit` after `cursor` (an offset into the ranking), or the `top` N and the rest as one. */
export type GroupPage = { limit?: number; cursor?: number; top?: number };
/** The rest of the groups past the top N, summed into one series. */
export const OTHER_GROUP = '(other)';

type Totals = Omit<GroupTotals, 'group' | 'key_id'>;
type KeyInfo = { name: string; environment: string | null };
export type KeyDirectory = Map<string, KeyInfo>;

/** Names and environments of every key: joined in memory after the sums, never inside the hot scan. */
export function keyDirectory(sqlite: Sqlite): KeyDirectory {
  const rows = statement<[], { id: string } & KeyInfo>(
    sqlite,
    'SELECT id, name, environment FROM keys',
  ).all();
  return new Map(rows.map((r) => [r.id, { name: r.name, environment: r.environment }]));
}

/** The names groups go by: a key's environment ('(none)' when unset), an operation ('(unknown)' for ''). */
export const environmentOf = (k: KeyInfo | undefined) => k?.environment ?? '(none)';
export const operationName = (op: string) => (op === '' ? '(unknown)' : op);

const add = (into: Totals, r: Totals) => {
  into.credits += r.credits;
  into.requests += r.requests;
  into.errors += r.errors;
  into.auth_failures += r.auth_failures;
};
const zero = (): Totals => ({ credits: 0, requests: 0, errors: 0, auth_failures: 0 });

const byRank = (a: GroupTotals, b: GroupTotals) => b.credits - a.credits || a.group.localeCompare(b.group);

const COARSER_TABLE: Record<Resolution, Resolution | null> = {
  minute: 'hour',
  hour: 'day',
  day: 'month',
  month: null,
};
const TABLE_OF: Record<Resolution, string> = { ...BUCKET_TABLES, month: MONTH_TABLE };
/** Where sums per key are read: the per-key totals where kept, else the bucket table itself. */
const KEY_TABLE_OF: Record<Resolution, string> = { ...TABLE_OF, ...KEY_TOTAL_TABLES };
/** Where sums per operation are read: the per-operation day sums, else the bucket table. */
const OPERATION_TABLE_OF: Record<Resolution, string> = { ...TABLE_OF, day: OPERATION_DAY_TABLE };
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
function sumsByColumn(
  sqlite: Sqlite,
  column: 'key_id' | 'operation',
  from: number,
  to: number,
  step: Step,
): (Totals & { grp: string })[] {
  const out = new Map<string, Totals & { grp: string }>();
  for (const t of tiles(from, to, step)) {
    const table = (column === 'key_id' ? KEY_TABLE_OF : OPERATION_TABLE_OF)[t.resolution];
    const rows = statement<[number, number], Totals & { grp: string }>(
      sqlite,
      `SELECT ${column} AS grp, ${SUMS} FROM ${table} WHERE bucket >= ? AND bucket < ? GROUP BY ${column}`,
    ).all(t.from, t.to);
    for (const r of rows) {
      const had = out.get(r.grp);
      if (had) add(had, r);
      else out.set(r.grp, r);
    }
  }
  return [...out.values()];
}

/**
 * Each key's sums over the buckets starting in [from, to), by key id, from the rollups that tile
 * the range (no join).
 */
export function sumsByKey(sqlite: Sqlite, from: number, to: number, step: Step = 'hour') {
  return sumsByColumn(sqlite, 'key_id', from, to, step).map(({ grp, ...t }) => ({
    key_id: grp,
    ...t,
  }));
}

/** Every group's totals over the range, largest spender first: the order pages and the top N cut. */
export function rankGroups(
  sqlite: Sqlite,
  range: Range,
  group: Group,
  // Callers ranking many ranges at once (a year of months) read the keys once and pass them.
  directory?: KeyDirectory,
): GroupTotals[] {
  const from = floorTo(range.from, STEPS[range.step]);
  if (group === 'operation') {
    return sumsByColumn(sqlite, 'operation', from, range.to, range.step)
      .map(({ grp, ...t }) => ({ group: operationName(grp), ...t }))
      .sort(byRank);
  }
  const rows = sumsByColumn(sqlite, 'key_id', from, range.to, range.step).map(({ grp, ...t }) => ({
    key_id: grp,
    ...t,
  }));
  const keys = directory ?? keyDirectory(sqlite);
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

/** Per-key sums hold one row per key and bucket already: only the bucket tables need summing. */
const keepsOneRow = (step: Step) => KEY_TABLE_OF[step] !== BUCKET_TABLES[step];
const perKeySums = (step: Step) => (keepsOneRow(step) ? 'credits, requests, errors, auth_failures' : SUMS);
const perKeyGrouping = (step: Step) => (keepsOneRow(step) ? '' : ' GROUP BY key_id, bucket');

/** Bucket rows of the chosen keys only (a page, or the top N), by key name. */
function rowsOfKeys(sqlite: Sqlite, range: Range, chosen: GroupTotals[]): Map<string, Row[]> {
  const out = new Map<string, Row[]>(chosen.map((g) => [g.group, []]));
  const names = new Map(chosen.map((g) => [g.key_id!, g.group]));
  // One row per key and bucket over every operation: what the per-key day sums hold.
  const rows = statement<[string, number, number], Row & { key_id: string }>(
    sqlite,
    `SELECT key_id, bucket, ${perKeySums(range.step)} FROM ${KEY_TABLE_OF[range.step]}
       WHERE key_id IN (SELECT value FROM json_each(?)) AND bucket >= ? AND bucket < ?${perKeyGrouping(range.step)}`,
  ).all(JSON.stringify([...names.keys()]), floorTo(range.from, STEPS[range.step]), range.to);
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
function rowsOfEveryGroup(sqlite: Sqlite, range: Range, group: Group, keys: KeyDirectory): EveryRow {
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
    const rows = statement<[number, number], Row & { operation: string }>(
      sqlite,
      `SELECT operation, bucket, ${SUMS} FROM ${OPERATION_TABLE_OF[range.step]}
         WHERE bucket >= ? AND bucket < ? GROUP BY operation, bucket`,
    ).all(from, range.to);
    for (const { operation, ...r } of rows) put(operationName(operation), r);
  } else {
    const rows = statement<[number, number], Row & { key_id: string }>(
      sqlite,
      `SELECT key_id, bucket, ${perKeySums(range.step)} FROM ${KEY_TABLE_OF[range.step]}
         WHERE bucket >= ? AND bucket < ?${perKeyGrouping(range.step)}`,
    ).all(from, range.to);
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
export function groupedSeries(
  sqlite: Sqlite,
  range: Range,
  group: Group,
  page: GroupPage = {},
): { groups: GroupSeries[]; total_groups: number; next_cursor: number | null } {
  // Every group's rows are read anyway for a few groups (operations, environments) and for every
  // key when that fits in one answer: one read ranks and draws them. A page of keys over a long
  // range is ranked from the coarse rollups first, then only its keys' rows are read.
  const keys = keyDirectory(sqlite);
  const everyKey =
    page.limit === undefined && page.top === undefined && bucketCount(range) * keys.size <= MAX_POINTS;
  const every = group !== 'key' || everyKey ? rowsOfEveryGroup(sqlite, range, group, keys) : null;
  const few = every?.rows ?? null;
  const ranked = every ? rankRows(every) : rankGroups(sqlite, range, group, keys);
  const offset = page.cursor ?? 0;
  const count = page.top ?? page.limit ?? ranked.length;
  const chosen = ranked.slice(offset, offset + count);
  // Zero-filled, every group has every bucket: the cap counts across the groups returned.
  refuseTooManyPoints(range, chosen.length + (page.top !== undefined ? 1 : 0));
  const rows = few ?? rowsOfKeys(sqlite, range, chosen);
  const groups = chosen.map((g) => seriesOf(range, g, rows.get(g.group) ?? []));
  if (page.top !== undefined) {
    const rest = ranked.slice(count);
    if (rest.length > 0) groups.push(otherSeries(sqlite, range, rest, groups));
    return { groups, total_groups: ranked.length, next_cursor: null };
  }
  const next = offset + chosen.length;
  return { groups, total_groups: ranked.length, next_cursor: next < ranked.length ? next : null };
}

/** The groups past the top N as one series: the total less the top N, bucket by bucket. */
function otherSeries(sqlite: Sqlite, range: Range, rest: GroupTotals[], top: GroupSeries[]): GroupSeries {
  const points = totalSeries(sqlite, range);
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
