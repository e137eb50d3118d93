/**
 * Work that moved: the last day brought about the usual total, but in other hours (a batch job
 * moving its hour, a team shifting its day). The seasonal profile would take weeks of visits to
 * each hour-of-week cell to learn that, raising spikes in the new hours every day meanwhile; so
 * each hour of such a day teaches its hour of the day at once, by MOVED_WEIGHT of the way. A leak
 * or a launch adds use and a drop removes it: neither leaves the day's total where it was, so
 * neither is learned here.
 */
import { cellsOf, dispersionAt, type KeyState } from './state.ts';

const HOUR = 3_600_000;
/** How far one moved day takes an hour's cells toward what it brought (the next day, if any, the rest). */
export const MOVED_WEIGHT = 0.6;
/** Work moved must be at least this share of the day's expected use: noise never is. */
const MIN_MOVED_SHARE = 0.2;
/** The day's net change may be at most this share of the work moved. */
const MAX_NET_SHARE = 0.5;
/**
 * Chi-square of the day's 24 hourly deviations (24 degrees of freedom under the baseline) must
 * exceed its mean by this many standard deviations (sqrt(48)): about 1e-6 by a normal tail.
 */
const CHI_SIGMAS = 6;

/** Whether the day in the ring moved its work rather than growing or shrinking it. */
export function workMoved(state: KeyState, day: NonNullable<KeyState['day']>): boolean {
  let req = 0;
  let exp = 0;
  let up = 0;
  let down = 0;
  let chi = 0;
  for (let j = 0; j < 24; j++) {
    const r = day.req[j]!;
    const e = day.exp[j]!;
    req += r;
    exp += e;
    if (r > e) up += r - e;
    else down += e - r;
    chi += (r - e) ** 2 / (e * dispersionAt(state, 3, e) + 1);
  }
  const moved = Math.min(up, down);
  return (
    exp >= 24 &&
    moved >= MIN_MOVED_SHARE * exp &&
    Math.abs(req - exp) <= MAX_NET_SHARE * moved &&
    chi >= 24 + CHI_SIGMAS * Math.sqrt(48)
  );
}

/**
 * Called when an hour closes, after it went into the day ring: if the day moved its work, each
 * of its hours not yet learned this way teaches the profile at that hour of the day (every day of
 * the same weekday/weekend class). `hourStart` is the start of the hour just closed.
 */
export function learnMovedWork(state: KeyState, hourStart: number): boolean {
  const day = state.day;
  if (!day) return false;
  // Bit j of `moved`: ring slot j was learned already (cleared when the slot is overwritten).
  const newest = (day.i + 23) % 24;
  let learned = (day.moved ?? 0) & ~(1 << newest);
  day.moved = learned;
  if (!workMoved(state, day)) return false;
  const perHour = Math.max(1, Math.round(HOUR / state.bucketMs));
  const level = state.level ?? 1;
  // The other day class (weekend for a weekday) moves too, in proportion to its volume: a batch
  // that runs every day moves on every day; an office key's empty weekend stays empty.
  const total = (from: number) => state.dc.slice(from, from + 24).reduce((a, b) => a + b, 0);
  const weekdays = total(0);
  const weekends = total(24);
  for (let k = 0; k < 24; k++) {
    const j = (newest - k + 24) % 24;
    if (learned & (1 << j)) continue;
    learned |= 1 << j;
    const { dc, hour } = cellsOf(hourStart - k * HOUR, state.zone);
    const target = day.req[j]! / perHour / level;
    const weekend = dc >= 24;
    const own = weekend ? weekends : weekdays;
    const other = weekend ? weekdays : weekends;
    teach(state, weekend, hour, target);
    if (own > 0) teach(state, !weekend, hour, (target * other) / own);
  }
  day.moved = learned;
  return true;
}

/** Moves the (weekday|weekend, hour) cell and its hour-of-week cells toward `target`. */
function teach(state: KeyState, weekend: boolean, hour: number, target: number): void {
  const dc = (weekend ? 24 : 0) + hour;
  state.dc[dc]! += MOVED_WEIGHT * (target - state.dc[dc]!);
  for (let dow = weekend ? 5 : 0; dow < (weekend ? 7 : 5); dow++) {
    const how = dow * 24 + hour;
    state.how[how]! += MOVED_WEIGHT * (target - state.how[how]!);
  }
}
