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

const statements = new WeakMap<Sqlite, ((...args: unknown[]) => void)[]>();

function upserts(sqlite: Sqlite) {
  let cached = statements.get(sqlite);
  if (!cached) {
    cached = Object.values(BUCKET_TABLES).map((table) => {
      const stmt = sqlite.prepare(
        `INSERT INTO ${table} (key_id, bucket, operation, credits, requests, errors, auth_failures)
         VALUES (?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (key_id, bucket, operation) DO UPDATE SET
           credits = credits + excluded.credits,
           requests = requests + excluded.requests,
           errors = errors + excluded.errors,
           auth_failures = auth_failures + excluded.auth_failures`,
      );
      return (...args: unknown[]) => void stmt.run(...args);
    });
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
  const [minute, hour, day] = upserts(sqlite);
  const writers: Record<Step, (...args: unknown[]) => void> = { minute: minute!, hour: hour!, day: day! };
  for (const resolution of resolutions) {
    const step = STEPS[resolution];
    const merged = new Map<string, BucketDelta & { bucket: number }>();
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
    }
    for (const m of merged.values()) {
      writers[resolution](m.keyId, m.bucket, m.operation, m.credits, m.requests, m.errors, m.authFailures);
    }
  }
}
