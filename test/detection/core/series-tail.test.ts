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

  it('an outlier does not stretch the tail: it is learned at the alarm boundary', () => {
    const clean = learned(gaussian.slice(0, 4000));
    const hit = learned([...gaussian.slice(0, 3990), 1e6, ...gaussian.slice(3990, 3999)]);
    const p = (t: ReturnType<typeof learned>) => tailP(t, 6, 1e-9)!.hi;
    expect(p(hit)).toBeLessThan(10 * p(clean));
  });

  it('a constant history measures moves in steps of the resolution, warily (one run seen)', () => {
    const t = learned(new Array(1000).fill(5));
    expect(tailP(t, 5, 0.001)!.hi).toBe(1);
    expect(tailP(t, 5.01, 0.001)!.hi).toBeGreaterThan(ALPHA);
    expect(tailP(t, 7, 0.001)!.hi).toBeLessThan(ALPHA);
    expect(tailP(t, 3, 0.001)!.lo).toBeLessThan(ALPHA);
  });
});
