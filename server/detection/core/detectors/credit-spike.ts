/**
 * credit_spike: requests or spend in the last 1, 15 or 60 minutes far above the seasonal
 * expectation. Requests: negative-binomial tail with the key's dispersion at that scale. Spend:
 * a compound bound using the key's own credits-per-request distribution. An absolute credit floor
 * keeps small keys quiet. Bonferroni over windows and the two tests.
 */

import { calibrateP } from '../calibration.ts';
import { sketchTail } from '../sketch.ts';
import { bucketsIn, dispersionAt, ringSum, WINDOW_MINUTES } from '../state.ts';
import { countTail, scoreFromP, spendTailBound } from '../stats.ts';
import type { Detector, Evaluation, Finding } from '../types.ts';

export type WindowTest = {
  minutes: number;
  p: number;
  n: number;
  expN: number;
  c: number;
  expC: number;
  disp: number;
};

/** The most significant window, or null when no window clears the credit floor. */
export function bestWindow(e: Evaluation, floorCredits: number): WindowTest | null {
  const { state } = e;
  const r = state.ring;
  let best: WindowTest | null = null;
  const lengths = WINDOW_MINUTES.map((m) => bucketsIn(state, m));
  const distinct = new Set(lengths).size;
  const tests = distinct * (state.jumps.total > 0 ? 3 : 1);
  for (let i = 0; i < WINDOW_MINUTES.length; i++) {
    const minutes = WINDOW_MINUTES[i]!;
    const len = lengths[i]!;
    if (i > 0 && len === lengths[i - 1]) continue;
    const c = ringSum(state, r.cred, len);
    const expC = ringSum(state, r.expCred, len);
    if (c - expC < floorCredits) continue;
    const n = ringSum(state, r.req, len);
    const expN = ringSum(state, r.exp, len);
    const disp = dispersionAt(state, i, expN);
    let p = countTail(n, expN, disp);
    if (state.jumps.total > 0 && p > 1e-12) {
      // Requests above the key's own 95th percentile of cost are a thinned count: Poisson too.
      const big = ringSum(state, r.big, len);
      const expBig = ringSum(state, r.expBig, len);
      if (big > 0) p = Math.min(p, countTail(big, expBig, dispersionAt(state, i, expBig)));
      if (p > 1e-12)
        p = Math.min(
          p,
          spendTailBound(c, expN, disp, (x) => sketchTail(state.jumps, x)),
        );
    }
    p = Math.min(1, p * tests);
    if (!best || p < best.p) best = { minutes, p, n, expN, c, expC, disp };
  }
  return best;
}

/** The band's name says how long a window it is for, in words people use. */
const WINDOW_WORDS: Record<number, string> = { 1: 'one minute', 60: 'an hour' };

export const detectCreditSpike: Detector = (e) => {
  const params = e.ctx.rules.params.credit_spike;
  const f = e.ctx.factor('credit_spike');
  const w = bestWindow(e, params.floor_credits * f);
  // The step learns the calibration from this raw p after the verdict.
  e.state.lastP = w?.p ?? 1;
  if (!e.warm || !w) return null;
  // alpha is a false-alarm budget per minute of data: coarser buckets get their share of it.
  const alpha = Math.min(0.01, params.alpha * (e.state.bucketMs / 60_000)) ** f;
  const p = calibrateP(e.state.calib, w.p);
  if (p >= alpha) return null;
  return spikeFinding(e, { ...w, p }, alpha);
};

export function spikeFinding(e: Evaluation, w: WindowTest, alpha: number): Finding {
  const { ts } = e.bucket;
  const bucketMs = e.state.bucketMs;
  const len = bucketsIn(e.state, w.minutes);
  const cpr = w.expN > 0 ? w.expC / w.expN : 0;
  const sd = Math.sqrt(w.expN * w.disp);
  return {
    kind: 'credit_spike',
    at: ts,
    window: { from: ts - (len - 1) * bucketMs, to: ts + bucketMs },
    unit: 'credits',
    observed: w.c,
    expected: w.expC,
    low: Math.max(0, (w.expN - 3 * sd) * cpr),
    high: (w.expN + 3 * sd) * cpr,
    method: `usual range for ${WINDOW_WORDS[w.minutes] ?? `${w.minutes} minutes`} at this time of the week`,
    score: scoreFromP(w.p, alpha),
    bucketImpact: Math.max(0, e.bucket.credits - e.expCred),
    windowImpact: Math.max(0, w.c - w.expC),
    facts: { requests: w.n, expected_requests: Math.round(w.expN * 10) / 10, minutes: w.minutes },
  };
}
