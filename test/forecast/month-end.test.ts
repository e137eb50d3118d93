import { describe, expect, it } from 'vitest';
import { type DailyTotal, forecastMonth, runwayDays } from '../../server/forecast/month-end.ts';
import { localDate, localMidnight, monthPeriod } from '../../server/time-zone.ts';

const day = (d: number, month = 11) => `2026-${String(month).padStart(2, '0')}-${String(d).padStart(2, '0')}`;
const series = (dates: string[], f: (date: string, i: number) => number): DailyTotal[] =>
  dates.map((date, i) => ({ date, credits: f(date, i) }));
const range = (from: number, to: number, month = 11) =>
  Array.from({ length: to - from + 1 }, (_, i) => day(from + i, month));
const isWeekend = (date: string) => [0, 6].includes(new Date(`${date}T00:00:00Z`).getUTCDay());

describe('forecastMonth', () => {
  it('projects a flat spend exactly, with no band when nothing varies', () => {
    const f = forecastMonth({
      history: series(range(3, 31, 10), () => 1000),
      monthToDate: [...series(range(1, 9), () => 1000), { date: day(10), credits: 500 }],
      remainingDates: range(11, 30),
      todayElapsed: 0.5,
    });
    expect(f.spent).toBe(9500);
    expect(f.projected).toBeCloseTo(30_000, 0);
    expect(f.high - f.low).toBeLessThan(1);
    expect(f.projection).toHaveLength(20);
    expect(f.projection.at(-1)!.projected).toBeCloseTo(f.projected, 6);
  });

  it('knows weekends are quieter', () => {
    const rate = (date: string) => (isWeekend(date) ? 200 : 1000);
    const history = series(range(1, 31, 10), rate);
    const f = forecastMonth({
      history,
      monthToDate: series(range(1, 20), rate),
      remainingDates: range(21, 30),
      todayElapsed: 1,
    });
    const expected = range(1, 30).reduce((s, d) => s + rate(d), 0);
    expect(Math.abs(f.projected - expected) / expected).toBeLessThan(0.03);
  });

  it('follows organic growth with a damped trend', () => {
    const grow = (_: string, i: number) => 1000 + 20 * i;
    const all = series([...range(4, 31, 10), ...range(1, 30)], grow);
    const history = all.slice(0, 28);
    const monthToDate = all.slice(28, 38);
    const truth = all.slice(28).reduce((s, d) => s + d.credits, 0);
    const flat = forecastMonth({
      history: series(
        history.map((d) => d.date),
        () => 1000,
      ),
      monthToDate,
      remainingDates: range(11, 30),
      todayElapsed: 1,
    });
    const f = forecastMonth({ history, monthToDate, remainingDates: range(11, 30), todayElapsed: 1 });
    expect(f.projected).toBeGreaterThan(flat.projected);
    expect(Math.abs(f.projected - truth) / truth).toBeLessThan(0.05);
  });

  it('widens the band with noise and never puts the low end below what is spent', () => {
    let seed = 7;
    const noise = () => {
      seed = (seed * 16807) % 2147483647;
      return seed / 2147483647;
    };
    const f = forecastMonth({
      history: series(range(3, 31, 10), () => 800 + 400 * noise()),
      monthToDate: series(range(1, 5), () => 800 + 400 * noise()),
      remainingDates: range(6, 30),
      todayElapsed: 0.2,
    });
    expect(f.high).toBeGreaterThan(f.projected);
    expect(f.low).toBeLessThan(f.projected);
    expect(f.low).toBeGreaterThanOrEqual(f.spent);
    const widths = f.projection.map((p) => p.high - p.low);
    expect(widths.at(-1)!).toBeGreaterThan(widths[0]!);
  });

  it('handles a brand-new account with no history', () => {
    const f = forecastMonth({
      history: [],
      monthToDate: [{ date: day(1), credits: 0 }],
      remainingDates: range(2, 30),
      todayElapsed: 0.1,
    });
    expect(f).toMatchObject({ spent: 0, projected: 0, low: 0, high: 0 });
  });
});

describe('runwayDays', () => {
  it('divides balance by burn, and has no runway figure when nothing burns', () => {
    expect(runwayDays(10_000, 500)).toBe(20);
    expect(runwayDays(10_000, 0)).toBeNull();
  });
});

describe('time zones', () => {
  it('finds month bounds in a zone with daylight saving', () => {
    const m = monthPeriod(Date.UTC(2026, 10, 15), 'America/New_York');
    expect(m.label).toBe('2026-11');
    // November 1 00:00 EDT (UTC-4) and December 1 00:00 EST (UTC-5).
    expect(new Date(m.start).toISOString()).toBe('2026-11-01T04:00:00.000Z');
    expect(new Date(m.end).toISOString()).toBe('2026-12-01T05:00:00.000Z');
  });

  it('gives local dates and midnights', () => {
    expect(localDate(Date.UTC(2026, 10, 26, 23, 30), 'Asia/Tokyo')).toBe('2026-11-27');
    expect(new Date(localMidnight(2026, 3, 29, 'Europe/Berlin')).toISOString()).toBe(
      '2026-03-28T23:00:00.000Z',
    );
  });
});

describe('forecastMonth on the first day of data', () => {
  it('treats days before the first spend as missing, not zero, and extrapolates today with a wide band', () => {
    const f = forecastMonth({
      history: series(range(1, 31, 10), () => 0),
      monthToDate: [...series(range(1, 9), () => 0), { date: day(10), credits: 500 }],
      remainingDates: range(11, 30),
      todayElapsed: 0.5,
    });
    expect(f.dailyRate).toBeCloseTo(1000, 6);
    expect(f.projected).toBeCloseTo(500 + 500 + 20 * 1000, 6);
    expect(f.high - f.low).toBeGreaterThan(f.projected / 2);
  });
});

describe('forecastMonth over a billing period that starts and ends mid-day', () => {
  it('counts only spend after the start and only the last date’s share inside the period', () => {
    const f = forecastMonth({
      history: series(range(1, 16), () => 1000),
      // 17 Nov: the whole day is 1000, of which 250 before the period began at 06:00.
      monthToDate: [...series(range(17, 19), () => 1000), { date: day(20), credits: 500 }],
      remainingDates: [...range(21, 30), ...range(1, 17, 12)],
      todayElapsed: 0.5,
      beforeStart: 250,
      lastDayShare: 0.25,
    });
    expect(f.spent).toBe(3_250);
    // The rest of today, 26 full days, and a quarter of 17 Dec.
    expect(f.projected).toBeCloseTo(3_250 + 500 + 26_000 + 250, 0);
  });
});
