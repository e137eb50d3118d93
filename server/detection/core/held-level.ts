/**
 * The level a key held before a quiet spell, remembered so that its return is not read as a rise.
 *
 * The level (baseline.ts) follows a key down through a quiet week (a holiday at a fifth of the
 * usual traffic halves it) and climbs back at most ~1.5 % an hour, so for days after the return the
 * usual traffic reads as +100 % and fires sustained_elevation and credit_spike. A return to a level
 * the key already held is not new spend: elevation is judged against the rate it held (less a
 * margin for the level's ordinary wander) while its current rate is below that. Only the upward
 * tests read it; the drop test and the baseline keep the current level. Spend above the held rate,
 * a key that never held one, and any key at its usual rate are judged exactly as before; a dormant
 * key's wake is dormant_wake's to report whatever its rate.
 *
 * A rate counts as held only when it was the lowest of a whole week: a leak adopted as the new
 * normal after a day (step.ts trackShift) and stopped within the week is never remembered, so the
 * thief's next use is judged against the key's own rate, not the thief's.
 */
import type { KeyState } from './state.ts';

const DAY = 86_400_000;
const WEEK = 7 * DAY;
/** A held rate the key has not been at for this long is forgotten: its lower rate is its normal now. */
export const HELD_MS = 28 * DAY;
/**
 * Within this factor below its held rate the key is still at it (the level wanders by a few
 * percent from day to day); only a fall further than that is a quiet spell whose end is excused.
 */
export const HELD_MARGIN = 1.15;

/**
 * The key's usual rate as the baseline sees it: the mean of its hour-of-week profile (a week's
 * expectation, free of the weekly cycle that moves the profile's running mean by ~10 % over a
 * weekend) times its level. Measured in requests, not as the level alone, because the profile and
 * the level share the scale between them: while a young profile grows the level drifts down with
 * no change in what is expected. 168 additions an hour.
 */
function rateOf(state: KeyState): number {
  let sum = 0;
  for (const x of state.how) sum += x;
  return (sum / state.how.length) * (state.level ?? 1);
}

/**
 * At each hour's end (after the level moved): the lowest rate of the week in progress, promoted to
 * the held rate when the week closes above it; when the key was last at the held rate; and the
 * factor the upward tests read until the next hour's end.
 */
export function rememberRate(state: KeyState, ts: number): void {
  // A young profile's mean is an average of its first days, not a rate the key held.
  if (state.warmUntil === null || ts < state.warmUntil) return;
  const rate = rateOf(state);
  const held = state.held ?? { rate: 0, at: ts, scale: 1, low: rate, from: ts };
  state.held = held;
  if (held.rate > 0 && ts - held.at > HELD_MS) held.rate = 0;
  held.low = Math.min(held.low, rate);
  if (ts - held.from >= WEEK) {
    if (held.low > held.rate) held.rate = held.low;
    held.low = rate;
    held.from = ts;
  }
  if (rate * HELD_MARGIN >= held.rate) held.at = ts;
  held.scale = rate > 0 && held.rate > 0 ? Math.max(1, held.rate / (HELD_MARGIN * rate)) : 1;
}

/**
 * The factor (>= 1) by which the upward tests raise the expectation: the held rate less its margin
 * over the current rate, or 1. Set at hour ends, so it is one read per minute.
 */
export const elevationScale = (state: KeyState): number => state.held?.scale ?? 1;
