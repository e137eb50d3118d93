/**
 * Two-sided change evidence for one series, for shapes the volume detectors cannot see (they only
 * look up): drops, stops, level shifts either way, a missing daily peak, a changed daily shape, a
 * series gone noisier or stuck. Each row updates three families of features at a few time scales:
 *   level      mean of the last L rows minus the median of the day before them (shifts, spikes, stops)
 *   seasonal   mean over L rows of the value minus the median of the same row on previous days
 *              (a missing peak, a changed daily shape: invisible to a level that the cycle hides)
 *   volatility mean absolute row-to-row change over L rows (spike density, noise, a stuck sensor)
 * Each feature is judged against its own history, two-sided (series-tail.ts), and the smallest tail
 * probability is Bonferroni-corrected over features and sides. Causal: row t uses rows <= t.
 */
import { createTail, learnTail, minTailHistory, recurrence, type Tail, tailP } from './series-tail.ts';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
/** Feature scales: one row (a spike, a one-row drop), an hour, six hours (a shift no row shows). */
const SCALES_MS = [0, HOUR, 6 * HOUR] as const;
/** A change stays in the longest window this long: alarms closer together are one episode. */
export const LONGEST_SCALE_MS = Math.max(...SCALES_MS);
/**
 * Previous days in the seasonal median: a week covers the weekday/weekend split, and at least three
 * are needed so that one odd day cannot move the median.
 */
const SEASONS = 7;
const MIN_SEASONS = 3;
/** The level reference: a day, and never fewer rows than this (median error ~ 1.25 sd / sqrt(n)). */
const MIN_REFERENCE_ROWS = 48;
/** Volatility needs a few changes to average: below this many rows it is the level feature again. */
const MIN_VOLATILITY_ROWS = 4;
/** Each feature's tail remembers two weeks of rows, within these bounds. */
const HISTORY_DAYS = 14;
const MAX_HISTORY_ROWS = 8192;

type Kind = 'level' | 'seasonal' | 'volatility';
/** `last`: the feature's value at the newest row (null while it lacks history). */
type Feature = { kind: Kind; rows: number; tail: Tail; ref: number[]; last: number | null };
export type ShiftEvidence = { p: number; kind: Kind | null; rows: number; direction: 'up' | 'down' | null };

export type ShiftState = {
  rowsPerDay: number;
  reference: number;
  alpha: number;
  xs: number[];
  /** Prefix sums of the value, its seasonal residual and its absolute change (sum of rows < i at [i]). */
  cx: number[];
  cr: number[];
  cd: number[];
  /** Smallest non-zero change seen: the series' measurement step. */
  resolution: number;
  features: Feature[];
};

/** `alpha` is the false-alarm budget per row, shared out over the features and both sides. */
export function createShiftState(stepMs: number, alpha: number): ShiftState {
  const rowsPerDay = Math.max(1, Math.round(DAY / stepMs));
  const scales = [...new Set(SCALES_MS.map((ms) => Math.max(1, Math.round(ms / stepMs))))];
  const capacity = Math.min(MAX_HISTORY_ROWS, Math.max(4 * minTailHistory(), HISTORY_DAYS * rowsPerDay));
  const features: Feature[] = [];
  for (const rows of scales) {
    features.push({ kind: 'level', rows, tail: createTail(capacity), ref: [], last: null });
    features.push({ kind: 'seasonal', rows, tail: createTail(capacity), ref: [], last: null });
    if (rows >= MIN_VOLATILITY_ROWS)
      features.push({ kind: 'volatility', rows, tail: createTail(capacity), ref: [], last: null });
  }
  return {
    rowsPerDay,
    reference: Math.max(rowsPerDay, MIN_REFERENCE_ROWS),
    alpha,
    xs: [],
    cx: [0],
    cr: [0],
    cd: [0],
    resolution: Number.POSITIVE_INFINITY,
    features,
  };
}

function median(sorted: readonly number[]): number {
  const m = sorted.length >> 1;
  return sorted.length % 2 ? sorted[m]! : (sorted[m - 1]! + sorted[m]!) / 2;
}

