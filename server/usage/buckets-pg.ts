/**
 * buckets.ts for PostgreSQL: deltas merged per bucket in memory, then each resolution's rows,
 * totals, per-key and per-operation sums added by one INSERT ... SELECT FROM unnest ... ON CONFLICT
 * each. Rows go in sorted order, so two processes adding to the same buckets cannot deadlock.
 */
import type pg from 'pg';
import { DAY, floorTo, HOUR, MINUTE } from '../clock.ts';
import { floorToMonth } from './buckets.ts';

type Sums = { credits: number; requests: number; errors: number; authFailures: number };
export type Delta = Sums & { keyId: string; ts: number; operation: string };

export const cmp = (a: string | number, b: string | number) => (a < b ? -1 : a > b ? 1 : 0);

const SET_SUMS = `credits = t.credits + excluded.credits, requests = t.requests + excluded.requests,
  errors = t.errors + excluded.errors, auth_failures = t.auth_failures + excluded.auth_failures`;

const RESOLUTIONS = [
  { floor: (ms: number) => floorTo(ms, MINUTE), bucket: 'usage_minute', total: 'usage_minute_total' },
  { floor: (ms: number) => floorTo(ms, HOUR), bucket: 'usage_hour', total: 'usage_hour_total' },
  {
    floor: (ms: number) => floorTo(ms, DAY),
    bucket: 'usage_day',
    total: 'usage_day_total',
    keyTotal: 'usage_key_day',
    operationTotal: 'usage_operation_day',
  },
  { floor: floorToMonth, bucket: 'usage_month', keyTotal: 'usage_key_month' },
] as const;

/** Sums rows per `id`; rows sorted by id so every process locks them in the same order. */
function sumBy<T extends Sums>(rows: Iterable<T>, id: (r: T) => string): T[] {
  const out = new Map<string, T>();
  for (const r of rows) {
    const k = id(r);
    const m = out.get(k);
    if (m) {
      m.credits += r.credits;
      m.requests += r.requests;
      m.errors += r.errors;
      m.authFailures += r.authFailures;
    } else out.set(k, { ...r });
  }
  return [...out.entries()].sort(([a], [b]) => cmp(a, b)).map(([, r]) => r);
}

const sums = (rows: Sums[]) => [
  rows.map((r) => r.credits),
  rows.map((r) => r.requests),
  rows.map((r) => r.errors),
  rows.map((r) => r.authFailures),
];

/** buckets.ts's addToBuckets: each resolution's rows, totals, per-key and per-operation sums. */
export async function addToBucketsPg(c: pg.PoolClient, deltas: Delta[]): Promise<void> {
  if (deltas.length === 0) return;
  for (const r of RESOLUTIONS) {
    const rows = sumBy(
      deltas.map((d) => ({ ...d, ts: r.floor(d.ts) })),
      (d) => `${d.keyId}\u0000${d.ts}\u0000${d.operation}`,
    );
    await c.query(
      `INSERT INTO ${r.bucket} AS t (key_id, bucket, operation, credits, requests, errors, auth_failures)
       SELECT * FROM unnest($1::text[], $2::bigint[], $3::text[], $4::float8[], $5::bigint[], $6::bigint[], $7::bigint[])
       ON CONFLICT (key_id, bucket, operation) DO UPDATE SET ${SET_SUMS}`,
      [rows.map((d) => d.keyId), rows.map((d) => d.ts), rows.map((d) => d.operation), ...sums(rows)],
    );
    if ('total' in r) {
      const totals = sumBy(rows, (d) => String(d.ts).padStart(16, '0'));
      await c.query(
        `INSERT INTO ${r.total} AS t (bucket, credits, requests, errors, auth_failures)
         SELECT * FROM unnest($1::bigint[], $2::float8[], $3::bigint[], $4::bigint[], $5::bigint[])
         ON CONFLICT (bucket) DO UPDATE SET ${SET_SUMS}`,
        [totals.map((d) => d.ts), ...sums(totals)],
      );
    }
    if ('keyTotal' in r) {
      const perKey = sumBy(rows, (d) => `${d.keyId}\u0000${d.ts}`);
      await c.query(
        `INSERT INTO ${r.keyTotal} AS t (key_id, bucket, credits, requests, errors, auth_failures)
         SELECT * FROM unnest($1::text[], $2::bigint[], $3::float8[], $4::bigint[], $5::bigint[], $6::bigint[])
         ON CONFLICT (key_id, bucket) DO UPDATE SET ${SET_SUMS}`,
        [perKey.map((d) => d.keyId), perKey.map((d) => d.ts), ...sums(perKey)],
      );
    }
    if ('operationTotal' in r) {
      const perOperation = sumBy(rows, (d) => `${d.operation}\u0000${d.ts}`);
      await c.query(
        `INSERT INTO ${r.operationTotal} AS t (operation, bucket, credits, requests, errors, auth_failures)
         SELECT * FROM unnest($1::text[], $2::bigint[], $3::float8[], $4::bigint[], $5::bigint[], $6::bigint[])
         ON CONFLICT (operation, bucket) DO UPDATE SET ${SET_SUMS}`,
        [perOperation.map((d) => d.operation), perOperation.map((d) => d.ts), ...sums(perOperation)],
      );
    }
  }
}
