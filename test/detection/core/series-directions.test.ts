/**
 * detectSeries() in both directions and on changed shapes: synthetic 5-minute series with a drop,
 * a stop, level shifts either way, a missing daily peak, and clean controls that must stay within
 * the change detector's false-alarm budget.
 */
import { describe, expect, it } from 'vitest';
import { detectSeries, type SeriesRow, SHIFT_ALPHA } from '../../../server/detection/core/series.ts';
import { createRng } from '../../../server/simulate/random.ts';

const STEP = 300_000;
const DAY = 288;
/** A Saturday: the first weekend falls in the warm-up, so every later day has a day like it. */
const START = Date.UTC(2026, 0, 3);
const ROWS = 14 * DAY;
/** Rows before this are warm-up (NAB leaves its first 15% unscored for the same reason). */
const SCORED = 3 * DAY;
/** Where the injected change starts: day 10, 10:00 UTC. */
const AT = 10 * DAY + 120;

type Shape = (hour: number, i: number) => number;

/** Poisson counts (or, with `noise`, a Gaussian level) following `shape` at each 5-minute row. */
function series(shape: Shape, seed: number, noise?: number): SeriesRow[] {
  const rng = createRng(seed);
  return Array.from({ length: ROWS }, (_, i) => {
    const ts = START + i * STEP;
    const hour = new Date(ts).getUTCHours() + new Date(ts).getUTCMinutes() / 60;
    const mean = shape(hour, i);
    const value = noise === undefined ? rng.poisson(mean) : mean + noise * rng.normal();
    return { ts, value };
  });
}

const daily: Shape = (hour) => 40 * (1 + 0.5 * Math.sin((2 * Math.PI * hour) / 24));
/** A steady series with a two-hour peak of 3x every afternoon. */
const peaked: Shape = (hour) => (hour >= 14 && hour < 16 ? 150 : 50);
const within = (i: number, from: number, to = ROWS) => i >= from && i < to;
const alarms = (rows: SeriesRow[]) =>
  detectSeries(rows).flatMap((s, i) => (s.anomaly && i >= SCORED ? [i] : []));

describe('detectSeries sees both directions and changed shapes', () => {
  const changes: { name: string; rows: SeriesRow[]; from: number; to: number }[] = [
    {
      name: 'a drop to 30% for six hours',
      rows: series((h, i) => daily(h, i) * (within(i, AT, AT + 72) ? 0.3 : 1), 1),
      from: AT,
      to: AT + 72,
    },
    {
      name: 'a stop: the series falls to zero for three hours',
      rows: series((h, i) => (within(i, AT, AT + 36) ? 0 : daily(h, i)), 2),
      from: AT,
      to: AT + 36,
    },
    {
      name: 'a level shift down by 40% that stays',
      rows: series((h, i) => daily(h, i) * (within(i, AT) ? 0.6 : 1), 3),
      from: AT,
      to: ROWS,
    },
    {
      name: 'a level shift up by 60% that stays',
      rows: series((h, i) => daily(h, i) * (within(i, AT) ? 1.6 : 1), 4),
      from: AT,
      to: ROWS,
    },
    {
      name: 'a missing daily peak',
      rows: series((h, i) => (within(i, 10 * DAY, 11 * DAY) ? 50 : peaked(h, i)), 5),
      from: 10 * DAY + 14 * 12,
      to: 10 * DAY + 16 * 12,
    },
    {
      // Not a count: the change features read negative values as they are.
      name: 'a level shift down on a series below zero',
      rows: series((_, i) => (within(i, AT) ? -140 : -100), 7, 10),
      from: AT,
      to: ROWS,
    },
  ];

  it.each(changes)('$name: one alarm at the change', ({ rows, from, to }) => {
    const all = alarms(rows);
    // Before the change the series is a control: false alarms there are held to the budget (per row).
    expect(all.filter((i) => i < from).length).toBeLessThanOrEqual(
      Math.max(1, Math.ceil(SHIFT_ALPHA * (from - SCORED))),
    );
    const got = all.filter((i) => i >= from && i < to + DAY);
    expect(got.length).toBeGreaterThanOrEqual(1);
    expect(got[0]!).toBeLessThan(Math.min(to, from + 72));
    // The return to normal is a change too: at most one more alarm, within a day of the end.
    expect(got.length).toBeLessThanOrEqual(2);
    // A day after the end the series is a control again.
    expect(all.filter((i) => i >= to + DAY).length).toBeLessThanOrEqual(
      Math.max(1, Math.ceil(SHIFT_ALPHA * (ROWS - to - DAY))),
    );
  });

  const controls: { name: string; make: (seed: number) => SeriesRow[] }[] = [
    { name: 'a daily cycle of counts', make: (seed) => series(daily, seed) },
    { name: 'a daily peak every afternoon', make: (seed) => series(peaked, seed) },
    { name: 'Gaussian noise around a level', make: (seed) => series(() => 100, seed, 10) },
    { name: 'a flat line', make: (seed) => series(() => 45, seed, 0) },
  ];
  const SEEDS = [1, 2, 3, 4, 5, 6];

  it.each(controls)('quiet control, $name: alarms within the false-alarm budget', ({ make }) => {
    const total = SEEDS.reduce((n, seed) => n + alarms(make(seed)).length, 0);
    // SHIFT_ALPHA is a budget per row; each alarm opens an episode of many rows, so this is generous
    // only for a detector that keeps its promise.
    expect(total).toBeLessThanOrEqual(Math.ceil(SHIFT_ALPHA * (ROWS - SCORED) * SEEDS.length));
  });
});
