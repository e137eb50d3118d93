/**
 * Tail probabilities for counts and spend. Requests per bucket are modelled as Poisson, or
 * negative binomial when the key is burstier than Poisson (dispersion d = variance / mean > 1);
 * spend is compound (requests x credits per request) and is bounded with the key's own
 * distribution of credits per request.
 */

/** Upper normal tail P(Z >= z) (Abramowitz-Stegun 7.1.26 on erfc; error < 1.5e-7). */
export function normalTail(z: number): number {
  const x = Math.abs(z) / Math.SQRT2;
  const t = 1 / (1 + 0.3275911 * x);
  const poly =
    t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429))));
  const erfc = poly * Math.exp(-x * x);
  return z >= 0 ? erfc / 2 : 1 - erfc / 2;
}

const EXACT_LIMIT = 400;

/**
 * P(N >= k) for a count with mean `mean` and dispersion `d` (1 = Poisson, > 1 negative binomial
 * with size mean/(d-1)). Exact summation for small counts, a normal approximation with
 * continuity correction beyond.
 */
export function countTail(k: number, mean: number, d = 1): number {
  if (k <= 0) return 1;
  const mu = Math.max(mean, 1e-9);
  const disp = Math.max(d, 1);
  if (k > EXACT_LIMIT || mu > EXACT_LIMIT) {
    return normalTail((k - 0.5 - mu) / Math.sqrt(mu * disp));
  }
  const kk = Math.ceil(k);
  let pmf: number;
  let ratio: (n: number) => number;
  if (disp <= 1.0001) {
    pmf = Math.exp(-mu);
    ratio = (n) => mu / n;
  } else {
    const r = mu / (disp - 1);
    const q = mu / (r + mu);
    pmf = Math.exp(r * Math.log(r / (r + mu)));
    ratio = (n) => ((n - 1 + r) / n) * q;
  }
  // Work in log space for the head so tiny means do not underflow to a zero pmf.
  if (pmf === 0) return normalTail((k - 0.5 - mu) / Math.sqrt(mu * disp));
  let below = 0;
  for (let n = 0; n < kk; n++) {
    below += pmf;
    pmf *= ratio(n + 1);
  }
  return Math.min(1, Math.max(0, 1 - below));
}

/** The count pmf as an iterator (same parametrisation as countTail). */
export function countPmf(mean: number, d: number, maxN: number): number[] {
  const mu = Math.max(mean, 1e-9);
  const disp = Math.max(d, 1);
  const out: number[] = [];
  if (disp <= 1.0001) {
    let p = Math.exp(-mu);
    for (let n = 0; n <= maxN; n++) {
      out.push(p);
      p *= mu / (n + 1);
    }
    return out;
  }
  const r = mu / (disp - 1);
  const q = mu / (r + mu);
  let p = Math.exp(r * Math.log(r / (r + mu)));
  for (let n = 0; n <= maxN; n++) {
    out.push(p);
    p *= ((n + r) / (n + 1)) * q;
  }
  return out;
}

/**
 * Upper bound on P(spend >= c) for a compound count: if n requests spend c, one of them spent at
 * least c/n, so P(S >= c) <= sum_n P(N = n) * min(1, n * P(J >= c/n)), with `jumpTail` the key's
 * tail of credits per request. Valid for any jump distribution; tight when one request is rare.
 * With `enough`, the sum stops once it reaches that: the terms are non-negative, so what it returns
 * then is a lower bound of the full sum that is at least `enough` (a caller that only asks "is it
 * at least this" needs no more); otherwise it is the full sum.
 */
export function spendTailBound(
  c: number,
  mean: number,
  d: number,
  jumpTail: (x: number) => number,
  enough = Number.POSITIVE_INFINITY,
): number {
  if (c <= 0) return 1;
  const maxN = Math.min(2000, Math.ceil(mean + 12 * Math.sqrt(mean * Math.max(d, 1)) + 30));
  // countPmf()'s recurrence, term by term (the same operations, so the same values).
  const mu = Math.max(mean, 1e-9);
  const disp = Math.max(d, 1);
  const poisson = disp <= 1.0001;
  const r = poisson ? 0 : mu / (disp - 1);
  const q = poisson ? 0 : mu / (r + mu);
  const pmf0 = poisson ? Math.exp(-mu) : Math.exp(r * Math.log(r / (r + mu)));
  let pn = pmf0;
  let p = 0;
  let mass = 0;
  for (let n = 1; n <= maxN; n++) {
    pn *= poisson ? mu / n : ((n - 1 + r) / n) * q;
    mass += pn;
    p += pn * Math.min(1, n * jumpTail(c / n));
    if (p >= enough) return Math.min(1, p);
  }
  // Mass beyond maxN counts as exceeding (conservative).
  p += Math.max(0, 1 - pmf0 - mass);
  return Math.min(1, p);
}

/** Maps a p-value to a score in [0, 1]: 0.5 exactly at `alpha`, 1 at alpha squared or smaller. */
export function scoreFromP(p: number, alpha: number): number {
  const s = -Math.log10(Math.max(p, 1e-300)) / (-2 * Math.log10(alpha));
  return Math.min(1, Math.max(0, s));
}

export function clamp(x: number, lo: number, hi: number): number {
  return Math.min(hi, Math.max(lo, x));
}
