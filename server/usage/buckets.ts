/**
 * Write-through bucket tables: every accepted event (and every later credit correction) is
 * added to its minute, hour, day and month bucket (and the day and month sums per key) in the same
 * transaction, so rollups never lag.
 */

import { DAY, floorTo, HOUR, MINUTE } from '../clock.ts';
import type { Sqlite } from '../db/client.ts';
import { preparedPerConnection } from '../db/statements.ts';

export const STEPS = { minute: MINUTE, hour: HOUR, day: DAY } as const;
export type Step = keyof typeof STEPS;
export const BUCKET_TABLES: Record<Step, string> = {
  minute: 'usage_minute',
  hour: 'usage_hour',
  day: 'usage_day',
};

export type Sums = { credits: number; requests: number; errors: number; authFailures: number };
export type BucketDelta = Sums & { keyId: string; ts: number; operation: string };

export function addSums(into: Sums, from: Sums): void {
  into.credits += from.credits;
  into.requests += from.requests;
  into.errors += from.errors;
  into.authFailures += from.authFailures;
}

/** Every key's sums per bucket, one row per bucket: what whole-account series read. */
export const TOTAL_TABLES: Record<Step, string> = {
  minute: 'usage_minute_total',
  hour: 'usage_hour_total',
  day: 'usage_day_total',
};

const ADD_SUMS = `credits = credits + excluded.credits,
           requests = requests + excluded.requests,
           errors = errors + excluded.errors,
           auth_failures = auth_failures + excluded.auth_failures`;

/**
 * A fourth resolution, not an API step: calendar months (UTC), so a year of month totals per key
 * is a dozen rows per key. Months have no fixed length: their floor is the calendar's.
 */
export const MONTH_TABLE = 'usage_month';
export type Resolution = Step | 'month';
export const floorToMonth = (ms: number) => {
  const d = new Date(ms);
  return Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1);
};
const FLOORS: Record<Resolution, (ms: number) => number> = {
  minute: (ms) => floorTo(ms, MINUTE),
  hour: (ms) => floorTo(ms, HOUR),
  day: (ms) => floorTo(ms, DAY),
  month: floorToMonth,
};
const ORDER: Resolution[] = ['minute', 'hour', 'day', 'month'];

/** Per-key sums over every operation, for the resolutions rankings and key charts read. */
export const KEY_TOTAL_TABLES = { day: 'usage_key_day', month: 'usage_key_month' } as const;
/** Day sums per operation over every key. */
export const OPERATION_DAY_TABLE = 'usage_operation_day';

type Rollup = {
  bucket: string;
  total: string | null;
  keyTotal: string | null;
  operationTotal: string | null;
};
/** The tables a resolution's sums go to, whichever database holds them. */
export const ROLLUPS: Record<Resolution, Rollup> = {
  minute: { bucket: BUCKET_TABLES.minute, total: TOTAL_TABLES.minute, keyTotal: null, operationTotal: null },
  hour: { bucket: BUCKET_TABLES.hour, total: TOTAL_TABLES.hour, keyTotal: null, operationTotal: null },
  day: {
    bucket: BUCKET_TABLES.day,
    total: TOTAL_TABLES.day,
    keyTotal: KEY_TOTAL_TABLES.day,
    operationTotal: OPERATION_DAY_TABLE,
  },
  // Whole-account months are a dozen day totals' sums: no table of their own.
  month: { bucket: MONTH_TABLE, total: null, keyTotal: KEY_TOTAL_TABLES.month, operationTotal: null },
};

type Writer = (...args: unknown[]) => void;
type Writers = {
  bucket: Writer;
  total: Writer | null;
  keyTotal: Writer | null;
  operationTotal: Writer | null;
};

