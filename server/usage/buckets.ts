/**
 * Write-through bucket tables: every accepted event (and every later credit correction) is
 * added to its minute, hour and day bucket in the same transaction, so rollups never lag.
 */

import { DAY, floorTo, HOUR, MINUTE } from '../clock.ts';
import type { Sqlite } from '../db/client.ts';

export const STEPS = { minute: MINUTE, hour: HOUR, day: DAY } as const;
export type Step = keyof typeof STEPS;
export const BUCKET_TABLES: Record<Step, string> = {
  minute: 'usage_minute',
  hour: 'usage_hour',
  day: 'usage_day',
};

export type BucketDelta = {
  keyId: string;
  ts: number;
  operation: string;
  credits: number;
  requests: number;
  errors: number;
  authFailures: number;
};

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

type Writer = (...args: unknown[]) => void;
const statements = new WeakMap<Sqlite, Record<Step, { bucket: Writer; total: Writer }>>();

function upserts(sqlite: Sqlite) {
  let cached = statements.get(sqlite);
  if (!cached) {
    const writers = (step: Step) => {
      const bucket = sqlite.prepare(
        `INSERT INTO ${BUCKET_TABLES[step]} (key_id, bucket, operation, credits, requests, errors, auth_failures)
         VALUES (?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (key_id, bucket, operation) DO UPDATE SET ${ADD_SUMS}`,
      );
      const total = sqlite.prepare(
        `INSERT INTO ${TOTAL_TABLES[step]} (bucket, credits, requests, errors, auth_failures)
         VALUES (?, ?, ?, ?, ?) ON CONFLICT (bucket) DO UPDATE SET ${ADD_SUMS}`,
      );
      return {
        bucket: (...args: unknown[]) => void bucket.run(...args),
        total: (...args: unknown[]) => void total.run(...args),
      };
    };
    cached = { minute: writers('minute'), hour: writers('hour'), day: writers('day') };
    statements.set(sqlite, cached);
  }
  return cached;
}

/**
 * Adds deltas to the given resolutions (all three by default; history older than minute
 * retention has no business in the minute table). Deltas that share a bucket are merged first,
 * so a burst of events costs one upsert per bucket. Call inside a transaction.
 */
export function addToBuckets(
  sqlite: Sqlite,
  deltas: Iterable<BucketDelta>,
  resolutions: readonly Step[] = ['minute', 'hour', 'day'],
): void {
  const writers = upserts(sqlite);
  for (const resolution of resolutions) {
    const step = STEPS[resolution];
    const merged = new Map<string, BucketDelta & { bucket: number }>();
    const totals = new Map<
      number,
      { credits: number; requests: number; errors: number; authFailures: number }
    >();
    for (const d of deltas) {
      const bucket = floorTo(d.ts, step);
      const id = `${d.keyId}\u0000${bucket}\u0000${d.operation}`;
      const m = merged.get(id);
      if (m) {
        m.credits += d.credits;
        m.requests += d.requests;
        m.errors += d.errors;
        m.authFailures += d.authFailures;
      } else merged.set(id, { ...d, bucket });
      const t = totals.get(bucket);
      if (t) {
        t.credits += d.credits;
        t.requests += d.requests;
        t.errors += d.errors;
        t.authFailures += d.authFailures;
      } else
        totals.set(bucket, {
          credits: d.credits,
          requests: d.requests,
          errors: d.errors,
          authFailures: d.authFailures,
        });
    }
    const w = writers[resolution];
    for (const m of merged.values()) {
      w.bucket(m.keyId, m.bucket, m.operation, m.credits, m.requests, m.errors, m.authFailures);
    }
    for (const [bucket, t] of totals) w.total(bucket, t.credits, t.requests, t.errors, t.authFailures);
  }
}
