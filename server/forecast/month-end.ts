/**
 * Period-end spend forecast (a calendar month or a billing period): PURE. Daily totals so far this month plus recent history give a
 * day-of-week-aware daily rate with a robust trend; the band comes from how much daily spend
 * has actually varied, widened for the uncertainty of the rate itself.
 */
export type DailyTotal = { date: string; credits: number };

export type ForecastInput = {
  /** Every local date of the month up to and including today; today is partial. */
  monthToDate: DailyTotal[];
  /** Complete days before the month (most recent last), ideally 28 or more. */
  history: DailyTotal[];
  /** Dates of the month still to come after today. */
  remainingDates: string[];
  /** Share of today already elapsed, in [0, 1]. */
  todayElapsed: number;
  /**
   * Credits in the first date's total spent before the period began (a billing period that starts
   * mid-day): they teach the daily rate but are not spent in the period. Default 0.
   */
  beforeStart?: number;
  /** Share of the period's last date inside the period (it may end mid-day), in (0, 1]. Default 1. */
  lastDayShare?: number;
};

export type Forecast = {
  spent: number;
  projected: number;
  low: number;
  high: number;
  /** Expected credits per full day at the end of the window (for runway). */
  dailyRate: number;
  projection: { date: string; projected: number; low: number; high: number }[];
};

/** z for a central 80% band. */
const Z80 = 1.2816;

const weekday = (date: string) => new Date(`${date}T00:00:00Z`).getUTCDay();

function median(xs: number[]): number {
  if (xs.length === 0) return 0;
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

/** Theil–Sen slope (per day) of a series: robust to the odd spike day. */
function theilSen(ys: number[]): number {
  const slopes: number[] = [];
  for (let i = 0; i < ys.length; i++)
    for (let j = i + 1; j < ys.length; j++) slopes.push((ys[j]! - ys[i]!) / (j - i));
  return median(slopes);
}

/** Multiplier per weekday from history; 1 when there are not two weeks to learn from. */
function weekdayFactors(days: DailyTotal[]): number[] {
  const overall = days.reduce((s, d) => s + d.credits, 0) / Math.max(1, days.length);
  if (days.length < 14 || overall <= 0) return Array(7).fill(1);
  return Array.from({ length: 7 }, (_, wd) => {
    const same = days.filter((d) => weekday(d.date) === wd).map((d) => d.credits);
    // Shrink toward 1 so a single odd week cannot dominate.
    const raw = same.length ? same.reduce((s, c) => s + c, 0) / same.length / overall : 1;
    return (raw * same.length + 1) / (same.length + 1);
  });
}

/** Damping of the trend: a damped trend forecasts better than a straight line (Gardner). */
const TREND_DAMPING = 0.8;

export function forecastMonth(input: ForecastInput): Forecast {
  const spent = input.monthToDate.reduce((s, d) => s + d.credits, 0) - (input.beforeStart ?? 0);
  const lastShare = Math.min(1, Math.max(0, input.lastDayShare ?? 1));
  const days = [...input.history, ...input.monthToDate.slice(0, -1)];
  // Days before the first spend are days before data was collected, not days of zero spend.
  const firstActive = days.findIndex((d) => d.credits > 0);
  const complete = firstActive < 0 ? [] : days.slice(firstActive).slice(-28);
  const factors = weekdayFactors(complete);
  const deseasoned = complete.map((d) => d.credits / factors[weekday(d.date)]!);
  const recent = deseasoned.slice(-14);
  const mean = recent.reduce((s, v) => s + v, 0) / Math.max(1, recent.length);
  // Half median, half mean: robust to one spike day without ignoring a real shift.
  const today = input.monthToDate[input.monthToDate.length - 1];
  const elapsed = Math.min(1, Math.max(0, input.todayElapsed));
  // What is left of today inside the period: less than the rest of the day when the period ends today.
  const left = input.remainingDates.length === 0 ? Math.max(0, lastShare - elapsed) : 1 - elapsed;
  // With no complete day of data yet, today's pace is all there is (at least a quarter day's
  // denominator, so a busy first minute does not project a fortune), known to within 100%.
  const firstDayPace = recent.length === 0 && today ? today.credits / Math.max(0.25, elapsed) : 0;
  const level = recent.length ? 0.5 * median(recent) + 0.5 * mean : firstDayPace;
  const slope = deseasoned.length >= 7 ? theilSen(deseasoned) : 0;
  // Robust spread of daily totals around the trend (MAD scaled to a standard deviation).
  const detrended = deseasoned.map((v, i) => v - slope * i);
  const center = median(detrended);
  const sigma = recent.length ? 1.4826 * median(detrended.map((v) => Math.abs(v - center))) : firstDayPace;
  const levelError = sigma / Math.sqrt(Math.max(1, recent.length));
  /** Expected deseasoned credits for the day `k` days after the last complete one. */
  const rateAt = (k: number) => Math.max(0, level + TREND_DAMPING * slope * ((recent.length - 1) / 2 + k));

  const todayRate = today ? rateAt(1) * factors[weekday(today.date)]! : 0;
  // Today's remainder blends the usual rate with today's own pace once enough of it is seen.
  const pace = today && elapsed > 0.1 ? (today.credits / elapsed) * left : left * todayRate;
  let cumulative = spent + 0.5 * left * todayRate + 0.5 * pace;
  // Day-to-day noise adds in quadrature; the error of the level itself adds linearly.
  let noiseVar = (sigma * left) ** 2;
  let levelSpread = levelError * left;
  const band = () => {
    const sd = Math.sqrt(noiseVar + levelSpread ** 2);
    return {
      projected: cumulative,
      low: Math.max(spent, cumulative - Z80 * sd),
      high: cumulative + Z80 * sd,
    };
  };
  const lastIndex = input.remainingDates.length - 1;
  const projection: Forecast['projection'] = input.remainingDates.map((date, i) => {
    const share = i === lastIndex ? lastShare : 1;
    cumulative += share * rateAt(i + 2) * factors[weekday(date)]!;
    noiseVar += (share * sigma) ** 2;
    levelSpread += share * levelError;
    return { date, ...band() };
  });
  return { spent, ...band(), dailyRate: rateAt(1), projection };
}

/** Days the balance lasts at the given daily burn; null when nothing is being spent. */
export function runwayDays(balance: number, dailyRate: number): number | null {
  if (dailyRate <= 0) return null;
  return Math.max(0, balance / dailyRate);
}