/** The first index of a sorted array whose value is not below `x`. */
function lowerBound(a: readonly number[], x: number): number {
  let lo = 0;
  let hi = a.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (a[mid]! < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

function insertSorted(a: number[], x: number): void {
  a.splice(lowerBound(a, x), 0, x);
}

function removeSorted(a: number[], x: number): void {
  const i = lowerBound(a, x);
  if (a[i] === x) a.splice(i, 1);
}

function seasonalResidual(s: ShiftState, t: number): number {
  const same: number[] = [];
  for (let j = 1; j <= SEASONS && t - j * s.rowsPerDay >= 0; j++) same.push(s.xs[t - j * s.rowsPerDay]!);
  if (same.length < MIN_SEASONS) return 0;
  same.sort((a, b) => a - b);
  return s.xs[t]! - median(same);
}

/** The feature's value at row t, or null while it lacks history. */
function featureValue(s: ShiftState, f: Feature, t: number): number | null {
  const L = f.rows;
  if (f.kind === 'level') {
    const enter = t - L;
    if (enter >= 0) insertSorted(f.ref, s.xs[enter]!);
    if (enter - s.reference >= 0) removeSorted(f.ref, s.xs[enter - s.reference]!);
    if (f.ref.length < s.reference) return null;
    return (s.cx[t + 1]! - s.cx[t + 1 - L]!) / L - median(f.ref);
  }
  if (f.kind === 'seasonal') {
    if (t - L + 1 < MIN_SEASONS * s.rowsPerDay) return null;
    return (s.cr[t + 1]! - s.cr[t + 1 - L]!) / L;
  }
  if (t - L + 1 < 1) return null;
  return (s.cd[t + 1]! - s.cd[t + 1 - L]!) / L;
}

/** Folds in the next row and returns the evidence that it belongs to a change. */
export function stepShift(s: ShiftState, value: number): ShiftEvidence {
  const t = s.xs.length;
  s.xs.push(value);
  const change = t > 0 ? Math.abs(value - s.xs[t - 1]!) : 0;
  if (change > 0) s.resolution = Math.min(s.resolution, change);
  s.cx.push(s.cx[t]! + value);
  s.cd.push(s.cd[t]! + change);
  s.cr.push(s.cr[t]! + seasonalResidual(s, t));
  // Until the series has moved at all, any move is news: the step is then the value's own scale.
  const step = Number.isFinite(s.resolution) ? s.resolution : 1e-9 * Math.max(1, Math.abs(value));
  const tests = 2 * s.features.length;
  const featureAlpha = s.alpha / tests;
  let best: ShiftEvidence = { p: 1, kind: null, rows: 0, direction: null };
  for (const f of s.features) {
    const x = featureValue(s, f, t);
    f.last = x;
    if (x === null) continue;
    const resolution = step / f.rows;
    const p = tailP(f.tail, x, resolution, featureAlpha);
    if (p) {
      const side = p.hi <= p.lo ? 'up' : 'down';
      const q = Math.min(1, Math.min(p.hi, p.lo) * tests);
      if (q < best.p) best = { p: q, kind: f.kind, rows: f.rows, direction: side };
    }
    learnTail(f.tail, x, featureAlpha, resolution);
  }
  return best;
}

/**
 * How often the series rose as far as it is now, at the level feature of the longest scale within
 * `rows` rows: r/n for the r runs of the feature's history (the newest row left out) that reached
 * its newest value, to within the series' measurement step, or 0 while it lacks history. A p-value
 * from a model of the series (the volume detectors') is no smaller than this: a rise the series
 * itself keeps making is no news. With `habitDays`, only a habit counts: a rate below one run in
 * that many days is 0 (at 7 days, a rise made once in the memory's two weeks is an event of the
 * series, not its habit, and says nothing about how rare the next one is).
 */
export function riseRecurrence(s: ShiftState, rows: number, habitDays = 0): number {
  let best: Feature | null = null;
  for (const f of s.features)
    if (f.kind === 'level' && f.rows <= Math.max(1, rows) && (!best || f.rows > best.rows)) best = f;
  const x = best?.last;
  if (!best || x === null || x === undefined || best.tail.fit === null) return 0;
  // Within one measurement step (over the window's rows) of a rise made before is that rise again:
  // a daily CPU spike of 1.6 after several of 1.534 (one step is 0.066) is no record.
  // (With a hair for rounding: a value one step up is x + step in floating point, not quite.)
  const step = Number.isFinite(s.resolution) ? (s.resolution / best.rows) * (1 + 1e-9) : 0;
  const rate = recurrence(best.tail, (v) => v >= x - step, true);
  return habitDays > 0 && rate < 1 / (habitDays * s.rowsPerDay) ? 0 : rate;
}
