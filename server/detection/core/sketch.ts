/**
 * A decayed log2-binned histogram of credits per request: a quantile sketch with O(1) updates
 * that gives the key's own tail P(J >= x), with one pseudo-observation of a Pareto tail beyond
 * the largest value seen so an operation the key never ran is rare but not impossible.
 */
const BINS = 26;

export type Sketch = { w: number[]; total: number; max: number };

export const createSketch = (): Sketch => ({ w: new Array(BINS).fill(0), total: 0, max: 0 });

const binOf = (x: number) => (x < 1 ? 0 : Math.min(BINS - 1, 1 + Math.floor(Math.log2(x))));
const lowerEdge = (b: number) => (b === 0 ? 0 : 2 ** (b - 1));

export function addToSketch(s: Sketch, value: number, weight: number, decay: number): void {
  if (weight <= 0) return;
  if (decay < 1) {
    for (let i = 0; i < BINS; i++) s.w[i]! *= decay;
    s.total *= decay;
  }
  s.w[binOf(value)]! += weight;
  s.total += weight;
  s.max = Math.max(s.max, value);
}

/** P(J >= x) from the sketch (linear within a log bin), 1 while the sketch is empty. */
export function sketchTail(s: Sketch, x: number): number {
  if (x <= 0 || s.total <= 0) return 1;
  const b = binOf(x);
  let above = 0;
  for (let i = b + 1; i < BINS; i++) above += s.w[i]!;
  const lo = lowerEdge(b);
  const hi = 2 ** b;
  const frac = b === 0 ? 1 - x : 1 - (Math.log2(x) - Math.log2(lo)) / (Math.log2(hi) - Math.log2(lo));
  above += s.w[b]! * Math.max(0, Math.min(1, frac));
  const pareto = s.max > 0 ? Math.min(1, s.max / x) : 1;
  return Math.min(1, (above + pareto) / (s.total + 1));
}

/** The value with P(J >= x) = q (inverting sketchTail within its log bin), or 0 when empty. */
export function sketchQuantile(s: Sketch, q: number): number {
  if (s.total <= 0) return 0;
  let above = 0;
  for (let b = BINS - 1; b >= 0; b--) {
    const next = above + s.w[b]!;
    if ((next + 0) / (s.total + 1) >= q) {
      const need = q * (s.total + 1) - above;
      const frac = s.w[b]! > 0 ? Math.max(0, Math.min(1, need / s.w[b]!)) : 0;
      if (b === 0) return 1 - frac;
      const lo = Math.log2(lowerEdge(b));
      return 2 ** (lo + (1 - frac));
    }
    above = next;
  }
  return 0;
}
