/** Synthetic per-minute traffic for detector tests: deterministic, fed straight into stepKey. */
import { DAY, MINUTE } from '../../server/clock.ts';
import { defaultRuleSet, type RuleSet } from '../../server/detection/core/params.ts';
import { createKeyState, type KeyState } from '../../server/detection/core/state.ts';
import { stepKey } from '../../server/detection/core/step.ts';
import type { Bucket, Finding, KeyContext } from '../../server/detection/core/types.ts';
import { createRng } from '../../server/simulate/random.ts';

/** Monday 2026-10-05 00:00 UTC. */
export const START = Date.UTC(2026, 9, 5);

export type Traffic = {
  /** Requests per minute at time t. */
  rate: (t: number) => number;
  op?: string;
  credits?: number;
  ip?: string;
  ua?: string;
  /** The client origin (Origin/Referer) its requests carry, if any. */
  origin?: string;
  status?: 401;
};

export function ctxFor(overrides: Partial<KeyContext> = {}, rules: RuleSet = defaultRuleSet()): KeyContext {
  return { status: 'active', revokedAt: null, rules, factor: () => 1, ...overrides };
}

export function bucketAt(t: number, traffic: Traffic[], rng: ReturnType<typeof createRng>): Bucket {
  const b: Bucket = { ts: t, requests: 0, credits: 0, authFailures: 0, ops: [], ips: {}, uas: {} };
  for (const tr of traffic) {
    const n = rng.poisson(tr.rate(t));
    if (n === 0) continue;
    const credits = tr.status === 401 ? 0 : n * (tr.credits ?? 10);
    b.requests += n;
    b.credits += credits;
    if (tr.status === 401) b.authFailures += n;
    b.ops.push({ op: tr.op ?? 'ai-image-generator', requests: n, credits });
    b.ips![tr.ip ?? '203.0.113.10'] = (b.ips![tr.ip ?? '203.0.113.10'] ?? 0) + n;
    b.uas![tr.ua ?? 'magic-hour-node/0.43.1'] = (b.uas![tr.ua ?? 'magic-hour-node/0.43.1'] ?? 0) + n;
    if (tr.origin) {
      b.origins = b.origins ?? {};
      b.origins[tr.origin] = (b.origins[tr.origin] ?? 0) + n;
    }
  }
  return b;
}

/** Feeds [from, to) minute by minute; returns every finding with its bucket time. */
export function feed(
  state: KeyState,
  from: number,
  to: number,
  traffic: Traffic[],
  ctx: KeyContext = ctxFor(),
  seed = 7,
): Finding[] {
  const rng = createRng(seed + Math.floor(from / MINUTE));
  const out: Finding[] = [];
  for (let t = from; t < to; t += MINUTE) out.push(...stepKey(state, bucketAt(t, traffic, rng), ctx));
  return out;
}

/** A key with `days` of normal history ending at `START + days`. */
export function warmKey(
  days: number,
  normal: Traffic[],
  ctx: KeyContext = ctxFor(),
): { state: KeyState; now: number } {
  const state = createKeyState(MINUTE);
  feed(state, START, START + days * DAY, normal, ctx);
  return { state, now: START + days * DAY };
}

export const constant = (perMinute: number) => () => perMinute;
export const between = (from: number, to: number, perMinute: number) => (t: number) =>
  t >= from && t < to ? perMinute : 0;
/** Weekdays 09:00-17:00 UTC only. */
export const officeHours = (perMinute: number) => (t: number) => {
  const d = new Date(t);
  const day = d.getUTCDay();
  const h = d.getUTCHours();
  return day >= 1 && day <= 5 && h >= 9 && h < 17 ? perMinute : 0;
};
