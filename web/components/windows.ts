/**
 * The time windows the pages show, each defined once and described once, so that "last 7 days"
 * is the same range on Overview, Keys and Key detail, and the sentence under each figure says it.
 * Days are UTC days because daily buckets are.
 */
import { DAY, floorTo } from '../../server/clock.ts';

export type Window = { from: number; to: number; label: string; note: string };

/** Today (UTC, up to now) and the `days - 1` whole days before it. */
export function lastDays(now: number, days: 7 | 30): Window {
  return {
    from: floorTo(now, DAY) - (days - 1) * DAY,
    to: now + 1,
    label: `last ${days} days`,
    note: `Last ${days} days: today so far and the ${days - 1} days before it, in UTC days.`,
  };
}
