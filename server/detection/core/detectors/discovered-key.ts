/**
 * discovered_key: traffic on a key nobody registered (seen by the gateway or a webhook only).
 * One episode per key: it opens on first use and extends while the key stays in use.
 */
import type { Detector } from '../types.ts';
import { useFinding } from './use-finding.ts';

export const detectDiscoveredKey: Detector = (e) => {
  const { state, bucket, ctx } = e;
  if (ctx.status !== 'discovered' || bucket.requests <= 0) return null;
  const first = state.fired.discovered_key;
  const quiet = ctx.rules.params.baseline.quiet_minutes * 60_000;
  if (first !== undefined && bucket.ts - first > quiet) return null;
  return useFinding(e, 'discovered_key', 'the key is not registered in Keywatch', 0.8);
};
