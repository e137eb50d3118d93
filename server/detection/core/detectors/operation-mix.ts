/**
 * operation_mix: the key spends far more per request than it usually does at a normal request
 * count (someone rendering video on an image key), or runs an expensive operation it never used.
 * Requests that expensive are counted against what the key's own cost tail predicts for that many requests.
 */

import { bucketsIn, ringSum } from '../state.ts';
import { countTail, scoreFromP } from '../stats.ts';
import type { Detector } from '../types.ts';

export const detectOperationMix: Detector = (e) => {
  const { state, bucket, ctx } = e;
  if (!e.warm || bucket.requests <= 0 || state.cpr <= 0) return null;
  const params = ctx.rules.params.operation_mix;
  const f = ctx.factor('operation_mix');
  const quiet = ctx.rules.params.baseline.quiet_minutes * 60_000;
  const newOps = bucket.ops.filter(
    (o) =>
      o.requests > 0 &&
      (state.ops[o.op] === undefined || (state.opsNew[o.op] ?? -Infinity) >= bucket.ts - quiet) &&
      o.credits / o.requests >= params.ratio * f * state.cpr,
  );
  const len = bucketsIn(state, 60);
  const n = ringSum(state, state.ring.req, len);
  const c = ringSum(state, state.ring.cred, len);
  const expected = n * state.cpr;
  const alpha = params.alpha ** f;
  // Given the request count, requests this expensive are a thinned count with the key's own tail.
  const pricey = ringSum(state, state.ring.pricey, len);
  const p = pricey > 0 ? countTail(pricey, ringSum(state, state.ring.expPricey, len), 1) : 1;
  const shifted = c - expected >= params.floor_credits * f && p < alpha;
  if (!shifted && newOps.length === 0) return null;
  return {
    kind: 'operation_mix',
    at: bucket.ts,
    window: { from: bucket.ts - (len - 1) * state.bucketMs, to: bucket.ts + state.bucketMs },
    unit: 'credits',
    observed: c,
    expected,
    low: 0,
    high: n * state.cpr * params.ratio,
    method: "the key's usual credits per request and operations",
    score: shifted ? scoreFromP(p, alpha) : 0.7,
    bucketImpact: Math.max(0, bucket.credits - bucket.requests * state.cpr),
    windowImpact: Math.max(0, c - expected),
    facts: {
      new_operations: newOps.map((o) => o.op),
      credits_per_request: n > 0 ? Math.round(c / n) : 0,
      usual_credits_per_request: Math.round(state.cpr * 10) / 10,
    },
  };
};
