/**
 * The account-level detector: credits spent that no key explains (unattributed_spend, from
 * provider webhooks and balance reconciliation). Any material amount in the window is a finding.
 */
import type { RuleSet } from './params.ts';
import type { Finding } from './types.ts';

const RING = 60;

export type AccountState = { v: 1; ring: number[]; pos: number };

export const createAccountState = (): AccountState => ({ v: 1, ring: new Array(RING).fill(0), pos: 0 });

/** One closed minute of unattributed credits (by the time they became known). */
export function stepAccount(
  state: AccountState,
  ts: number,
  credits: number,
  rules: RuleSet,
): Finding | null {
  state.pos = (state.pos + 1) % RING;
  state.ring[state.pos] = credits;
  if (!rules.enabled.unattributed_spend || credits <= 0) return null;
  const params = rules.params.unattributed_spend;
  const len = Math.max(1, Math.min(RING, Math.round(params.window_minutes)));
  let sum = 0;
  for (let i = 0; i < len; i++) sum += state.ring[(state.pos - i + RING) % RING]!;
  if (sum < params.floor_credits) return null;
  return {
    kind: 'unattributed_spend',
    at: ts,
    window: { from: ts - (len - 1) * 60_000, to: ts + 60_000 },
    unit: 'credits',
    observed: sum,
    expected: 0,
    low: 0,
    high: params.floor_credits,
    method: `credits no key explains in ${len} minutes (it fires from ${params.floor_credits})`,
    score: Math.min(1, 0.5 + sum / (4 * (sum + params.floor_credits))),
    bucketImpact: credits,
    windowImpact: sum,
  };
}
