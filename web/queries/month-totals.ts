/**
 * Credits per calendar month in KEYWATCH_TZ, in total or per key, environment or operation. A month
 * starts at local midnight (not UTC's), so it is summed from the rollups that tile it: whole UTC
 * days from the day table, the hours at its edges from the hour table (a dozen rows per key, not a
 * month of hours).
 */
import { sql } from 'drizzle-orm';
import { floorTo, HOUR } from '../../server/clock.ts';
import type { Db } from '../../server/db/client.ts';
import { rowArrays } from '../../server/db/transaction.ts';
import { monthPeriod } from '../../server/time-zone.ts';
import { floorToMonth, KEY_TOTAL_TABLES, OPERATION_DAY_TABLE } from '../../server/usage/buckets.ts';
import {
  environmentOf,
  type KeyDirectory,
  keyDirectory,
  operationName,
  rankGroups,
  sumsByKey,
} from '../../server/usage/rank-groups.ts';
import { type Group, OTHER_GROUP } from '../../server/usage/series.ts';
import { parseRun, type Run, runText, WIDTH } from '../../server/usage/series-runs.ts';

export type MonthTotal = {
  /** 'YYYY-MM' in the zone. */
  month: string;
  start: number;
  end: number;
  /** The month that holds `now`: counted to now, not to its end. */
  partial: boolean;
  credits: number;
  requests: number;
  errors: number;
  auth_failures: number;
};
export type GroupMonths = { group: string; key_id?: string; months: MonthTotal[] };

type Row = {
  grp: string;
  key_id: string;
  credits: number;
  requests: number;
  errors: number;
  auth_failures: number;
};

/** Each group's sums over [from, to), or one 'total' row. */
async function monthRows(
  db: Db,
  from: number,
  to: number,
  group: Group | undefined,
  keys: KeyDirectory | undefined,
): Promise<Row[]> {
  if (group) {
    const ranked = await rankGroups(db, { from, to, step: 'hour' }, group, keys);
    return ranked.map(({ group: grp, key_id, ...t }) => ({ grp, key_id: key_id ?? '', ...t }));
  }
  // The total needs no key names: the per-key sums straight from the rollups, added up.
  const rows = await sumsByKey(db, floorTo(from, HOUR), to, 'hour');
  const total: Row = { grp: 'total', key_id: '', credits: 0, requests: 0, errors: 0, auth_failures: 0 };
  for (const r of rows) {
    total.credits += r.credits;
    total.requests += r.requests;
    total.errors += r.errors;
    total.auth_failures += r.auth_failures;
  }
  return rows.length > 0 ? [total] : [];
}

/** Values kept per month of a group: credits, requests, errors, auth_failures. */
export const FIELDS = 4;

/**
 * A group's sums month by month, in one flat array (FIELDS per month): no object per group and
 * month until the groups an answer lists are written out (a thousand keys' year is 12,000).
 */
/** `last`: the latest month (by index) the group has a stored row in, -1 for none. */
type GroupSums = { grp: string; key_id: string; sums: number[]; last: number };
type SumsByGroup = Map<string, GroupSums>;

function sumsOf(groups: SumsByGroup, grp: string, keyId: string, months: number): GroupSums {
  let g = groups.get(grp);
  if (!g) {
    g = { grp, key_id: keyId, sums: new Array<number>(months * FIELDS).fill(0), last: -1 };
    groups.set(grp, g);
  }
  return g;
}

/**
 * Every month's sums in one read of the month rollups, when the months are UTC calendar months
 * (KEYWATCH_TZ is UTC, or has no offset across them); null otherwise, and each month is tiled on its
 * own. One statement instead of one per month: a month of a thousand keys is a thousand rows.
 */
