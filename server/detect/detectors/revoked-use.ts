/** revoked_use: any request on a key after its revocation time. Always critical. */
import type { Detector } from '../types.ts';

export const detectRevokedUse: Detector = (e) => {
  const { state, bucket, ctx } = e;
  if (ctx.revokedAt === null || bucket.requests <= 0 || bucket.ts + state.bucketMs <= ctx.revokedAt)
    return null;
  return {
    kind: 'revoked_use',
    at: bucket.ts,
    window: { from: bucket.ts, to: bucket.ts + state.bucketMs },
    unit: 'requests',
    observed: bucket.requests,
    expected: 0,
    low: 0,
    high: 0,
    method: 'any use after the key was revoked',
    score: 1,
    bucketImpact: bucket.credits,
    windowImpact: bucket.credits,
    facts: { revoked_at: ctx.revokedAt },
  };
};
