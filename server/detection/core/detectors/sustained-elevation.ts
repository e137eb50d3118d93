/**
 * sustained_elevation: a slow leak (+40-50% for days) that no single window shows. A Poisson
 * log-likelihood-ratio CUSUM, hour by hour, of "rate is `ratio` x the baseline" against "rate is
 * the baseline", scaled by the key's hourly dispersion. Defers to an active credit spike.
 */

import { dispersionAt, type KeyState } from '../state.ts';
import { scoreFromP } from '../stats.ts';
import type { Detector } from '../types.ts';

/** Folds one closed hour into the CUSUM (called by the step at each hour boundary). */
export function cusumIncrement(
  observed: number,
  expected: number,
  ratio: number,
  dispersion: number,
): number {
  return (observed * Math.log(ratio) - expected * (ratio - 1)) / Math.max(1, dispersion);
}

/** Share of the threshold the CUSUM must stay above for a rise that has fired to go on firing. */
export const HOLD_SHARE = 0.5;

export const detectSustainedElevation: Detector = (e) => {
  const { state, bucket, ctx } = e;
  if (!e.warm || state.cusumFrom === null || state.hour.n !== 0) return null;
  const params = ctx.rules.params.sustained_elevation;
  const f = ctx.factor('sustained_elevation');
  const acc = state.cusumAcc;
  const excess = acc.cred - acc.expCred;
  // Hysteresis: once this excursion has fired it holds until the CUSUM falls to half the threshold,
  // so a rise hovering at the threshold is one finding, not one each time it crosses.
  const firedAt = state.fired.sustained_elevation;
  const holding = firedAt !== undefined && firedAt >= state.cusumFrom;
  const threshold = params.threshold * f * (holding ? HOLD_SHARE : 1);
  if (state.cusum < threshold || excess < params.floor_credits * f) return null;
  const spikeAt = state.fired.credit_spike;
  if (spikeAt !== undefined && bucket.ts - spikeAt < 60 * 60_000) return null;
  if (movedNotGrown(state)) return null;
  const sd = Math.sqrt(
    Math.max(acc.exp, 1e-9) * dispersionAt(state, state.phi.num.length - 1, acc.exp / Math.max(1, acc.hours)),
  );
  const cpr = acc.exp > 0 ? acc.expCred / acc.exp : 0;
  const ratio = acc.exp > 0 ? acc.req / acc.exp : 0;
  return {
    kind: 'sustained_elevation',
    at: bucket.ts,
    window: { from: state.cusumFrom, to: bucket.ts + state.bucketMs },
    unit: 'credits',
    observed: acc.cred,
    expected: acc.expCred,
    low: Math.max(0, (acc.exp - 3 * sd) * cpr),
    high: (acc.exp + 3 * sd) * cpr,
    method: `usual range for these hours of the week (it fires on a steady rise of ${Math.round((params.ratio - 1) * 100)}% or more)`,
    // The CUSUM bounds the false-alarm rate at about exp(-threshold) per step.
    score: scoreFromP(Math.exp(-state.cusum), Math.exp(-params.threshold * f)),
    bucketImpact: Math.max(0, bucket.credits - e.expCred),
    windowImpact: Math.max(0, excess),
    facts: {
      ratio: Math.round(ratio * 100) / 100,
      hours: Math.round((bucket.ts - state.cusumFrom) / 3_600_000),
    },
  };
};

/**
 * Work that moved, not work that grew: the elevated hours are paid for by as large a shortfall in
 * the other hours of the last day (a batch job moving its hour, a team shifting its day). A leak
 * adds use on top, so the day as a whole is up by at least half of what the elevated hours show.
 */
function movedNotGrown(state: KeyState): boolean {
  if (!state.day) return false;
  const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
  const dayExcess = sum(state.day.req) - sum(state.day.exp);
  const acc = state.cusumAcc;
  // The elevated hours' excess, scaled to the part of them inside the last day.
  const recentExcess = ((acc.req - acc.exp) * Math.min(24, acc.hours)) / Math.max(1, acc.hours);
  // Short by more than the day's own noise (two sd of its total): on a quiet key of a few requests
  // an hour, a day of a step that holds falls short of half the elevated hours' excess now and then
  // by chance, and the hour that did so went unreported, splitting one rise into two incidents.
  const dayExp = sum(state.day.exp);
  const noise = 2 * Math.sqrt(dayExp * dispersionAt(state, state.phi.num.length - 1, dayExp / 24));
  return recentExcess > 0 && dayExcess + noise < 0.5 * recentExcess;
}
