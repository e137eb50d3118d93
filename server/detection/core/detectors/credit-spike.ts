/**
 * credit_spike: requests or spend in the last 1, 15 or 60 minutes far above the seasonal
 * expectation. Requests: negative-binomial tail with the key's dispersion at that scale. Spend:
 * a compound bound using the key's own credits-per-request distribution. An absolute credit floor
 * keeps small keys quiet. Bonferroni over windows and the two tests.
 */

import { calibrateP } from '../calibration.ts';
import { elevationScale } from '../held-level.ts';
import { sketchTail } from '../sketch.ts';
import { bucketsIn, dispersionAt, type KeyState, WINDOW_MINUTES } from '../state.ts';
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

/** Ring sums per window length (ringSums() of state.ts), indexed like WINDOW_MINUTES. */
export type WindowSums = {
  lengths: readonly number[];
  cred: number[];
  expCred: number[];
  req: number[];
  exp: number[];
  big: number[];
  expBig: number[];
};

/** Every ring sum the spike test reads, in one pass (ringSum()'s additions, in its order). */
export function windowSums(state: KeyState, into?: WindowSums): WindowSums {
  const lengths = into?.lengths ?? WINDOW_MINUTES.map((m) => bucketsIn(state, m));
  const sums = into ?? {
    lengths,
    cred: lengths.map(() => 0),
    expCred: lengths.map(() => 0),
    req: lengths.map(() => 0),
    exp: lengths.map(() => 0),
    big: lengths.map(() => 0),
    expBig: lengths.map(() => 0),
  };
  const r = state.ring;
  const len = r.req.length;
  const longest = lengths[lengths.length - 1]!;
  let cred = 0;
  let expCred = 0;
  let req = 0;
  let exp = 0;
  let big = 0;
  let expBig = 0;
  let w = 0;
  for (let i = 0, at = r.pos; i < longest; i++, at = at === 0 ? len - 1 : at - 1) {
    cred += r.cred[at]!;
    expCred += r.expCred[at]!;
    req += r.req[at]!;
    exp += r.exp[at]!;
    big += r.big[at]!;
    expBig += r.expBig[at]!;
    while (w < lengths.length && lengths[w] === i + 1) {
      sums.cred[w] = cred;
      sums.expCred[w] = expCred;
      sums.req[w] = req;
      sums.exp[w] = exp;
      sums.big[w] = big;
      sums.expBig[w] = expBig;
      w++;
    }
  }
  return sums;
}

/**
 * A p-value at or above this is no tail event for the calibration (it counts p < 1/100) whatever
 * the rounding.
 */
const CLEARLY_ORDINARY = 0.0102;

/**
 * The most significant window, or null when no window clears the credit floor. With
 * `ordinaryEnough` (no p-value of CLEARLY_ORDINARY or more can fire), the spend bound stops as soon
 * as it shows the window clearly ordinary: its partial sum is a lower bound (the terms are
 * non-negative), so the true p-value is at least as ordinary, and the calibration learns every
 * ordinary p-value alike. A p-value below CLEARLY_ORDINARY is always the exact one.
 */
export function bestWindow(
  e: Evaluation,
  floorCredits: number,
  ordinaryEnough = false,
  sums: WindowSums = windowSums(e.state),
): WindowTest | null {
  const { state } = e;
  // A return from a quiet spell is judged against the level the key held before it (held-level.ts).
  const scale = elevationScale(state);
  let best: WindowTest | null = null;
  const lengths = sums.lengths;
  const distinct = new Set(lengths).size;
  const tests = distinct * (state.jumps.total > 0 ? 3 : 1);
  for (let i = 0; i < WINDOW_MINUTES.length; i++) {
    const minutes = WINDOW_MINUTES[i]!;
    const len = lengths[i]!;
    if (i > 0 && len === lengths[i - 1]) continue;
    const c = sums.cred[i]!;
    const expC = sums.expCred[i]! * scale;
    if (c - expC < floorCredits) continue;
    const n = sums.req[i]!;
    const expN = sums.exp[i]! * scale;
    const disp = dispersionAt(state, i, expN);
    let p = countTail(n, expN, disp);
    if (state.jumps.total > 0 && p > 1e-12) {
      // Requests above the key's own 95th percentile of cost are a thinned count: Poisson too.
      const big = sums.big[i]!;
      const expBig = sums.expBig[i]! * scale;
      if (big > 0) p = Math.min(p, countTail(big, expBig, dispersionAt(state, i, expBig)));
      if (p > 1e-12)
        p = Math.min(
          p,
          spendTailBound(
            c,
            expN,
            disp,
            (x) => sketchTail(state.jumps, x),
            // A hair above, so the window's p-value lands at or above CLEARLY_ORDINARY after rounding.
            ordinaryEnough ? (CLEARLY_ORDINARY * 1.001) / tests : Number.POSITIVE_INFINITY,
          ),
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
  // alpha is a false-alarm budget per minute of data: coarser buckets get their share of it.
  const alpha = Math.min(0.01, params.alpha * (e.state.bucketMs / 60_000)) ** f;
  // calibrateP() only grows with p: if a clearly ordinary p cannot fire, none above it can.
  const ordinaryEnough = !e.warm || calibrateP(e.state.calib, CLEARLY_ORDINARY) >= alpha;
  const w = bestWindow(e, params.floor_credits * f, ordinaryEnough, e.sums);
  // The step learns the calibration from this raw p after the verdict.
  e.state.lastP = w?.p ?? 1;
  if (!e.warm || !w) return null;
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
