/**
 * discovered_key: traffic on a key nobody registered (seen by the gateway or a webhook only).
 * One episode per key: it opens on first use and extends while the key stays in use.
 */
import type { Detector } from '../types.ts';

export const detectDiscoveredKey: Detector = (e) => {
  const { state, bucket, ctx } = e;
  if (ctx.status !== 'discovered' || bucket.requests <= 0) return null;
  const first = state.fired.discovered_key;
  const quiet = ctx.rules.params.baseline.quiet_minutes * 60_000;
  if (first !== undefined && bucket.ts - first > quiet) return null;
  return {
    kind: 'discovered_key',
    at: bucket.ts,
    window: { from: bucket.ts, to: bucket.ts + state.bucketMs },
    unit: 'requests',
    observed: bucket.requests,
    expected: 0,
    low: 0,
    high: 0,
    method: 'the key is not registered in Keywatch',
    score: 0.8,
    bucketImpact: bucket.credits,
    windowImpact: bucket.credits,
  };
};
