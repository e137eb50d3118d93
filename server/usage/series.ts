/** Usage series from the bucket tables: one key's points, or totals grouped by key, environment or operation. */

import { floorTo } from '../clock.ts';
import type { Sqlite } from '../db/client.ts';
import { statement } from '../db/statements.ts';
import { AppError } from '../errors.ts';
import { BUCKET_TABLES, STEPS, type Step } from './buckets.ts';

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

export function totalSeries(sqlite: Sqlite, range: Range): Point[] {
  const rows = statement<[number, number], Row>(
    sqlite,
    `SELECT bucket, ${SUMS} FROM ${BUCKET_TABLES[range.step]}
       WHERE bucket >= ? AND bucket < ? GROUP BY bucket ORDER BY bucket`,
  ).all(floorTo(range.from, STEPS[range.step]), range.to);
  return fill(range, rows);
}

export type GroupSeries = {
  group: string;
  key_id?: string;
  credits: number;
  requests: number;
  errors: number;
  points: Point[];
};

const GROUP_COLUMN: Record<Group, string> = {
  key: 'k.name',
  environment: "coalesce(k.environment, '(none)')",
  operation: "CASE WHEN b.operation = '' THEN '(unknown)' ELSE b.operation END",
};

/** Series per group, largest spender first. */
export function groupedSeries(sqlite: Sqlite, range: Range, group: Group): GroupSeries[] {
  const rows = statement<[number, number], Row & { grp: string; key_id: string }>(
    sqlite,
    `SELECT ${GROUP_COLUMN[group]} AS grp, min(k.id) AS key_id, b.bucket AS bucket,
         sum(b.credits) AS credits, sum(b.requests) AS requests, sum(b.errors) AS errors,
         sum(b.auth_failures) AS auth_failures
       FROM ${BUCKET_TABLES[range.step]} b JOIN keys k ON k.id = b.key_id
       WHERE b.bucket >= ? AND b.bucket < ? GROUP BY grp, b.bucket`,
  ).all(floorTo(range.from, STEPS[range.step]), range.to);
  const byGroup = new Map<string, { keyId: string; rows: Row[] }>();
  for (const r of rows) {
    const g = byGroup.get(r.grp) ?? { keyId: r.key_id, rows: [] };
    g.rows.push(r);
    byGroup.set(r.grp, g);
  }
  // Zero-filled, every group has every bucket: the cap counts across groups, before filling.
  refuseTooManyPoints(range, byGroup.size);
  return [...byGroup.entries()]
    .map(([name, g]) => {
      const points = fill(range, g.rows);
      return {
        group: name,
        ...(group === 'key' && { key_id: g.keyId }),
        credits: points.reduce((s, p) => s + p.credits, 0),
        requests: points.reduce((s, p) => s + p.requests, 0),
        errors: points.reduce((s, p) => s + p.errors, 0),
        points,
      };
    })
    .sort((a, b) => b.credits - a.credits || a.group.localeCompare(b.group));
}
