/** calibrateOnAll: with no adversary, flagged buckets teach the calibration too, so recurring bursts fade. */
import { describe, expect, it } from 'vitest';
import { seriesRules } from '../../../server/detection/core/series.ts';
import { createKeyState } from '../../../server/detection/core/state.ts';
import { stepKey } from '../../../server/detection/core/step.ts';
import type { KeyContext } from '../../../server/detection/core/types.ts';
import { createRng } from '../../../server/simulate/random.ts';

const STEP = 300_000;
const START = Date.UTC(2026, 0, 5);
const PER_DAY = 288;
const DAYS = 21;

/** Buckets where credit_spike fired on a daily cycle with a 10-minute burst of `burst`x every `every` buckets from day 3. */
function spikesAt(calibrateOnAll: boolean, burst: number, every: number, seed: number): number[] {
  const rng = createRng(seed);
  const state = createKeyState(STEP);
  const ctx: KeyContext = {
    status: 'active',
    revokedAt: null,
    rules: seriesRules(),
    factor: () => 1,
    calibrateOnAll,
  };
  const fired: number[] = [];
  for (let i = 0; i < DAYS * PER_DAY; i++) {
    const ts = START + i * STEP;
    const hour = new Date(ts).getUTCHours();
    const b = i >= 3 * PER_DAY && i % every < 2 ? burst : 1;
    const n = rng.poisson(20 * (1 + 0.5 * Math.sin((2 * Math.PI * hour) / 24)) * b);
    const findings = stepKey(state, { ts, requests: n, credits: n, authFailures: 0, ops: [] }, ctx);
    if (findings.some((f) => f.kind === 'credit_spike')) fired.push(i);
  }
  return fired;
}

describe('calibrateOnAll', () => {
  it.each([
    { burst: 10, every: 72 },
    { burst: 10, every: 144 },
  ])(
    'recurring $burst x bursts every $every buckets: the first still fires, later ones fire less',
    ({ burst, every }) => {
      for (const seed of [2, 4]) {
        const live = spikesAt(false, burst, every, seed);
        const series = spikesAt(true, burst, every, seed);
        const first = 3 * PER_DAY + ((every - ((3 * PER_DAY) % every)) % every);
        expect(series[0]).toBe(live[0]);
        expect(series[0]!).toBeLessThan(first + 12);
        expect(series.length).toBeLessThan(live.length);
        const late = (xs: number[]) => xs.filter((i) => i >= 14 * PER_DAY).length;
        expect(late(series)).toBeLessThan(late(live));
      }
    },
  );
});
