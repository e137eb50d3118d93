/** The sustained-elevation CUSUM reads the hour's level with each bucket winsorised: bursts are not a level. */
import { describe, expect, it } from 'vitest';
import { DAY } from '../../../../server/clock.ts';
import { seriesRules } from '../../../../server/detection/core/series.ts';
import { createKeyState } from '../../../../server/detection/core/state.ts';
import { stepKey } from '../../../../server/detection/core/step.ts';
import type { KeyContext } from '../../../../server/detection/core/types.ts';
import { createRng } from '../../../../server/simulate/random.ts';
import { ctxFor, feed, warmKey } from '../../../helpers/detection.ts';

const STEP = 300_000;
const START = Date.UTC(2026, 0, 5);
const PER_DAY = 288;
/** Day 10 at 08:00 UTC: the change starts here and lasts a day. */
const AT = 10 * PER_DAY + 96;

/** Buckets (5 min) where sustained_elevation fired, for a daily cycle of Poisson counts x change(i). */
function sustainedAt(change: (i: number) => number, seed: number): number[] {
  const rng = createRng(seed);
  const state = createKeyState(STEP);
  const rules = seriesRules();
  const ctx: KeyContext = { status: 'active', revokedAt: null, rules, factor: () => 1 };
  const fired: number[] = [];
  for (let i = 0; i < 12 * PER_DAY; i++) {
    const ts = START + i * STEP;
    const hour = new Date(ts).getUTCHours();
    const n = rng.poisson(20 * (1 + 0.5 * Math.sin((2 * Math.PI * hour) / 24)) * change(i));
    const findings = stepKey(state, { ts, requests: n, credits: n, authFailures: 0, ops: [] }, ctx);
    if (findings.some((f) => f.kind === 'sustained_elevation')) fired.push(i);
  }
  return fired;
}

describe('sustained_elevation level', () => {
  const during = (i: number) => i >= AT && i < AT + PER_DAY;
  it.each([
    // One 10-minute burst of 8x every two hours: +58% over the day, all of it in bursts.
    {
      name: 'recurring short bursts',
      change: (i: number) => (during(i) && i % 24 < 2 ? 8 : 1),
      fires: false,
    },
    { name: 'a +40% level for a day', change: (i: number) => (during(i) ? 1.4 : 1), fires: true },
  ])('$name', ({ change, fires }) => {
    for (const seed of [3, 5, 8]) {
      const fired = sustainedAt(change, seed);
      if (fires) expect(fired.filter((i) => i >= AT && i < AT + PER_DAY).length).toBeGreaterThan(0);
      else expect(fired).toEqual([]);
    }
  });
});

describe('work that moved is not a leak', () => {
  it('a nightly batch moving from 01:00 to 04:00 raises no sustained elevation', () => {
    // Light use all day, and a three-hour batch on top.
    const batchAt = (fromHour: number) => (t: number) => {
      const h = new Date(t).getUTCHours();
      return 0.5 + (h >= fromHour && h < fromHour + 3 ? 1.5 : 0);
    };
    const { state, now } = warmKey(21, [{ rate: batchAt(1) }]);
    const after = feed(state, now, now + 5 * DAY, [{ rate: batchAt(4) }]);
    expect(after.filter((f) => f.kind === 'sustained_elevation')).toEqual([]);
  });
});

describe('growth is not a leak', () => {
  it('a key growing 3.5 % a day for five weeks raises no sustained elevation, and a +60 % leak still does', () => {
    const growing = (t: number) => 0.5 * 1.035 ** ((t - Date.UTC(2026, 9, 5)) / DAY);
    const { state, now } = warmKey(28, [{ rate: growing }]);
    const grown = feed(state, now, now + 7 * DAY, [{ rate: growing }]);
    expect(grown.filter((f) => f.kind === 'sustained_elevation')).toEqual([]);
    expect(state.level ?? 1).toBeGreaterThan(2);
    // The same key, then a copy of it elsewhere adds 60 % on top for two days.
    const leak = feed(state, now + 7 * DAY, now + 9 * DAY, [{ rate: (t) => 1.6 * growing(t) }]);
    expect(leak.some((f) => f.kind === 'sustained_elevation')).toBe(true);
  });
});

describe('a step that holds is one incident', () => {
  const base = (t: number) => 0.05 * (0.7 + 0.3 * Math.sin((2 * Math.PI * new Date(t).getUTCHours()) / 24));
  /** Incidents (findings more than an hour apart are separate) of sustained_elevation after a step. */
  function episodesAfterStep(factor: number, seed: number): number {
    const state = createKeyState(60_000);
    const now = START + 21 * DAY;
    feed(state, START, now, [{ rate: base, credits: 60 }], ctxFor(), seed);
    const found = feed(
      state,
      now,
      now + 10 * DAY,
      [{ rate: (t) => factor * base(t), credits: 60 }],
      ctxFor(),
      seed,
    ).filter((f) => f.kind === 'sustained_elevation');
    return found.filter((f, i) => i === 0 || f.at - found[i - 1]!.at > 60 * 60_000).length;
  }

  it('a quiet key (3 requests an hour) up 80 % for good raises at most one sustained rise, and mostly one', () => {
    // At 3 requests an hour the CUSUM needs a day or more for +80 %, while the level (which follows
    // growth of a few % a day at its rate) takes part of the step meanwhile: now and then all of it.
    const counts = [1, 2, 3, 4, 5, 6].map((seed) => episodesAfterStep(1.8, seed));
    for (const n of counts) expect(n).toBeLessThanOrEqual(1);
    expect(counts.filter((n) => n === 1).length).toBeGreaterThanOrEqual(4);
  });

  it('the same quiet key tripled for good raises exactly one', () => {
    for (const seed of [1, 2, 3, 4, 5, 6]) expect(episodesAfterStep(3, seed), `seed ${seed}`).toBe(1);
  });
});
