/** Long ranges are summed from the coarsest rollups that tile them, and still add up exactly. */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DAY, HOUR } from '../../server/clock.ts';
import { rankGroups, tiles } from '../../server/usage/rank-groups.ts';
import { recordEvents } from '../../server/usage/record-events.ts';
import { createTestDeps, type TestDeps } from '../helpers/store.ts';

describe('tiles', () => {
  it('cut a range of days into day edges and whole months', () => {
    expect(tiles(Date.UTC(2026, 0, 15), Date.UTC(2026, 3, 10), 'day')).toEqual([
      { table: 'usage_day', resolution: 'day', from: Date.UTC(2026, 0, 15), to: Date.UTC(2026, 1, 1) },
      { table: 'usage_month', resolution: 'month', from: Date.UTC(2026, 1, 1), to: Date.UTC(2026, 3, 1) },
      { table: 'usage_day', resolution: 'day', from: Date.UTC(2026, 3, 1), to: Date.UTC(2026, 3, 10) },
    ]);
  });

  it('cut a range of hours into hour edges and whole days, and leave a short range whole', () => {
    const from = Date.UTC(2026, 5, 1, 10);
    expect(tiles(from, from + 2 * DAY + 5 * HOUR, 'hour')).toEqual([
      { table: 'usage_hour', resolution: 'hour', from, to: Date.UTC(2026, 5, 2) },
      { table: 'usage_day', resolution: 'day', from: Date.UTC(2026, 5, 2), to: Date.UTC(2026, 5, 3) },
      { table: 'usage_hour', resolution: 'hour', from: Date.UTC(2026, 5, 3), to: from + 2 * DAY + 5 * HOUR },
    ]);
    expect(tiles(from, from + 5 * HOUR, 'hour')).toEqual([
      { table: 'usage_hour', resolution: 'hour', from, to: from + 5 * HOUR },
    ]);
  });
});

describe('ranking over tiled ranges', () => {
  let deps: TestDeps;
  beforeEach(() => {
    deps = createTestDeps();
  });
  afterEach(() => deps.cleanup());

  it('sums exactly what the events inside the range hold, edges included', async () => {
    const start = Date.UTC(2026, 6, 20, 13);
    const events = Array.from({ length: 400 }, (_, i) => ({
      source: 'push',
      eventId: `e${i}`,
      key: { by: 'ref' as const, value: i % 3 ? 'a' : 'b' },
      ts: start + i * 7 * HOUR,
      credits: 1 + (i % 5),
      requests: 1,
      status: 200,
      operation: i % 2 ? 'face-swap' : 'ai-image-generator',
    }));
    recordEvents(deps, events);
    for (const [from, to, step] of [
      [Date.UTC(2026, 7, 3), Date.UTC(2026, 9, 17), 'day'],
      [Date.UTC(2026, 7, 3, 5), Date.UTC(2026, 7, 9, 19), 'hour'],
    ] as const) {
      const inside = events.filter((e) => e.ts >= from && e.ts < to);
      const ranked = await rankGroups(deps.db, { from, to, step }, 'key');
      for (const key of ['a', 'b']) {
        const want = inside.filter((e) => e.key.value === key).reduce((s, e) => s + e.credits, 0);
        expect(ranked.find((g) => g.group === key)?.credits).toBe(want);
      }
      const ops = await rankGroups(deps.db, { from, to, step }, 'operation');
      expect(ops.reduce((s, g) => s + g.requests, 0)).toBe(inside.length);
    }
  });
});
