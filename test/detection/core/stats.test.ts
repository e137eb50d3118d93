/** Count tails, the compound spend bound, the cost sketch and the p-value calibration, against known values. */
import { describe, expect, it } from 'vitest';
import {
  calibrateP,
  createCalibration,
  learnCalibration,
} from '../../../server/detection/core/calibration.ts';
import {
  addToSketch,
  createSketch,
  sketchQuantile,
  sketchTail,
} from '../../../server/detection/core/sketch.ts';
import {
  countPmf,
  countTail,
  normalTail,
  scoreFromP,
  spendTailBound,
} from '../../../server/detection/core/stats.ts';
import { createRng } from '../../../server/simulate/random.ts';

describe('countTail', () => {
  it.each([
    // P(N >= k) for Poisson(mean): exact values.
    { k: 0, mean: 3, d: 1, p: 1 },
    { k: 1, mean: 0.05, d: 1, p: 1 - Math.exp(-0.05) },
    { k: 3, mean: 1, d: 1, p: 1 - Math.exp(-1) * (1 + 1 + 0.5) },
    { k: 10, mean: 2, d: 1, p: 4.649807e-5 },
    // Negative binomial with mean 2, variance 6 (size 1: geometric with q = 2/3): P(N >= k) = q^k.
    { k: 5, mean: 2, d: 3, p: (2 / 3) ** 5 },
  ])('P(N >= $k | mean $mean, dispersion $d)', ({ k, mean, d, p }) => {
    expect(countTail(k, mean, d)).toBeCloseTo(p, 6);
  });

  it('is monotone and uses the normal tail for large counts', () => {
    expect(countTail(600, 500)).toBeCloseTo(normalTail((600 - 0.5 - 500) / Math.sqrt(500)), 8);
    expect(countTail(12, 5)).toBeLessThan(countTail(11, 5));
    expect(countTail(12, 5, 2)).toBeGreaterThan(countTail(12, 5, 1));
  });
});

describe('spendTailBound', () => {
  it('bounds a compound Poisson tail from above and is tiny for spend no request could make', () => {
    // Every request costs exactly 10: P(S >= 50) = P(N >= 5).
    const fixed = (x: number) => (x <= 10 ? 1 : 0);
    expect(spendTailBound(50, 1, 1, fixed)).toBeGreaterThanOrEqual(countTail(5, 1) - 1e-12);
    expect(spendTailBound(50, 1, 1, fixed)).toBeLessThan(5 * countTail(5, 1) + 1e-9);
    expect(spendTailBound(0, 1, 1, fixed)).toBe(1);
  });
});

describe('spendTailBound, stopping early', () => {
  /** The bound as the sum over countPmf()'s array, as it was written before it could stop early. */
  const reference = (c: number, mean: number, d: number, tail: (x: number) => number) => {
    const maxN = Math.min(2000, Math.ceil(mean + 12 * Math.sqrt(mean * Math.max(d, 1)) + 30));
    const pmf = countPmf(mean, d, maxN);
    let p = 0;
    let mass = 0;
    for (let n = 1; n <= maxN; n++) {
      mass += pmf[n]!;
      p += pmf[n]! * Math.min(1, n * tail(c / n));
    }
    return Math.min(1, p + Math.max(0, 1 - pmf[0]! - mass));
  };

  it('is the full sum bit for bit without a stop, and a lower bound reaching the stop with one', () => {
    const rng = createRng(5);
    for (let i = 0; i < 2000; i++) {
      const mean = [0.01, 0.3, 2, 40, 900][i % 5]! * (0.5 + rng.next());
      const d = rng.next() < 0.5 ? 1 : 1 + 5 * rng.next();
      const c = 1 + 3000 * rng.next();
      const scale = 10 + 200 * rng.next();
      const tail = (x: number) => Math.min(1, Math.exp(-x / scale));
      const full = spendTailBound(c, mean, d, tail);
      expect(full).toBe(reference(c, mean, d, tail));
      const enough = 0.001 * (1 + 10 * rng.next());
      const early = spendTailBound(c, mean, d, tail, enough);
      expect(early).toBeLessThanOrEqual(full);
      if (early !== full) expect(early).toBeGreaterThanOrEqual(enough);
    }
  });
});

describe('sketch', () => {
  it('knows its tail and quantiles, and keeps rare costs possible', () => {
    const s = createSketch();
    for (let i = 0; i < 95; i++) addToSketch(s, 10, 1, 1);
    for (let i = 0; i < 5; i++) addToSketch(s, 1000, 1, 1);
    expect(sketchTail(s, 5)).toBeGreaterThan(0.95);
    expect(sketchTail(s, 600)).toBeCloseTo(5 / 101, 1);
    expect(sketchTail(s, 1e6)).toBeGreaterThan(0);
    expect(sketchTail(s, 1e6)).toBeLessThan(1e-4);
    expect(sketchQuantile(s, 0.04)).toBeGreaterThan(500);
    expect(sketchQuantile(s, 0.5)).toBeGreaterThanOrEqual(8);
    expect(sketchQuantile(s, 0.5)).toBeLessThan(16);
    expect(sketchTail(createSketch(), 5)).toBe(1);
  });
});

describe('calibration and scores', () => {
  it('leaves a calibrated model alone and demands more surprise of a heavy-tailed one', () => {
    const calibrated = createCalibration();
    const heavy = createCalibration();
    for (let i = 0; i < 20000; i++) {
      const u = ((i * 7919) % 20000) / 20000 + 1 / 40000;
      learnCalibration(calibrated, u, 1e9);
      learnCalibration(heavy, u ** 6, 1e9);
    }
    expect(calibrateP(calibrated, 1e-6)).toBeGreaterThan(3e-7);
    expect(calibrateP(calibrated, 1e-6)).toBeLessThan(3e-6);
    expect(calibrateP(heavy, 1e-6)).toBeGreaterThan(1e-4);
  });

  it.each([
    { p: 1, score: 0 },
    { p: 1e-6, score: 0.5 },
    { p: 1e-12, score: 1 },
    { p: 1e-30, score: 1 },
  ])('score of p=$p is $score', ({ p, score }) => expect(scoreFromP(p, 1e-6)).toBeCloseTo(score, 9));
});
