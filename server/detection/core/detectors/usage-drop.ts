/**
 * usage_drop: a key with steady, round-the-clock use stops or falls far below its usual range for
 * long enough (the app broke, the key was rotated without the client). A downward Poisson CUSUM,
 * hour by hour, of "rate is `ratio` x the baseline" against "rate is the baseline", judged only on
 * hours expected to bring `min_hourly_requests`; its impact is the credits missing. Billing's news,
 * not on-call's; silent for revoked keys and for keys being rotated away (their clients are moving).
 */
import { cellsOf, dispersionAt, type KeyState } from '../state.ts';
import { scoreFromP } from '../stats.ts';
import type { Detector, KeyContext } from '../types.ts';

const HOUR = 3_600_000;
/** Hours of its day class a key must be expected to work to count as steady (not office hours). */
const STEADY_HOURS = 20;

export type DropState = {
  cusum: number;
  from: number | null;
  acc: { req: number; exp: number; cred: number; expCred: number; hours: number };
};

const emptyDrop = (): DropState => ({
  cusum: 0,
  from: null,
  acc: { req: 0, exp: 0, cred: 0, expCred: 0, hours: 0 },
});

/** Uses most hours of the day: office-hours and batch keys are quiet most hours by design. */
function steady(state: KeyState, ts: number): boolean {
  const { dc, hour } = cellsOf(ts, state.zone);
  const base = dc - hour;
  const perHour = Math.max(1, Math.round(HOUR / state.bucketMs));
  const level = state.level ?? 1;
  let working = 0;
  for (let h = 0; h < 24; h++) {
    if (state.dcN[base + h]! > 0 && state.dc[base + h]! * perHour * level >= 1) working++;
  }
  return working >= STEADY_HOURS;
}

/** Folds one closed hour into the downward CUSUM (called by the step at each hour boundary). */
export function foldDrop(
  state: KeyState,
  hour: { req: number; exp: number; cred: number; expCred: number },
  hourStart: number,
  ctx: KeyContext,
): void {
  const params = ctx.rules.params.usage_drop;
  const d = state.drop ?? emptyDrop();
  state.drop = d;
  if (hour.exp < params.min_hourly_requests || !steady(state, hourStart)) return;
  const disp = dispersionAt(state, state.phi.num.length - 1, hour.exp);
  const inc = (hour.exp * (1 - params.ratio) - hour.req * Math.log(1 / params.ratio)) / Math.max(1, disp);
  const next = Math.max(0, d.cusum + inc);
  // An hour back in the upper half of the gap is the drop over: the evidence starts again from zero.
  const recovered = hour.req >= (hour.exp * (1 + params.ratio)) / 2;
  if (next === 0 || recovered) {
    state.drop = emptyDrop();
    return;
  }
  if (d.cusum === 0 || d.from === null) d.from = hourStart;
  d.acc.req += hour.req;
  d.acc.exp += hour.exp;
  d.acc.cred += hour.cred;
  d.acc.expCred += hour.expCred;
  d.acc.hours++;
  d.cusum = next;
}

export const detectUsageDrop: Detector = (e) => {
  const { state, bucket, ctx } = e;
  const d = state.drop;
  if (!e.warm || !d || d.from === null || state.hour.n !== 0 || ctx.status === 'revoked' || ctx.rotating)
    return null;
  const params = ctx.rules.params.usage_drop;
  const f = ctx.factor('usage_drop');
  const missing = d.acc.expCred - d.acc.cred;
  if (d.cusum < params.threshold * f || missing < params.floor_credits * f) return null;
  const sd = Math.sqrt(Math.max(d.acc.exp, 1e-9));
  const cpr = d.acc.exp > 0 ? d.acc.expCred / d.acc.exp : 0;
  return {
    kind: 'usage_drop',
    at: bucket.ts,
    window: { from: d.from, to: bucket.ts + state.bucketMs },
    unit: 'credits',
    observed: d.acc.cred,
    expected: d.acc.expCred,
    low: Math.max(0, (d.acc.exp - 3 * sd) * cpr),
    high: (d.acc.exp + 3 * sd) * cpr,
    method: 'usual range for these hours of the week',
    // The CUSUM bounds the false-alarm rate at about exp(-threshold) per step.
    score: scoreFromP(Math.exp(-d.cusum), Math.exp(-params.threshold * f)),
    bucketImpact: Math.max(0, e.expCred - bucket.credits),
    windowImpact: Math.max(0, missing),
    facts: {
      ratio: d.acc.exp > 0 ? Math.round((d.acc.req / d.acc.exp) * 100) / 100 : 0,
      hours: d.acc.hours,
    },
  };
};
