/**
 * off_hours: use in an hour (weekday or weekend) the key has never worked in, nor the hours next
 * to it, once it has a history. One stray request does not count: `min_requests` in the last hour.
 */
import { bucketsIn, cellsOf, ringSum } from '../state.ts';
import type { Detector } from '../types.ts';

export function isUnusedHour(used: readonly number[], ts: number, neighbors: number, zone?: string): boolean {
  const { dc } = cellsOf(ts, zone);
  const base = dc >= 24 ? 24 : 0;
  const hour = dc - base;
  for (let d = -neighbors; d <= neighbors; d++) {
    if (used[base + ((hour + d + 24) % 24)]! > 0) return false;
  }
  return true;
}

export const detectOffHours: Detector = (e) => {
  const { state, bucket, ctx } = e;
  if (!e.warm || bucket.requests <= 0) return null;
  const params = ctx.rules.params.off_hours;
  if (!isUnusedHour(state.used, bucket.ts, params.neighbor_hours, state.zone)) return null;
  const len = bucketsIn(state, 60);
  const n = ringSum(state, state.ring.req, len);
  if (n < params.min_requests * ctx.factor('off_hours')) return null;
  const credits = ringSum(state, state.ring.cred, len);
  const cell = cellsOf(bucket.ts, state.zone);
  return {
    kind: 'off_hours',
    at: bucket.ts,
    window: { from: bucket.ts - (len - 1) * state.bucketMs, to: bucket.ts + state.bucketMs },
    unit: 'requests',
    observed: n,
    expected: 0,
    low: 0,
    high: 0,
    method: 'hours of the week this key has been used in since it was first seen',
    score: Math.min(1, 0.5 + n / (4 * (n + params.min_requests))),
    bucketImpact: bucket.credits,
    windowImpact: credits,
    facts: { hour: cell.hour, weekend: cell.dc >= 24 ? 1 : 0, time_zone: state.zone ?? 'UTC' },
  };
};
