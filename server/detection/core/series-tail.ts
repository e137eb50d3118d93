/**
 * A feature's own two-sided tail, peaks over threshold (Pickands-Balkema-de Haan; the SPOT
 * detector of Siffer et al., KDD 2017): the most extreme TAIL_FRACTION of recent values on each
 * side sets a threshold u, the excesses over u are modelled as exponential with their mean as
 * scale. With k excesses summing to S the scale is itself uncertain; its posterior predictive
 * (Jeffreys prior on the rate) gives P(X >= x) = (k/n) (1 + (x - u) / S)^-k beyond u, with excesses
 * taken one per run (declustered), which is the
 * exponential tail once k is large and suitably wary while few excesses are seen. Autocorrelation,
 * skew and burstiness are all in the feature's history, so no distribution is assumed for the series.
 * The fitted tail is floored by the history itself: the series went beyond x in r separate runs of
 * its last n rows, so runs beyond x start at a rate of about r/n per row, however thin the
 * exponential says the tail is. A daily spike of a size seen every day is no news, even while the
 * fit has learned each one only up to its cap; and with the per-feature budget below 1/n, only a
 * value beyond everything in memory can be news on that feature (the others still judge it).
 */

/** SPOT's initial threshold: the 98% quantile on each side. */
export const TAIL_FRACTION = 0.02;
/** Exceedances needed on each side before a fit is trusted (the fit starts at k/TAIL_FRACTION values). */
const MIN_EXCEEDANCES = 5;
/** Refits per buffer length: the fit lags the buffer by at most 1/REFITS of it. */
const REFITS = 128;

type Side = { u: number; scale: number; runs: number };
const predictive = (excess: number, scale: number, k: number) => (1 + excess / (k * scale)) ** -k;
/** The excess whose predictive tail is `q`. */
const reachOf = (q: number, scale: number, k: number) => k * scale * (q ** (-1 / k) - 1);
export type Tail = {
  /** Values as learned, winsorised (the fit's input). */
  buf: Float64Array;
  /** The same values unwinsorised, in the same slots: how far the series itself went. */
  raw: Float64Array;
  n: number;
  next: number;
  since: number;
  fit: { share: number; hi: Side; lo: Side } | null;
};

export function createTail(capacity: number): Tail {
  const size = Math.max(1, capacity);
  return { buf: new Float64Array(size), raw: new Float64Array(size), n: 0, next: 0, since: 0, fit: null };
}

/** Smallest history a fit needs. */
export const minTailHistory = () => Math.ceil(MIN_EXCEEDANCES / TAIL_FRACTION);

/** The history in time order, oldest first. */
function inOrder(t: Tail): Float64Array {
  if (t.n < t.buf.length) return t.buf.slice(0, t.n);
  const out = new Float64Array(t.n);
  out.set(t.buf.subarray(t.next), 0);
  out.set(t.buf.subarray(0, t.next), t.n - t.next);
  return out;
}

/**
 * Excesses of a smoothed feature come in runs of near-equal values, so their mean says little
 * about how far the next run will reach. Runs declustering (Coles 2001, ch. 5) fits the scale to
 * each run's peak excess instead, and counts runs, not rows, as the evidence behind the fit.
 */
function declustered(series: Float64Array, excessOf: (x: number) => number): { scale: number; runs: number } {
  let runs = 0;
  let sum = 0;
  let peak = 0;
  for (const x of series) {
    const e = excessOf(x);
    if (e > 0) peak = Math.max(peak, e);
    else if (peak > 0) {
      runs++;
      sum += peak;
      peak = 0;
    }
  }
  if (peak > 0) {
    runs++;
    sum += peak;
  }
  return { scale: runs > 0 ? sum / runs : 0, runs: Math.max(1, runs) };
}

