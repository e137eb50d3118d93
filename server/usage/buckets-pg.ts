import type { PgQueryable } from '../db/transaction.ts';
import { type BucketDelta, ROLLUPS, rollUp, type Sums, sumBy } from './buckets.ts';

export const cmp = (a: string | number, b: string | number) => (a < b ? -1 : a > b ? 1 : 0);

const SET_SUMS = `credits = t.credits + excluded.credits, requests = t.requests + excluded.requests,
  errors = t.errors + excluded.errors, auth_failures = t.auth_failures + excluded.auth_failures`;

/** A map's values sorted by key, so every process locks the rows in the same order. */
const sorted = <K extends string | number, V>(rows: Map<K, V>): V[] =>
  [...rows.entries()].sort(([a], [b]) => cmp(a, b)).map(([, r]) => r);

const sums = (rows: Sums[]) => [
  rows.map((r) => r.credits),
  rows.map((r) => r.requests),
  rows.map((r) => r.errors),
  rows.map((r) => r.authFailures),
];

/** buckets.ts's addToBuckets: each resolution's rows, totals, per-key and per-operation sums. */
export async function addToBucketsPg(c: PgQueryable, deltas: BucketDelta[]): Promise<void> {
  if (deltas.length === 0) return;
  for (const { resolution, rows: merged, totals } of rollUp(deltas)) {
    const tables = ROLLUPS[resolution];
    const rows = sorted(merged);
    await c.query(
      `INSERT INTO ${tables.bucket} AS t (key_id, bucket, operation, credits, requests, errors, auth_failures)
       SELECT * FROM unnest($1::text[], $2::bigint[], $3::text[], $4::float8[], $5::bigint[], $6::bigint[], $7::bigint[])
       ON CONFLICT (key_id, bucket, operation) DO UPDATE SET ${SET_SUMS}`,
      [rows.map((d) => d.keyId), rows.map((d) => d.ts), rows.map((d) => d.operation), ...sums(rows)],
    );
    if (tables.total) {
      const buckets = [...totals.keys()].sort((a, b) => a - b);
      await c.query(
        `INSERT INTO ${tables.total} AS t (bucket, credits, requests, errors, auth_failures)
         SELECT * FROM unnest($1::bigint[], $2::float8[], $3::bigint[], $4::bigint[], $5::bigint[])
         ON CONFLICT (bucket) DO UPDATE SET ${SET_SUMS}`,
        [buckets, ...sums(buckets.map((b) => totals.get(b)!))],
      );
    }
    if (tables.keyTotal) {
      const perKey = sorted(sumBy(rows, (d) => d.keyId));
      await c.query(
        `INSERT INTO ${tables.keyTotal} AS t (key_id, bucket, credits, requests, errors, auth_failures)
         SELECT * FROM unnest($1::text[], $2::bigint[], $3::float8[], $4::bigint[], $5::bigint[], $6::bigint[])
         ON CONFLICT (key_id, bucket) DO UPDATE SET ${SET_SUMS}`,
        [perKey.map((d) => d.keyId), perKey.map((d) => d.ts), ...sums(perKey)],
      );
    }
    if (tables.operationTotal) {
      const perOperation = sorted(sumBy(rows, (d) => d.operation));
      await c.query(
        `INSERT INTO ${tables.operationTotal} AS t (operation, bucket, credits, requests, errors, auth_failures)
         SELECT * FROM unnest($1::text[], $2::bigint[], $3::float8[], $4::bigint[], $5::bigint[], $6::bigint[])
         ON CONFLICT (operation, bucket) DO UPDATE SET ${SET_SUMS}`,
        [perOperation.map((d) => d.operation), perOperation.map((d) => d.ts), ...sums(perOperation)],
      );
    }
  }
}
