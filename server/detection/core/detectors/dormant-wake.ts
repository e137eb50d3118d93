/** dormant_wake: a key unused for `dormant_days` is used again; the episode lasts while it keeps being used. */
import type { Detector } from '../types.ts';
import { useFinding } from './use-finding.ts';

export const detectDormantWake: Detector = (e) => {
  const { state, bucket, ctx } = e;
  if (bucket.requests <= 0 || state.lastUse === null) return null;
  const days = ctx.rules.params.dormant_wake.dormant_days * ctx.factor('dormant_wake');
  const idle = bucket.ts - state.lastUse;
  const woke = state.fired.dormant_wake;
  const continuing =
    woke !== undefined && bucket.ts - woke <= ctx.rules.params.baseline.quiet_minutes * 60_000;
  if (idle < days * 86_400_000 && !continuing) return null;
  const score = continuing ? 0.75 : Math.min(1, 0.5 + idle / (days * 86_400_000) / 8);
  // Only the wake-up knows how long the key slept; later buckets of the episode must not overwrite it.
  const facts = continuing ? undefined : { idle_days: Math.round((idle / 86_400_000) * 10) / 10 };
  return useFinding(e, 'dormant_wake', `no use for ${Math.round(days)} days or more`, score, facts);
};