async function utcMonthSums(
  db: Db,
  months: { start: number; end: number }[],
  group: Group | undefined,
  keys: KeyDirectory | undefined,
  reads: MonthReads | undefined,
): Promise<SumsByGroup | null> {
  if (months.some((m) => floorToMonth(m.start) !== m.start || floorToMonth(m.end) !== m.end)) return null;
  const index = new Map(months.map((m, i) => [m.start, i]));
  const out: SumsByGroup = new Map();
  // Values at `i` of a run added to the group's sums of the month holding `bucket`.
  const put = (bucket: number, grp: string, keyId: string, run: Run, i: number) => {
    const at = index.get(bucket);
    if (at === undefined) return;
    const k = at * FIELDS;
    const g = sumsOf(out, grp, keyId, months.length);
    g.last = Math.max(g.last, at);
    const { sums } = g;
    sums[k] = sums[k]! + run[i + 1]!;
    sums[k + 1] = sums[k + 1]! + run[i + 2]!;
    sums[k + 2] = sums[k + 2]! + run[i + 3]!;
    sums[k + 3] = sums[k + 3]! + run[i + 4]!;
  };
  const from = months[0]!.start;
  const to = months[months.length - 1]!.end;
  // Each group's rows as one run (series-runs.ts): a year of a thousand keys' months is 12,000 rows,
  // and reading them as rows cost more than the query.
  const runs = (column: 'key_id' | 'operation', table: string) =>
    shared(reads, `${table} ${from} ${to}`, () => readRuns(column, table));
  const readRuns = async (column: 'key_id' | 'operation', table: string) => {
    const rows = await rowArrays<[string, string | null]>(
      db,
      sql`SELECT ${sql.raw(column)}, ${runText(db)} FROM (
         SELECT ${sql.raw(column)}, bucket, credits, requests, errors, auth_failures FROM ${sql.raw(table)}
         WHERE bucket >= ${from} AND bucket < ${to}
       ) AS r GROUP BY ${sql.raw(column)}`,
    );
    // In key (or operation) order whatever order the store grouped in, so sums add up alike.
    rows.sort((x, y) => (x[0] < y[0] ? -1 : x[0] > y[0] ? 1 : 0));
    return rows.map(([id, text]) => [id, parseRun(text)] as const);
  };
  if (group === 'operation') {
    // The operations' day sums added up by month (whole UTC days tile a UTC month): 365 rows per
    // operation, where the month table holds a row per key and operation to add up.
    for (const [operation, run] of await runs('operation', OPERATION_DAY_TABLE)) {
      const name = operationName(operation);
      for (let i = 0; i < run.length; i += WIDTH) put(floorToMonth(run[i]!), name, '', run, i);
    }
  } else {
    for (const [keyId, run] of await runs('key_id', KEY_TOTAL_TABLES.month)) {
      const k = keys?.get(keyId);
      const name =
        group === 'key' ? (k?.name ?? keyId) : group === 'environment' ? environmentOf(k) : 'total';
      for (let i = 0; i < run.length; i += WIDTH) put(run[i]!, name, group === 'key' ? keyId : '', run, i);
    }
  }
  return out;
}

/**
 * Reads that the month tables of one request share: the capacity page asks for keys and for
 * environments, and one read of every key's months (and of the key directory) serves both.
 */
export type MonthReads = Map<string, Promise<unknown>>;

function shared<T>(reads: MonthReads | undefined, name: string, read: () => Promise<T>): Promise<T> {
  if (!reads) return read();
  let found = reads.get(name) as Promise<T> | undefined;
  if (!found) {
    found = read();
    reads.set(name, found);
  }
  return found;
}

/** The `count` calendar months up to and including the one holding `now`, oldest first. */
export function recentMonths(now: number, timeZone: string, count: number) {
  return Array.from({ length: count }, (_, i) => monthPeriod(now, timeZone, i - count + 1));
}

type MonthOptions = {
  now: number;
  timeZone: string;
  count: number;
  group?: Group;
  dropLeadingEmpty?: boolean;
  top?: number;
  /** Shared with the request's other monthTotals calls (their results are read, never changed). */
  reads?: MonthReads;
};

/** A month listed: its label ('YYYY-MM' in the zone), bounds, and whether it is the one to date. */
export type MonthListed = { month: string; start: number; end: number; partial: boolean };

/**
 * monthTotals before any object per group and month is made: the months listed, and the groups in
 * their order, each with its sums as FIELDS numbers per month listed from `offset` in `sums`
 * (credits, requests, errors, auth_failures). What the monthly CSV writes from directly (a
 * thousand keys' year is 12,000 lines).
 */
