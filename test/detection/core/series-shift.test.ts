/** riseRecurrence(): how often the series rose as far before, to within its measurement step, and as a habit. */
import { describe, expect, it } from 'vitest';
import { createShiftState, riseRecurrence, stepShift } from '../../../server/detection/core/series-shift.ts';

const STEP = 300_000;
const DAY_ROWS = 288;

/** Values on a grid of 0.066 (a CPU series' step): level 0.066/0.132 alternating, a spike each day. */
function feed(days: number, spike: (day: number) => number, last: number, habitDays = 0) {
  const s = createShiftState(STEP, 3e-3);
  for (let i = 0; i < days * DAY_ROWS; i++) {
    const v = i % DAY_ROWS === 100 ? spike(Math.floor(i / DAY_ROWS)) : i % 2 ? 0.066 : 0.132;
    stepShift(s, v);
  }
  stepShift(s, last);
  return riseRecurrence(s, 1, habitDays);
}

describe('riseRecurrence', () => {
  it('counts the runs that reached the newest rise, the newest row left out', () => {
    // Twelve daily spikes of 1.518 in memory; the newest is one of them.
    const r = feed(12, () => 1.518, 1.518);
    expect(r).toBeGreaterThan(0);
    // Every day's spike, as a share of the rows the level feature remembers.
    expect(r).toBeCloseTo(12 / (12 * DAY_ROWS - DAY_ROWS / 6), 3);
  });

  it('takes a rise one measurement step past the largest before as that rise again, not a record', () => {
    expect(feed(12, () => 1.518, 1.518 + 0.066)).toBeGreaterThan(0);
    expect(feed(12, () => 1.518, 1.518 + 0.06)).toBeGreaterThan(0);
    // More than a step past it is a record: nothing in memory reached it.
    expect(feed(12, () => 1.518, 1.518 + 0.07)).toBe(0);
  });

  it('with habitDays, counts only a rise the series makes at least that often', () => {
    // One spike of 1.518 in twelve days (day 3; the other days' are 0.5): an event, not a habit.
    const once = (d: number) => (d === 3 ? 1.518 : 0.5);
    expect(feed(12, once, 1.518)).toBeGreaterThan(0);
    expect(feed(12, once, 1.518, 7)).toBe(0);
    // Every third day: at least weekly, a habit; counted as without habitDays.
    const third = (d: number) => (d % 3 === 0 ? 1.518 : 0.5);
    expect(feed(12, third, 1.518, 7)).toBe(feed(12, third, 1.518));
    expect(feed(12, third, 1.518, 7)).toBeGreaterThan(0);
    // A habit of every third day is no habit of every day.
    expect(feed(12, third, 1.518, 1)).toBe(0);
  });

  it('is 0 while the level feature has no fitted history', () => {
    expect(feed(0, () => 0, 5)).toBe(0);
  });
});
