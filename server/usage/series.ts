/** Usage series from the bucket tables: one key's points, or totals grouped by key, environment or operation. */

import { type SQL, sql } from 'drizzle-orm';
import { floorTo } from '../clock.ts';
import type { Db } from '../db/client.ts';
import { rowArrays, rows as rowsOf } from '../db/transaction.ts';
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
import {
  eachBucket,
  gridOf,
  mergeRuns,
  parseRun,
  pointsOf,
  type Run,
  runOf,
  runText,
  WIDTH,
} from './series-runs.ts';

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
/** The same with the group's stored buckets as a run (zero-filled when written out). */
export type GroupRun = Omit<GroupTotals, 'auth_failures'> & { run: Run };
/** A page of groups: `limit` after `cursor` (an offset into the ranking), or the `top` N and the rest as one. */
export type GroupPage = { limit?: number; cursor?: number; top?: number };
/** The rest of the groups past the top N, summed into one series. */
export const OTHER_GROUP = '(other)';

/** Per-key sums hold one row per key and bucket already: only the bucket tables need summing. */
const keepsOneRow = (step: Step) => KEY_TABLE_OF[step] !== BUCKET_TABLES[step];
const perKeySums = (step: Step) => (keepsOneRow(step) ? 'credits, requests, errors, auth_failures' : SUMS);
const perKeyGrouping = (step: Step) => (keepsOneRow(step) ? '' : ' GROUP BY key_id, bucket');

/** keyRuns' statement (exported for the test of its query plan). */
export function keyRunsQuery(db: Db, range: Range, keyIds: string[] | null): SQL {
  const from = floorTo(range.from, STEPS[range.step]);
  const table = KEY_TABLE_OF[range.step];
  const only = keyIds ? sql`key_id IN (${idsIn(db, keyIds)}) AND ` : everyKeyIn(db, table);
  return sql`SELECT key_id, ${runText(db, gridOf(range))} FROM (
       SELECT key_id, bucket, ${sql.raw(perKeySums(range.step))} FROM ${sql.raw(KEY_TABLE_OF[range.step])}
       WHERE ${only}bucket >= ${from} AND bucket < ${range.to}${sql.raw(perKeyGrouping(range.step))}
     ) AS r GROUP BY key_id`;
}

/**
 * Each key's buckets over the range as runs, by key id: of the given keys (a page, or the top N)
 * or of every key. One text per key from the database (series-runs.ts): a year of days of a
 * hundred keys is 36,500 rows, and reading them as rows cost several times the query.
 */
export async function keyRuns(db: Db, range: Range, keyIds: string[] | null): Promise<Map<string, Run>> {
  const rows = await rowArrays<[string, string | null]>(db, keyRunsQuery(db, range, keyIds));
  // In key id order whatever order the store grouped in, so sums across keys add up alike.
  rows.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  return new Map(rows.map(([id, text]) => [id, parseRun(text, gridOf(range))]));
}

/** Every operation's buckets over the range as runs, by operation ('' for none). */
async function operationRuns(db: Db, range: Range): Promise<Map<string, Run>> {
  const table = OPERATION_TABLE_OF[range.step];
  const rows = await rowArrays<[string, string | null]>(
    db,
    sql`SELECT operation, ${runText(db, gridOf(range))} FROM (
       SELECT operation, bucket, ${sql.raw(SUMS)} FROM ${sql.raw(table)}
       WHERE ${everyKeyIn(db, table)}bucket >= ${floorTo(range.from, STEPS[range.step])} AND bucket < ${range.to}
       GROUP BY operation, bucket
     ) AS r GROUP BY operation`,
  );
  rows.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  return new Map(rows.map(([op, text]) => [op, parseRun(text, gridOf(range))]));
}

/** Every group's runs over the range by group name, and the key id behind each key name. */
type EveryRun = { runs: Map<string, Run>; keyIds: Map<string, string> };

/**
 * Every operation's, environment's or key's runs over the range, by group name: operations from
 * their day sums (else the bucket table), keys and environments from the per-key sums (named
 * through the key directory afterwards; an environment's keys merged bucket by bucket).
 */
async function runsOfEveryGroup(db: Db, range: Range, group: Group, keys: KeyDirectory): Promise<EveryRun> {
  const out = new Map<string, Run>();
  const keyIds = new Map<string, string>();
  const put = (name: string, run: Run) => {
    const had = out.get(name);
    out.set(name, had ? mergeRuns(had, run) : run);
  };
  if (group === 'operation') {
    for (const [operation, run] of await operationRuns(db, range)) put(operationName(operation), run);
  } else {
    for (const [keyId, run] of await keyRuns(db, range, null)) {
      const k = keys.get(keyId);
      if (group === 'environment') put(environmentOf(k), run);
      else {
        const name = k?.name ?? keyId;
        keyIds.set(name, keyId);
        put(name, run);
      }
    }
  }
  return { runs: out, keyIds };
}

/** Groups ranked by their runs' sums, largest spender first. */
function rankRuns({ runs, keyIds }: EveryRun): GroupTotals[] {
  return [...runs]
    .map(([group, run]) => {
      const t = zero();
      for (let i = 0; i < run.length; i += WIDTH) {
        t.credits += run[i + 1]!;
        t.requests += run[i + 2]!;
        t.errors += run[i + 3]!;
        t.auth_failures += run[i + 4]!;
      }
      const id = keyIds.get(group);
      return { group, ...(id !== undefined && { key_id: id }), ...t };
    })
    .sort(byRank);
}