export type MonthSums = {
  months: MonthListed[];
  groups: { group: string; key_id?: string; sums: number[]; offset: number }[];
};

/**
 * Per group, its totals in each of the last `count` months (zero-filled), as monthTotals lists them.
 */
export async function monthSums(db: Db, opts: MonthOptions): Promise<MonthSums> {
  const months = recentMonths(opts.now, opts.timeZone, opts.count);
  const keys =
    opts.group && opts.group !== 'operation'
      ? await shared(opts.reads, 'keys', () => keyDirectory(db))
      : undefined;
  // The current month is read whole: nothing is stored after now but usage stamped a little ahead
  // (push refuses more than 5 minutes), which counts in its month either way. Whole months are one
  // row per key in the month rollup; cut at now, today's hours of every key would be read instead.
  let groups = await utcMonthSums(db, months, opts.group, keys, opts.reads);
  if (!groups) {
    groups = new Map();
    for (const [i, m] of months.entries()) {
      for (const r of await monthRows(db, m.start, m.end, opts.group, keys)) {
        const g = sumsOf(groups, r.grp, r.key_id, months.length);
        g.sums.splice(i * FIELDS, FIELDS, r.credits, r.requests, r.errors, r.auth_failures);
        g.last = i;
      }
    }
  }
  // The months listed: from the first with usage, with dropLeadingEmpty.
  let first = 0;
  if (opts.dropLeadingEmpty) {
    const all = [...groups.values()];
    const used = (i: number) => all.some(({ sums }) => sums[i * FIELDS]! > 0 || sums[i * FIELDS + 1]! > 0);
    while (first < months.length && !used(first)) first++;
  }
  const shown = months.slice(first).map((m) => ({
    month: m.label,
    start: m.start,
    end: m.end,
    partial: m.end > opts.now + 1,
  }));
  // Listed: the groups with a stored row in a month listed.
  const kept = [...groups.values()].filter((g) => g.last >= first);
  // Each group's total over the months listed, once, not once per comparison.
  const totals = new Map<GroupSums, number>();
  for (const g of kept) {
    let total = 0;
    for (let i = 0; i < shown.length; i++) total += g.sums[(first + i) * FIELDS]!;
    totals.set(g, total);
  }
  const ranked = kept.sort((a, b) => totals.get(b)! - totals.get(a)! || a.grp.localeCompare(b.grp));
  const listed = (g: GroupSums) => ({
    group: g.grp,
    ...(opts.group === 'key' && { key_id: g.key_id }),
    sums: g.sums,
    offset: first * FIELDS,
  });
  if (opts.top === undefined || ranked.length <= opts.top + 1)
    return { months: shown, groups: ranked.map(listed) };
  // The first `top` groups as they are, and the rest summed month by month (in rank order) as one.
  const rest = new Array<number>(shown.length * FIELDS).fill(0);
  for (let i = 0; i < rest.length; i++) {
    for (let r = opts.top; r < ranked.length; r++) rest[i] = rest[i]! + ranked[r]!.sums[first * FIELDS + i]!;
  }
  return {
    months: shown,
    groups: [...ranked.slice(0, opts.top).map(listed), { group: OTHER_GROUP, sums: rest, offset: 0 }],
  };
}

/**
 * Per group, its totals in each of the last `count` months (zero-filled). With `dropLeadingEmpty`,
 * months before the first one with any usage are left out, so an export starts where data does.
 * With `top`, only the largest groups are listed and the rest are summed as one "(other)" group:
 * what a page draws (the CSV export stays complete), and the totals per month are unchanged.
 */
export async function monthTotals(db: Db, opts: MonthOptions): Promise<GroupMonths[]> {
  const { months, groups } = await monthSums(db, opts);
  return groups.map(({ sums, offset, ...g }) => ({
    ...g,
    months: months.map((m, i) => {
      const k = offset + i * FIELDS;
      return {
        ...m,
        credits: sums[k]!,
        requests: sums[k + 1]!,
        errors: sums[k + 2]!,
        auth_failures: sums[k + 3]!,
      };
    }),
  }));
}
