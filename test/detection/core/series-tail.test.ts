/** The two-sided declustered tail: calibrated on independent data, wary on thin data, robust to outliers. */
import { describe, expect, it } from 'vitest';
import { createTail, learnTail, tailP } from '../../../server/detection/core/series-tail.ts';
import { createRng } from '../../../server/simulate/random.ts';

const ALPHA = 1e-4;

function learned(values: number[]) {
  const t = createTail(4000);
  for (const v of values) learnTail(t, v, ALPHA, 1e-9);
  return t;
}

describe('series tail', () => {
  const rng = createRng(3);
  const gaussian = Array.from({ length: 8000 }, () => rng.normal());

  it('keeps its promise on independent data: about q of new values have p <= q, each side', () => {
    const t = learned(gaussian.slice(0, 4000));
    const fresh = gaussian.slice(4000);
    for (const q of [0.01, 0.001]) {
      const hi = fresh.filter((x) => tailP(t, x, 1e-9)!.hi <= q).length / fresh.length;
      const lo = fresh.filter((x) => tailP(t, x, 1e-9)!.lo <= q).length / fresh.length;
      // The exponential tail over a Gaussian is conservative; it must never be much too eager.
      expect(hi).toBeLessThanOrEqual(2 * q + 0.002);
      expect(lo).toBeLessThanOrEqual(2 * q + 0.002);
    }
  });

  it('is silent until it has enough history, and wary while history is thin', () => {
    const t = createTail(4000);
    learnTail(t, 0, ALPHA, 1e-9);
    expect(tailP(t, 100, 1e-9)).toBeNull();
    const thin = learned(gaussian.slice(0, 300));
    const thick = learned(gaussian.slice(0, 4000));
    expect(tailP(thin, 4, 1e-9)!.hi).toBeGreaterThan(tailP(thick, 4, 1e-9)!.hi);
  });

  it('an outlier does not stretch the fit: it is learned at the alarm boundary', () => {
    const clean = learned(gaussian.slice(0, 4000));
    const hit = learned([...gaussian.slice(0, 3990), 1e6, ...gaussian.slice(3990, 3999)]);
    // The fitted tail alone (no floor from history): the outlier barely moves it.
    const p = (t: ReturnType<typeof learned>, x: number) => tailP(t, x, 1e-9, 0)!.hi;
    expect(p(hit, 6)).toBeLessThan(10 * p(clean, 6));
    // With the floor, a value below the outlier is no rarer than once in the history's rows; one
    // beyond it is judged by the unstretched fit.
    expect(tailP(hit, 6, 1e-9)!.hi).toBeCloseTo(1 / 4000, 9);
    expect(tailP(hit, 2e6, 1e-9)!.hi).toBe(p(hit, 2e6));
  });

  it('a constant history measures moves in steps of the resolution, warily (one run seen)', () => {
    const t = learned(new Array(1000).fill(5));
    expect(tailP(t, 5, 0.001)!.hi).toBe(1);
    expect(tailP(t, 5.01, 0.001)!.hi).toBeGreaterThan(ALPHA);
    expect(tailP(t, 7, 0.001)!.hi).toBeLessThan(ALPHA);
    expect(tailP(t, 3, 0.001)!.lo).toBeLessThan(ALPHA);
  });

  it('a value the history keeps reaching is no news: the fit is floored by how often runs beyond it recur', () => {
    // A spike to 50 every 300 rows: each is learned only at the alarm boundary, so the fitted tail
    // alone keeps calling the next one rare.
    const values = gaussian.slice(0, 4000).map((x, i) => (i % 300 === 299 ? 50 : x));
    const t = learned(values);
    const spikes = values.filter((x) => x >= 50).length;
    expect(tailP(t, 50, 1e-9, 0)!.hi).toBeLessThan(ALPHA);
    expect(tailP(t, 50, 1e-9)!.hi).toBeCloseTo(spikes / 4000, 9);
    // Beyond anything seen, the fit decides again.
    expect(tailP(t, 500, 1e-9)!.hi).toBeLessThan(ALPHA);
  });
});
