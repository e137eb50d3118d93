/** Loads daily totals (in the configured time zone) for the forecast of one period: a month or a billing period. */

import { sql } from 'drizzle-orm';
import { DAY, HOUR } from '../clock.ts';
import type { Db } from '../db/client.ts';
import { rows } from '../db/transaction.ts';
import { localDate, localMidnight, localParts, monthPeriod, type Period } from '../time-zone.ts';
import { idsIn } from '../usage/id-list.ts';
import type { ForecastInput } from './month-end.ts';

export type SpendFilter = { keyId?: string; environment?: string };
const HISTORY_DAYS = 28;

type Filter = SpendFilter & { keyIds?: string[] };
type Part = { resolution: 'hour' | 'day'; from: number; to: number };

/**
 * [from, to) cut into runs read from the day rollup and the hours around them: a UTC day that lies
 * inside one local date (every day in UTC, winter days in London) is one row per key instead of
 * 24; the rest, and the day not yet over, come from hours.
 */
export function rollupParts(from: number, to: number, timeZone: string): Part[] {
  const parts: Part[] = [];
  const push = (resolution: Part['resolution'], a: number, b: number) => {
    if (a >= b) return;
    const last = parts[parts.length - 1];
    if (last && last.resolution === resolution && last.to === a) last.to = b;
    else parts.push({ resolution, from: a, to: b });
  };
  let t = from;
  for (let day = Math.ceil(from / DAY) * DAY; day + DAY <= to; day += DAY) {
    if (localDate(day, timeZone) !== localDate(day + DAY - 1, timeZone)) continue;
    push('hour', t, day);
    push('day', day, day + DAY);
    t = day + DAY;
  }
  push('hour', t, to);
  return parts;
}

/** Credits per bucket of one rollup over [from, to): the whole account's, one key's or some keys'. */
async function creditsPerBucket(db: Db, part: Part, filter: Filter) {
  // By key, days come from the per-key day sums (no operation to add up); hours from the buckets.
  const table = sql.raw(part.resolution === 'day' ? 'usage_key_day' : 'usage_hour');
  type Out = { bucket: number; credits: number };
  if (filter.keyId) {
    return rows<Out>(
      db,
      sql`SELECT bucket, sum(credits) AS credits FROM ${table}
         WHERE key_id = ${filter.keyId} AND bucket >= ${part.from} AND bucket < ${part.to} GROUP BY bucket`,
    );
  }
  if (filter.keyIds) {
    return rows<Out>(
      db,
      sql`SELECT bucket, sum(credits) AS credits FROM ${table}
         WHERE key_id IN (${idsIn(db, filter.keyIds)}) AND bucket >= ${part.from} AND bucket < ${part.to}
         GROUP BY bucket`,
    );
  }
  return rows<Out>(
    db,
    sql`SELECT bucket, credits FROM ${sql.raw(`usage_${part.resolution}_total`)}
      WHERE bucket >= ${part.from} AND bucket < ${part.to}`,
  );
}

/**
 * Sums credits by local date from the day rollup where a UTC day is one local date and from hours
 * elsewhere: hour granularity is exact for every whole-hour zone. An environment is its keys' ids,
 * looked up first: the sum reads buckets by key, never a join with keys.
 */
async function dailyTotals(db: Db, from: number, to: number, filter: SpendFilter, timeZone: string) {
  const scope: Filter = filter.keyId
    ? { keyId: filter.keyId }
    : filter.environment
      ? {
          keyIds: (
            await rows<{ id: string }>(db, sql`SELECT id FROM keys WHERE environment = ${filter.environment}`)
          ).map((k) => k.id),
        }
      : {};
  const totals = new Map<string, number>();
  for (const part of rollupParts(from, to, timeZone)) {
    for (const r of await creditsPerBucket(db, part, scope)) {
      const date = localDate(r.bucket, timeZone);
      totals.set(date, (totals.get(date) ?? 0) + r.credits);
    }
  }
  return totals;
}

/** Every local date from `from` to `to` (exclusive), stepping by whole days at local noon. */
function datesBetween(from: number, to: number, timeZone: string): string[] {
  const dates: string[] = [];
  for (let t = from + 12 * HOUR; t < to + 12 * HOUR; t += DAY) {
    const d = localDate(t, timeZone);
    if (dates[dates.length - 1] !== d) dates.push(d);
  }
  return dates;
}

/**
 * Inputs for the forecast of `period` (default: the calendar month). A billing period may start
 * and end mid-day: its first date's whole total teaches the rate while only the part after the
 * start counts as spent (`beforeStart`), that date is left out of the history so no hour is
 * counted twice, and its last date counts only the share inside the period.
 */
export async function loadForecastInput(
  db: Db,
  now: number,
  timeZone: string,
  filter: SpendFilter,
  period: Period = monthPeriod(now, timeZone),
): Promise<{ input: ForecastInput; period: Period }> {
  const historyStart = period.start - HISTORY_DAYS * DAY;
  const totals = await dailyTotals(db, historyStart, now + 1, filter, timeZone);
  const periodDates = datesOf(period, timeZone);
  const firstDate = periodDates[0]!;
  const lastDate = periodDates[periodDates.length - 1]!;
  const firstDayStart = startOfLocalDate(period.start, timeZone);
  const beforeStart =
    firstDayStart < period.start
      ? sumOf(await dailyTotals(db, firstDayStart, Math.min(period.start, now + 1), filter, timeZone))
      : 0;
  const lastDayStart = startOfLocalDate(period.end - 1, timeZone);
  // A period ending at a local midnight (every calendar month) has a whole last date.
  const endsAtMidnight = startOfLocalDate(period.end, timeZone) === period.end;
  const lastDayShare = endsAtMidnight ? 1 : Math.min(1, (period.end - lastDayStart) / DAY);
  const today = localDate(now, timeZone);
  const todayIndex = periodDates.indexOf(today);
  const pick = (date: string) => ({ date, credits: totals.get(date) ?? 0 });
  const clock = localParts(now, timeZone);
  return {
    period,
    input: {
      monthToDate: periodDates.slice(0, todayIndex + 1).map(pick),
      history: datesBetween(historyStart, period.start, timeZone)
        .filter((d) => d !== firstDate)
        .map(pick),
      remainingDates: periodDates.slice(todayIndex + 1),
      todayElapsed: (clock.hour * 3600 + clock.minute * 60 + clock.second) / 86_400,
      beforeStart: todayIndex >= 0 ? beforeStart : 0,
      lastDayShare: lastDate === firstDate ? 1 : lastDayShare,
    },
  };
}

/** Every local date the period touches, from its start to its last millisecond. */
function datesOf(period: Period, timeZone: string): string[] {
  const dates: string[] = [];
  const add = (d: string) => dates[dates.length - 1] !== d && dates.push(d);
  for (let t = period.start; t < period.end; t += DAY) add(localDate(t, timeZone));
  add(localDate(period.end - 1, timeZone));
  return dates;
}

const sumOf = (totals: Map<string, number>) => [...totals.values()].reduce((s, c) => s + c, 0);

/** The local midnight that starts the date containing `ms`. */
function startOfLocalDate(ms: number, timeZone: string): number {
  const p = localParts(ms, timeZone);
  return localMidnight(p.year, p.month, p.day, timeZone);
}
