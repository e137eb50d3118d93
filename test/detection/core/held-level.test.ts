/**
 * A return from a quiet spell to the rate the key held before it is no rise (held-level.ts); spend
 * above that rate, and a key at its usual rate, are judged as before.
 */
import { describe, expect, it } from 'vitest';
import { DAY, HOUR } from '../../../server/clock.ts';
import { elevationScale, HELD_MS } from '../../../server/detection/core/held-level.ts';
import type { KeyState } from '../../../server/detection/core/state.ts';
import { createKeyState } from '../../../server/detection/core/state.ts';
import { constant, ctxFor, feed, officeHours, START } from '../../helpers/detection.ts';

const UPWARD = new Set(['sustained_elevation', 'credit_spike']);
/** Office hours at 0.3 requests a minute (~140 a working day), 20 credits each. */
const usual = officeHours(0.3);
/** Four weeks of history, then a holiday week at a fifth (Saturday to Saturday), as the simulator has it. */
const HOLIDAY = START + 26 * DAY;
const BACK = HOLIDAY + 7 * DAY;

function beforeReturn(seed: number): KeyState {
  const state = createKeyState(60_000);
  feed(state, START, HOLIDAY, [{ rate: usual, credits: 20 }], ctxFor(), seed);
  const quiet = feed(state, HOLIDAY, BACK, [{ rate: (t) => 0.2 * usual(t), credits: 20 }], ctxFor(), seed);
  expect(quiet.filter((f) => UPWARD.has(f.kind))).toEqual([]);
  return state;
}

describe('a return to the rate a key held', () => {
  it('raises nothing after a holiday week at a fifth of the traffic', () => {
    for (const seed of [1, 2, 3, 4]) {
      const state = beforeReturn(seed);
      // The level fell with the quiet week; the held rate did not.
      expect(elevationScale(state)).toBeGreaterThan(1.5);
      const back = feed(state, BACK, BACK + 14 * DAY, [{ rate: usual, credits: 20 }], ctxFor(), seed);
      expect(
        back.filter((f) => UPWARD.has(f.kind)),
        `seed ${seed}`,
      ).toEqual([]);
      // Once the level is back the held rate no longer raises the expectation.
      expect(elevationScale(state)).toBe(1);
    }
  });

  it('still fires when the key comes back spending twice what it held', () => {
    for (const seed of [1, 2, 3, 4]) {
      const state = beforeReturn(seed);
      const twice = (t: number) => 2 * usual(t);
      const back = feed(state, BACK, BACK + 5 * DAY, [{ rate: twice, credits: 20 }], ctxFor(), seed);
      const first = back.find((f) => f.kind === 'sustained_elevation');
      expect(first, `seed ${seed}`).toBeDefined();
      // Judged against the held rate less its margin (1.7x, not 3.5x against the fallen level), it
      // takes longer than on a key at its usual level, but fires within two working days (BACK is a
      // Saturday).
      expect(first!.at - BACK).toBeLessThan(4 * DAY);
    }
  });

  it("never holds a thief's rate: a leak adopted as the new normal and stopped within the week", () => {
    const steady = constant(0.3);
    for (const seed of [1, 2, 3]) {
      const state = createKeyState(60_000);
      feed(state, START, HOLIDAY, [{ rate: steady, credits: 20 }], ctxFor(), seed);
      // Three times the spend for two days: it fires, and after a day it is adopted as the new normal.
      const leak = [{ rate: constant(0.9), credits: 20 }];
      const first = feed(state, HOLIDAY, HOLIDAY + 2 * DAY, leak, ctxFor(), seed);
      expect(first.some((f) => UPWARD.has(f.kind))).toBe(true);
      feed(state, HOLIDAY + 2 * DAY, HOLIDAY + 6 * DAY, [{ rate: steady, credits: 20 }], ctxFor(), seed);
      expect(elevationScale(state), `seed ${seed}`).toBe(1);
      // The thief is back at twice the key's rate: judged against the key's own rate, it fires.
      const again = feed(
        state,
        HOLIDAY + 6 * DAY,
        HOLIDAY + 7 * DAY,
        [{ rate: constant(0.6), credits: 20 }],
        ctxFor(),
        seed,
      );
      expect(
        again.some((f) => UPWARD.has(f.kind)),
        `seed ${seed}`,
      ).toBe(true);
    }
  });

  it('leaves the expectation alone for a key at its usual rate', () => {
    const state = createKeyState(60_000);
    feed(state, START, START + 14 * DAY, [{ rate: usual, credits: 20 }]);
    for (let t = START + 14 * DAY; t < START + 28 * DAY; t += HOUR) {
      feed(state, t, t + HOUR, [{ rate: usual, credits: 20 }]);
      expect(elevationScale(state)).toBe(1);
    }
  });

  it('forgets a rate not seen for four weeks: the lower rate is the normal then', () => {
    const state = createKeyState(60_000);
    feed(state, START, HOLIDAY, [{ rate: usual, credits: 20 }]);
    const halved = (t: number) => 0.3 * usual(t);
    // The held rate is refreshed while the level is within its margin (the first days of the fall).
    feed(state, HOLIDAY, HOLIDAY + HELD_MS + 7 * DAY, [{ rate: halved, credits: 20 }]);
    expect(elevationScale(state)).toBe(1);
  });

  it('loads a state stored before the held rate existed, and starts holding one', () => {
    const state = createKeyState(60_000);
    feed(state, START, HOLIDAY, [{ rate: usual, credits: 20 }]);
    const stored = JSON.parse(JSON.stringify(state)) as KeyState & { held?: unknown };
    delete stored.held;
    const loaded = JSON.parse(JSON.stringify(stored)) as KeyState;
    expect(loaded.held).toBeUndefined();
    expect(elevationScale(loaded)).toBe(1);
    // HOLIDAY is a Saturday: Monday's office hours move the level.
    feed(loaded, HOLIDAY, HOLIDAY + 10 * DAY, [{ rate: usual, credits: 20 }]);
    // A rate is held once it was the lowest of a whole week.
    expect(loaded.held?.rate).toBeGreaterThan(0);
  });
});