/** Each resolution's upserts, prepared once per connection. */
const upserts = preparedPerConnection((sqlite): Record<Resolution, Writers> => {
  const writers = ({
    bucket: table,
    total: totals,
    keyTotal: keyTotals,
    operationTotal: operationTotals,
  }: Rollup): Writers => {
    const bucket = sqlite.prepare(
      `INSERT INTO ${table} (key_id, bucket, operation, credits, requests, errors, auth_failures)
       VALUES (?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (key_id, bucket, operation) DO UPDATE SET ${ADD_SUMS}`,
    );
    const total = totals
      ? sqlite.prepare(
          `INSERT INTO ${totals} (bucket, credits, requests, errors, auth_failures)
           VALUES (?, ?, ?, ?, ?) ON CONFLICT (bucket) DO UPDATE SET ${ADD_SUMS}`,
        )
      : null;
    const keyTotal = keyTotals
      ? sqlite.prepare(
          `INSERT INTO ${keyTotals} (key_id, bucket, credits, requests, errors, auth_failures)
           VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (key_id, bucket) DO UPDATE SET ${ADD_SUMS}`,
        )
      : null;
    const operationTotal = operationTotals
      ? sqlite.prepare(
          `INSERT INTO ${operationTotals} (operation, bucket, credits, requests, errors, auth_failures)
           VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (operation, bucket) DO UPDATE SET ${ADD_SUMS}`,
        )
      : null;
    return {
      operationTotal: operationTotal && ((...args: unknown[]) => void operationTotal.run(...args)),
      bucket: (...args: unknown[]) => void bucket.run(...args),
      total: total && ((...args: unknown[]) => void total.run(...args)),
      keyTotal: keyTotal && ((...args: unknown[]) => void keyTotal.run(...args)),
    };
  };
  return {
    minute: writers(ROLLUPS.minute),
    hour: writers(ROLLUPS.hour),
    day: writers(ROLLUPS.day),
    month: writers(ROLLUPS.month),
  };
});

/** Sums deltas per (key, bucket, operation) of `step`, and per bucket across keys. */
function merge(deltas: Iterable<BucketDelta>, floor: (ms: number) => number) {
  const rows = new Map<string, BucketDelta>();
  const totals = new Map<number, Sums>();
  for (const d of deltas) {
    const bucket = floor(d.ts);
    const id = `${d.keyId}\u0000${bucket}\u0000${d.operation}`;
    const m = rows.get(id);
    if (m) addSums(m, d);
    else rows.set(id, { ...d, ts: bucket });
    const t = totals.get(bucket);
    if (t) addSums(t, d);
    else
      totals.set(bucket, {
        credits: d.credits,
        requests: d.requests,
        errors: d.errors,
        authFailures: d.authFailures,
      });
  }
  return { rows, totals };
}

/** Merged rows summed again per (key, bucket) or (operation, bucket): `by` names the kept column. */
export function sumBy(rows: Iterable<BucketDelta>, by: (r: BucketDelta) => string): Map<string, BucketDelta> {
  const out = new Map<string, BucketDelta>();
  for (const r of rows) {
    const id = `${by(r)}\u0000${r.ts}`;
    const m = out.get(id);
    if (m) addSums(m, r);
    else out.set(id, { ...r });
  }
  return out;
}

/**
 * Deltas merged per bucket of each resolution, finest first and each coarser one from the finer
 * merge (coarser buckets contain finer ones: merging the merged rows again gives the same sums),
 * so a burst of events costs one pass and one row per bucket. Rows are keyed
 * `key\0bucket\0operation`; totals by bucket.
 */
export function* rollUp(
  deltas: Iterable<BucketDelta>,
  resolutions: readonly Resolution[] = ORDER,
): Generator<{ resolution: Resolution; rows: Map<string, BucketDelta>; totals: Map<number, Sums> }> {
  let level = deltas;
  for (const resolution of ORDER.filter((r) => resolutions.includes(r))) {
    const { rows, totals } = merge(level, FLOORS[resolution]);
    yield { resolution, rows, totals };
    level = rows.values();
  }
}

/**
 * Adds deltas to the given resolutions (all four by default; history older than minute
 * retention has no business in the minute table), and to each resolution's totals. Deltas are
 * merged per bucket first, finest resolution first and each coarser one from the finer merge,
 * so a burst of events costs one upsert per bucket and one pass over the events. Call inside a
 * transaction.
 */
export function addToBuckets(
  sqlite: Sqlite,
  deltas: Iterable<BucketDelta>,
  resolutions: readonly Resolution[] = ORDER,
): void {
  const writers = upserts(sqlite);
  for (const { resolution, rows, totals } of rollUp(deltas, resolutions)) {
    const w = writers[resolution];
    for (const m of rows.values()) {
      w.bucket(m.keyId, m.ts, m.operation, m.credits, m.requests, m.errors, m.authFailures);
    }
    if (w.total)
      for (const [bucket, t] of totals) w.total(bucket, t.credits, t.requests, t.errors, t.authFailures);
    if (w.keyTotal) {
      for (const t of sumBy(rows.values(), (r) => r.keyId).values()) {
        w.keyTotal(t.keyId, t.ts, t.credits, t.requests, t.errors, t.authFailures);
      }
    }
    if (w.operationTotal) {
      for (const t of sumBy(rows.values(), (r) => r.operation).values()) {
        w.operationTotal(t.operation, t.ts, t.credits, t.requests, t.errors, t.authFailures);
      }
    }
  }
}
