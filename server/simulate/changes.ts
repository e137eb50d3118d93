/**
 * Legitimate change: what real keys do that is not an attack and must not page anyone — a launch
 * that triples traffic for good, steady growth, a new customer, a holiday week, a batch job moving
 * its hour, a CI key's bursts, a client library upgrade. Unlabelled on purpose: any incident they
 * raise is a false one. Pure and deterministic.
 */
import { DAY, HOUR, MINUTE } from '../clock.ts';
import type { KeyProfile } from './profiles.ts';

export type LegitChange = {
  keyIndex: number;
  description: string;
  /** What it is, for evaluation: each kind has its own goal (a step holds at most one incident...). */
  type: 'launch' | 'growth' | 'batch_move' | 'holiday' | 'ci_bursts' | 'new_customer' | 'upgrade';
  /** When it starts (the whole window for growth and CI bursts). */
  from: number;
  /** Multiplier of the key's normal traffic at `ts`. */
  factor(ts: number): number;
  /** The key works on a schedule shifted by this much from `ts` on (a batch job moving its hour). */
  shiftAt?(ts: number): number;
  /** A new user agent from `ts` on (a client library upgrade). */
  agentAt?(ts: number): string | undefined;
};

const startOfDay = (ts: number) => Math.floor(ts / DAY) * DAY;

/** Picks the first key whose profile suits the change, skipping those already changed. */
function pick(
  profiles: readonly KeyProfile[],
  taken: Set<number>,
  suits: (p: KeyProfile) => boolean,
): number | null {
  const i = profiles.findIndex((p, j) => !taken.has(j) && suits(p));
  if (i < 0) return null;
  taken.add(i);
  return i;
}

export function planChanges(profiles: readonly KeyProfile[], start: number, end: number): LegitChange[] {
  const days = (end - start) / DAY;
  if (days < 14) return [];
  const taken = new Set<number>();
  const changes: LegitChange[] = [];
  const add = (suits: (p: KeyProfile) => boolean, make: (i: number) => LegitChange) => {
    const i = pick(profiles, taken, suits);
    if (i !== null) changes.push(make(i));
  };
  const production = (p: KeyProfile) => p.environment === 'production';

  // A product launch: traffic ramps to three times over an hour and stays there.
  const launch = startOfDay(start + Math.floor(days * 0.45) * DAY) + 15 * HOUR;
  add(
    (p) => production(p) && p.shape === 'evening',
    (keyIndex) => ({
      keyIndex,
      type: 'launch',
      from: launch,
      description: 'Product launch: traffic triples for good',
      factor: (ts) => (ts < launch ? 1 : 1 + 2 * Math.min(1, (ts - launch) / HOUR)),
    }),
  );
  // Steady growth of 3.5 % a day, compounding.
  add(
    (p) => production(p) && p.shape === 'evening',
    (keyIndex) => ({
      keyIndex,
      type: 'growth',
      from: start,
      description: 'Steady growth of 3.5% a day',
      factor: (ts) => 1.035 ** ((ts - start) / DAY),
    }),
  );
  // The nightly batch job moves three hours later.
  const moved = startOfDay(start + Math.floor(days * 0.6) * DAY);
  add(
    (p) => p.shape === 'batch',
    (keyIndex) => ({
      keyIndex,
      type: 'batch_move',
      from: moved,
      description: 'Nightly batch moves from 01:00 to 04:00 UTC',
      factor: () => 1,
      shiftAt: (ts) => (ts >= moved ? 3 * HOUR : 0),
    }),
  );
  // A holiday week: office keys at a fifth of their traffic.
  const holiday = startOfDay(start + Math.floor(days * 0.7) * DAY);
  add(
    (p) => p.shape === 'business' && production(p),
    (keyIndex) => ({
      keyIndex,
      type: 'holiday',
      from: holiday,
      description: 'Holiday week at a fifth of the usual traffic',
      factor: (ts) => (ts >= holiday && ts < holiday + 7 * DAY ? 0.2 : 1),
    }),
  );
  // CI runs on staging: ten-minute bursts at eight times the rate, twice each weekday.
  add(
    (p) => p.environment === 'staging',
    (keyIndex) => ({
      keyIndex,
      type: 'ci_bursts',
      from: start,
      description: 'CI bursts on staging twice each weekday',
      factor: (ts) => {
        const d = new Date(ts);
        const weekday = d.getUTCDay() >= 1 && d.getUTCDay() <= 5;
        const minute = (ts - startOfDay(ts)) / MINUTE;
        const burst =
          (minute >= 10 * 60 && minute < 10 * 60 + 10) || (minute >= 15 * 60 && minute < 15 * 60 + 10);
        return weekday && burst ? 8 : 1;
      },
    }),
  );
  // A new customer: a steady key's traffic grows by 80 % in one step.
  const signed = startOfDay(start + Math.floor(days * 0.35) * DAY) + 9 * HOUR;
  add(
    (p) => p.shape === 'steady',
    (keyIndex) => ({
      keyIndex,
      type: 'new_customer',
      from: signed,
      description: 'New customer: traffic up 80% in one step',
      factor: (ts) => (ts >= signed ? 1.8 : 1),
    }),
  );
  // A client library upgrade changes the user agent's version, not the client.
  const upgraded = startOfDay(start + Math.floor(days * 0.5) * DAY) + 11 * HOUR;
  add(
    (p) => production(p) && p.agents.some((a) => /\/\d+\.\d+/.test(a)),
    (keyIndex) => ({
      keyIndex,
      type: 'upgrade',
      from: upgraded,
      description: 'Client library upgrade (new SDK version in the user agent)',
      factor: () => 1,
      agentAt: (ts) =>
        ts >= upgraded ? profiles[keyIndex]!.agents[0]!.replace(/\/[\d.]+/, '/9.9.9') : undefined,
    }),
  );
  return changes;
}