/** The value of rank `r` (0 = smallest) by quickselect: a refit needs two ranks, not a sort. */
function rank(values: Float64Array, r: number): number {
  let lo = 0;
  let hi = values.length - 1;
  while (lo < hi) {
    const pivot = values[(lo + hi) >> 1]!;
    let i = lo;
    let j = hi;
    while (i <= j) {
      while (values[i]! < pivot) i++;
      while (values[j]! > pivot) j--;
      if (i <= j) {
        const v = values[i]!;
        values[i] = values[j]!;
        values[j] = v;
        i++;
        j--;
      }
    }
    if (r <= j) hi = j;
    else if (r >= i) lo = i;
    else break;
  }
  return values[r]!;
}

function refit(t: Tail): void {
  t.since = 0;
  if (t.n < minTailHistory()) return;
  const series = inOrder(t);
  const scratch = series.slice();
  const k = Math.max(MIN_EXCEEDANCES, Math.floor(TAIL_FRACTION * t.n));
  const hiU = rank(scratch, t.n - 1 - k);
  const loU = rank(scratch, k);
  t.fit = {
    share: k / t.n,
    hi: { u: hiU, ...declustered(series, (x) => x - hiU) },
    lo: { u: loU, ...declustered(series, (x) => loU - x) },
  };
}

/**
 * One-sided tail probabilities of x, upper and lower, with the exponential scale held at least
 * at `resolution` (a change below the series' measurement step is no evidence), and never below
 * the rate at which runs beyond x recur in history. The history is counted only for a side below `floorBelow`
 * (a scan of it per row would cost more than the rest of the step): above that the caller's
 * verdict is the same either way. Null until fitted.
 */
export function tailP(
  t: Tail,
  x: number,
  resolution: number,
  floorBelow = 1,
): { hi: number; lo: number } | null {
  const f = t.fit;
  if (!f) return null;
  const side = (excess: number, d: Side) =>
    excess <= 0 ? 1 : Math.min(1, f.share * predictive(excess, Math.max(d.scale, resolution), d.runs));
  let hi = side(x - f.hi.u, f.hi);
  let lo = side(f.lo.u - x, f.lo);
  if (hi < floorBelow)
    hi = Math.max(
      hi,
      recurrence(t, (v) => v >= x),
    );
  if (lo < floorBelow)
    lo = Math.max(
      lo,
      recurrence(t, (v) => v <= x),
    );
  return { hi, lo };
}

/**
 * r/n for the r runs of the unwinsorised history in which `beyond` holds; `skipNewest` leaves out
 * the value learned last (when the caller asks about that value itself).
 */
export function recurrence(t: Tail, beyond: (v: number) => boolean, skipNewest = false): number {
  const size = t.raw.length;
  const n = skipNewest ? t.n - 1 : t.n;
  if (n <= 0) return 0;
  const first = t.n < size ? 0 : t.next;
  let runs = 0;
  let inRun = false;
  for (let i = 0; i < n; i++) {
    const now = beyond(t.raw[(first + i) % size]!);
    if (now && !inRun) runs++;
    inRun = now;
  }
  return runs / n;
}

/**
 * Learns x, winsorised at the value whose tail probability is `alpha` (an alarm teaches the tail
 * that alarms happen, but one outlier cannot stretch it), and refits on schedule.
 */
export function learnTail(t: Tail, x: number, alpha: number, resolution: number): void {
  let v = x;
  const f = t.fit;
  if (f) {
    const q = Math.min(1, alpha / f.share);
    v = Math.min(v, f.hi.u + reachOf(q, Math.max(f.hi.scale, resolution), f.hi.runs));
    v = Math.max(v, f.lo.u - reachOf(q, Math.max(f.lo.scale, resolution), f.lo.runs));
  }
  t.buf[t.next] = v;
  t.raw[t.next] = x;
  t.next = (t.next + 1) % t.buf.length;
  t.n = Math.min(t.n + 1, t.buf.length);
  t.since++;
  if (t.fit === null || t.since >= Math.max(1, Math.ceil(t.buf.length / REFITS))) refit(t);
}