function groupRunOf(g: GroupTotals, run: Run): GroupRun {
  return {
    group: g.group,
    ...(g.key_id !== undefined && { key_id: g.key_id }),
    credits: g.credits,
    requests: g.requests,
    errors: g.errors,
    run,
  };
}

/** A group's run as zero-filled points (its fields in the same order, `points` last). */
export function seriesOf(range: Range, { run, ...g }: GroupRun): GroupSeries {
  return { ...g, points: pointsOf(range, run) };
}

/**
 * Runs per group, largest spender first: every group, a page of them (`limit` after `cursor`),
 * or the `top` N with the rest summed as one "(other)" series (what a stacked chart draws). The
 * sums scan the bucket table alone; key names are joined afterwards, so no key row is walked per bucket.
 */
export async function groupedRuns(
  db: Db,
  range: Range,
  group: Group,
  page: GroupPage = {},
): Promise<{ groups: GroupRun[]; total_groups: number; next_cursor: number | null }> {
  // Every group's rows are read anyway for a few groups (operations, environments) and for every
  // key when that fits in one answer: one read ranks and draws them. A page of keys over a long
  // range is ranked from the coarse rollups first, then only its keys' rows are read.
  const keys = await keyDirectory(db);
  const everyKey =
    page.limit === undefined && page.top === undefined && bucketCount(range) * keys.size <= MAX_POINTS;
  const every = group !== 'key' || everyKey ? await runsOfEveryGroup(db, range, group, keys) : null;
  // A page of keys is ranked by credits alone (summing the other three over a year of a thousand
  // keys was a fifth of the ranking), then its own keys' sums are read whole; the top N sums the
  // rest as well, so it reads every sum.
  const pageOfKeys = !every && page.top === undefined;
  const ranked = every
    ? rankRuns(every)
    : await rankGroups(db, range, group, keys, { creditsOnly: pageOfKeys });
  const offset = page.cursor ?? 0;
  const count = page.top ?? page.limit ?? ranked.length;
  const cut = ranked.slice(offset, offset + count);
  // Zero-filled, every group has every bucket: the cap counts across the groups returned.
  refuseTooManyPoints(range, cut.length + (page.top !== undefined ? 1 : 0));
  const chosen = pageOfKeys ? await withSums(db, range, keys, cut) : cut;
  const runOfGroup = every
    ? (g: GroupTotals) => every.runs.get(g.group) ?? []
    : await (async () => {
        const byId = await keyRuns(
          db,
          range,
          chosen.map((g) => g.key_id!),
        );
        return (g: GroupTotals) => byId.get(g.key_id!) ?? [];
      })();
  const groups = chosen.map((g) => groupRunOf(g, runOfGroup(g)));
  if (page.top !== undefined) {
    const rest = ranked.slice(count);
    if (rest.length > 0) groups.push(await otherRun(db, range, rest, groups));
    return { groups, total_groups: ranked.length, next_cursor: null };
  }
  const next = offset + chosen.length;
  return { groups, total_groups: ranked.length, next_cursor: next < ranked.length ? next : null };
}

/** A page of keys ranked by credits alone, with their whole sums (the same numbers a ranking of every key reads). */
async function withSums(
  db: Db,
  range: Range,
  keys: KeyDirectory,
  page: GroupTotals[],
): Promise<GroupTotals[]> {
  if (page.length === 0) return page;
  const ids = page.map((g) => g.key_id!);
  const sums = new Map(
    (await rankGroups(db, range, 'key', keys, { keyIds: ids })).map((g) => [g.key_id!, g]),
  );
  return page.map((g) => sums.get(g.key_id!) ?? g);
}

/** The same with each group's points (zero-filled): what callers that walk points read. */
export async function groupedSeries(
  db: Db,
  range: Range,
  group: Group,
  page: GroupPage = {},
): Promise<{ groups: GroupSeries[]; total_groups: number; next_cursor: number | null }> {
  const { groups, ...rest } = await groupedRuns(db, range, group, page);
  return { groups: groups.map((g) => seriesOf(range, g)), ...rest };
}

/** The groups past the top N as one series: the total less the top N, bucket by bucket. */
async function otherRun(db: Db, range: Range, rest: GroupTotals[], top: GroupRun[]): Promise<GroupRun> {
  const points = await totalSeries(db, range);
  for (const g of top) {
    // The total's points and the visits are the same zero-filled buckets, one for one.
    let k = 0;
    eachBucket(range, g.run, (_ts, i) => {
      const o = points[k++]!;
      if (i < 0) return;
      o.credits -= g.run[i + 1]!;
      o.requests -= g.run[i + 2]!;
      o.errors -= g.run[i + 3]!;
      o.auth_failures -= g.run[i + 4]!;
    });
  }
  const totals = zero();
  for (const g of rest) add(totals, g);
  return {
    group: OTHER_GROUP,
    credits: totals.credits,
    requests: totals.requests,
    errors: totals.errors,
    run: runOf(points),
  };
}
