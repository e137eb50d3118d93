/**
 * Credits per calendar month in KEYWATCH_TZ, in total or per key, environment or operation. From
 * hourly buckets, so a month that starts at local midnight (not UTC's) is still counted exactly.
 */
import type { Sqlite } from '../../server/db/client.ts';
import { statement } from '../../server/db/statements.ts';
import { monthPeriod } from '../../server/time-zone.ts';
import type { Group } from '../../server/usage/series.ts';

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

const GROUP_COLUMN: Record<Group, string> = {
  key: 'k.name',
  environment: "coalesce(k.environment, '(none)')",
  operation: "CASE WHEN b.operation = '' THEN '(unknown)' ELSE b.operation END",
};

type Row = {
  grp: string;
  key_id: string;
  credits: number;
  requests: number;
  errors: number;
  auth_failures: number;
};

/** The `count` calendar months up to and including the one holding `now`, oldest first. */
export function recentMonths(now: number, timeZone: string, count: number) {
  return Array.from({ length: count }, (_, i) => monthPeriod(now, timeZone, i - count + 1));
}

/**
 * Per group, its totals in each of the last `count` months (zero-filled). With `dropLeadingEmpty`,
 * months before the first one with any usage are left out, so an export starts where data does.
 */
export function monthTotals(
  sqlite: Sqlite,
  opts: { now: number; timeZone: string; count: number; group?: Group; dropLeadingEmpty?: boolean },
): GroupMonths[] {
  const column = opts.group ? GROUP_COLUMN[opts.group] : "'total'";
  const query = statement<[number, number], Row>(
    sqlite,
    `SELECT ${column} AS grp, min(k.id) AS key_id, sum(b.credits) AS credits,
         sum(b.requests) AS requests, sum(b.errors) AS errors, sum(b.auth_failures) AS auth_failures
       FROM usage_hour b JOIN keys k ON k.id = b.key_id
       WHERE b.bucket >= ? AND b.bucket < ? GROUP BY grp`,
  );
  let months = recentMonths(opts.now, opts.timeZone, opts.count);
  let perMonth = months.map((m) => query.all(m.start, Math.min(m.end, opts.now + 1)));
  if (opts.dropLeadingEmpty) {
    const first = perMonth.findIndex((rows) => rows.some((r) => r.credits > 0 || r.requests > 0));
    const from = first === -1 ? months.length : first;
    months = months.slice(from);
    perMonth = perMonth.slice(from);
  }
  const groups = new Map<string, GroupMonths>();
  perMonth.forEach((rows, i) => {
    for (const r of rows) {
      const g = groups.get(r.grp) ?? {
        group: r.grp,
        ...(opts.group === 'key' && { key_id: r.key_id }),
        months: months.map((m) => ({
          month: m.label,
          start: m.start,
          end: m.end,
          partial: m.end > opts.now + 1,
          credits: 0,
          requests: 0,
          errors: 0,
          auth_failures: 0,
        })),
      };
      Object.assign(g.months[i]!, {
        credits: r.credits,
        requests: r.requests,
        errors: r.errors,
        auth_failures: r.auth_failures,
      });
      groups.set(r.grp, g);
    }
  });
  const total = (g: GroupMonths) => g.months.reduce((s, m) => s + m.credits, 0);
  return [...groups.values()].sort((a, b) => total(b) - total(a) || a.group.localeCompare(b.group));
}
