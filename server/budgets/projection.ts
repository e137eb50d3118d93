/**
 * PURE: a month-end projection at the month's average daily rate so far. A stand-in with the
 * lead's forecastMonth (server/forecast/) in mind: swap it in where this is called.
 */
import { DAY } from '../clock.ts';

export function projectMonthEnd(input: { spent: number; start: number; end: number; now: number }): number {
  const { spent, start, end, now } = input;
  if (now >= end) return spent;
  // At least a day's worth of denominator, so a busy first hour does not project a fortune.
  const rate = spent / Math.max(DAY, now - start);
  return spent + rate * (end - Math.max(now, start));
}
