/**
 * The seasonal baseline: expected requests per bucket for each hour-of-week cell, shrunk towards
 * the (weekday|weekend, hour) profile while a cell has few visits. Updated by a winsorised EWMA
 * (a burst cannot drag the baseline up), with a memory of a few visits per cell so organic growth
 * is followed; a level shift that lasts `adapt_hours` is adopted at once (the new normal).
 */
import { cellsOf, type KeyState } from './state.ts';

export type BaselineParams = { memory_weeks: number };

const visitsOf = (state: KeyState) => Math.max(1, Math.round((60 * 60_000) / state.bucketMs));

/** Expected requests in the bucket starting at `ts` (before seeing it): the profile at the key's level. */
export function expectedRequests(state: KeyState, ts: number): number {
  return profileRequests(state, ts) * (state.level ?? 1);
}

function profileRequests(state: KeyState, ts: number): number {
  const { how, dc } = cellsOf(ts, state.zone);
  const perVisit = visitsOf(state);
  const global = state.allN > 0 ? state.all : 0;
  const dcN = state.dcN[dc]!;
  // Empirical-Bayes shrinkage: each level counts as `perVisit` pseudo-observations of its parent.
  const dcMean = (dcN * state.dc[dc]! + perVisit * global) / (dcN + perVisit);
  const howN = state.howN[how]!;
  const mean = (howN * state.how[how]! + perVisit * dcMean) / (howN + perVisit);
  // Never exactly zero: a cell the key never used still admits rare use.
  return Math.max(mean, global * 0.01, 1e-4);
}

/** Winsorising limit for an update: about four standard deviations above the expectation. */
export function clipLimit(expected: number, dispersion: number): number {
  return expected + 4 * Math.sqrt(expected * Math.max(1, dispersion)) + 1;
}

function ewma(mean: number, n: number, x: number, maxN: number): [number, number] {
  const next = Math.min(n + 1, maxN);
  return [mean + (x - mean) / next, next];
}

/**
 * Follows the key's level hour by hour: an EWMA of the log ratio of what an ordinary hour brought
 * to what was expected, over about `levelHours`. Slow against a leak (the CUSUM needs hours, the
 * level days) and fast against growth of a few percent a day, which it follows with a lag of about
 * levelHours times the hourly growth (3.5 %/day at 48 h: ~7 %, well under the 40 % the CUSUM
 * looks for). 0 turns it off.
 *
 * The log of a count is biased low (E[log X] < log E[X] by about var/(2 mean^2)): uncorrected, a
 * quiet key with hours of 2-30 requests settled 10-15 % below its rate, and with growth's lag on top
 * at the CUSUM's break-even (+19 % at ratio 1.4), which it crossed now and then on legitimate
 * growth. Each hour's step carries that term back, with the hour's variance from its dispersion:
 * the bias left is under 0.04 nats at two requests an hour and nil from ten.
 */
export function updateLevel(
  state: KeyState,
  hour: { req: number; exp: number },
  levelHours: number,
  dispersion: number,
): void {
  if (hour.exp < 1 || levelHours <= 0) return;
  const jensen = (hour.exp * Math.max(1, dispersion)) / (2 * (hour.exp + 0.5) ** 2);
  const step = Math.max(
    -MAX_LEVEL_STEP,
    Math.min(MAX_LEVEL_STEP, Math.log((hour.req + 0.5) / (hour.exp + 0.5)) + jensen),
  );
  state.level = Math.max(0.05, Math.min(20, (state.level ?? 1) * Math.exp(step / levelHours)));
}
/** One hour moves the level by at most a factor e^(0.7/levelHours) (1.5 % at 48 h): a burst hour cannot carry it. */
const MAX_LEVEL_STEP = 0.7;

/** Learns from the bucket at `ts` with `requests` observed (already winsorised by the caller). */
export function updateBaseline(state: KeyState, ts: number, observed: number, params: BaselineParams): void {
  // The profile learns the shape; the level holds the scale.
  const requests = observed / (state.level ?? 1);
  const { how, dc } = cellsOf(ts, state.zone);
  const perVisit = visitsOf(state);
  const memory = Math.max(1, params.memory_weeks) * perVisit;
  [state.how[how], state.howN[how]] = ewma(state.how[how]!, state.howN[how]!, requests, memory);
  // The day-class profile gets five (weekday) or two (weekend) visits a week.
  const dcMemory = memory * (dc >= 24 ? 2 : 5);
  [state.dc[dc], state.dcN[dc]] = ewma(state.dc[dc]!, state.dcN[dc]!, requests, dcMemory);
  [state.all, state.allN] = ewma(state.all, state.allN, requests, memory * 168);
}

/** Scales the whole profile (a new normal), keeping how much it has seen. */
export function rescaleBaseline(state: KeyState, factor: number): void {
  const f = Math.max(0.01, Math.min(100, factor));
  // The new normal is the profile's now: fold the level into it.
  const level = state.level ?? 1;
  state.level = 1;
  if (level !== 1) rescaleProfile(state, level);
  rescaleProfile(state, f);
}

function rescaleProfile(state: KeyState, f: number): void {
  for (let i = 0; i < state.how.length; i++) state.how[i]! *= f;
  for (let i = 0; i < state.dc.length; i++) state.dc[i]! *= f;
  state.all *= f;
}

/** Forgets the profile (a manual rebaseline): it is relearned quickly from scratch. */
export function resetBaseline(state: KeyState): void {
  state.level = 1;
  delete state.held;
  state.howN.fill(0);
  state.dcN.fill(0);
  state.allN = Math.min(state.allN, visitsOf(state));
}
