/** The finding of detectors for which any use at all is the signal (revoked, dormant, unregistered keys). */
import type { Evaluation, Finding } from '../types.ts';

export function useFinding(
  { state, bucket }: Evaluation,
  kind: Finding['kind'],
  method: string,
  score: number,
  facts?: Finding['facts'],
): Finding {
  return {
    kind,
    at: bucket.ts,
    window: { from: bucket.ts, to: bucket.ts + state.bucketMs },
    unit: 'requests',
    observed: bucket.requests,
    expected: 0,
    low: 0,
    high: 0,
    method,
    score,
    bucketImpact: bucket.credits,
    windowImpact: bucket.credits,
    ...(facts && { facts }),
  };
}
