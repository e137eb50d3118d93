/**
 * auth_failures: a burst of 401s on a key (someone trying a bad, revoked or guessed secret),
 * judged against the key's own 401 rate with a Poisson tail and an absolute minimum.
 */

import { bucketsIn, ringSum } from '../state.ts';
import { countTail, scoreFromP } from '../stats.ts';
import type { Detector } from '../types.ts';

export const detectAuthFailures: Detector = (e) => {
  const { state, bucket, ctx } = e;
  if (bucket.authFailures <= 0) return null;
  const params = ctx.rules.params.auth_failures;
  const f = ctx.factor('auth_failures');
  const len = bucketsIn(state, params.window_minutes);
  const n = ringSum(state, state.ring.auth, len);
  if (n < params.min_failures * f) return null;
  const expected = Math.max(state.authRate * len, 1e-3);
  const alpha = params.alpha ** f;
  const p = countTail(n, expected, 1);
  if (p >= alpha) return null;
  return {
    kind: 'auth_failures',
    at: bucket.ts,
    window: { from: bucket.ts - (len - 1) * state.bucketMs, to: bucket.ts + state.bucketMs },
    unit: 'auth_failures',
    observed: n,
    expected,
    low: 0,
    high: expected + 3 * Math.sqrt(expected),
    method: `usual number of rejected requests for this key in ${params.window_minutes} minutes`,
    score: scoreFromP(p, alpha),
    bucketImpact: 0,
    windowImpact: 0,
    facts: { failures: n },
  };
};
