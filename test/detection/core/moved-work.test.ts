/**
 * Work that moved becomes the new normal after its first day; work added on top (a leak in the
 * same new hours) is never learned that way and keeps firing.
 */
import { describe, expect, it } from 'vitest';
import { DAY, HOUR } from '../../../server/clock.ts';
import { workMoved } from '../../../server/detection/core/moved-work.ts';
import { createKeyState } from '../../../server/detection/core/state.ts';
import { feed, warmKey } from '../../helpers/detection.ts';

/** A nightly video batch: 1.5 requests a minute for three hours from `fromHour`, nothing else. */
const batchAt = (fromHour: number) => (t: number) => {
  const h = new Date(t).getUTCHours();
  return h >= fromHour && h < fromHour + 3 ? 1.5 : 0;
};
const VOLUME = ['credit_spike', 'sustained_elevation'];

describe('work that moved', () => {
  it('a batch moving from 01:00 to 04:00 raises nothing after its first day', () => {
    const { state, now } = warmKey(21, [{ rate: batchAt(1), credits: 120 }]);
    feed(state, now, now + DAY, [{ rate: batchAt(4), credits: 120 }]);
    const later = feed(state, now + DAY, now + 8 * DAY, [{ rate: batchAt(4), credits: 120 }]);
    expect(later.filter((f) => VOLUME.includes(f.kind))).toEqual([]);
  });

  it('the same batch with a copy added in new hours (a leak) is not moved work, and fires', () => {
    const { state, now } = warmKey(21, [{ rate: batchAt(1), credits: 120 }]);
    const traffic = [
      { rate: batchAt(1), credits: 120 },
      { rate: batchAt(4), credits: 120 },
    ];
    const found = [];
    for (let h = 0; h < 48; h++) {
      found.push(...feed(state, now + h * HOUR, now + (h + 1) * HOUR, traffic));
      expect(workMoved(state, state.day!)).toBe(false);
    }
    expect(found.some((f) => VOLUME.includes(f.kind))).toBe(true);
  });

  it('a balanced day of ordinary noise is not moved work', () => {
    const state = createKeyState(60_000);
    const day = { req: new Array(24).fill(0), exp: new Array(24).fill(100), i: 0 };
    // Poisson-sized deviations either way, summing to zero.
    for (let j = 0; j < 24; j++) day.req[j] = 100 + (j % 2 ? 12 : -12);
    expect(workMoved(state, day)).toBe(false);
    // Half the day's work moved twelve hours later.
    for (let j = 0; j < 24; j++) day.req[j] = j < 6 ? 0 : j >= 12 && j < 18 ? 200 : 100;
    expect(workMoved(state, day)).toBe(true);
  });
});
