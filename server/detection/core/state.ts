/**
 * The per-key detection state: everything a verdict needs, updated in O(1) per closed bucket and
 * stored as JSON, so live detection never rereads history.
 */

import { zoneOffset } from '../../time-zone.ts';
import { type Calibration, createCalibration } from './calibration.ts';
import type { ExposureState } from './detectors/client-exposure.ts';
import type { DropState } from './detectors/usage-drop.ts';
import { createSketch, type Sketch } from './sketch.ts';

export const HOW_CELLS = 168;
export const DAYCLASS_CELLS = 48;
/** Window lengths in minutes for the spike tests (deduplicated when the bucket is coarser). */
export const WINDOW_MINUTES = [1, 5, 15, 60] as const;

export type KeyState = {
  v: 1;
  bucketMs: number;
  /** First bucket with any use, and the last one. */
  firstUse: number | null;
  lastUse: number | null;
  /** Detectors stay quiet until then (warm-up after first use or after a rebaseline). */
  warmUntil: number | null;
  /** Seasonal profile: requests per bucket per hour-of-week cell, and per (weekday|weekend, hour). */
  how: number[];
  howN: number[];
  dc: number[];
  dcN: number[];
  all: number;
  allN: number;
  /** Ring of the last hour of buckets: observed requests, credits, 401s and expected requests. */
  ring: {
    req: number[];
    cred: number[];
    auth: number[];
    exp: number[];
    expCred: number[];
    /** Requests costing at least the key's 95th percentile, and how many were expected. */
    big: number[];
    expBig: number[];
    /** Requests costing `operation_mix.ratio` x the usual or more, and how many were expected given the count. */
    pricey: number[];
    expPricey: number[];
    pos: number;
  };
  /**
   * Overdispersion phi per window scale (variance = mean + phi * mean^2, negative binomial):
   * decayed sums of winsorised (residual^2 - mean) and mean^2.
   */
  phi: { num: number[]; den: number[] };
  jumps: Sketch;
  /** Calibration of the spike test's p-values to this key's own tail, and the last raw p. */
  calib: Calibration;
  lastP: number;
  /** Credits per request, EWMA, and the operations ever used with their usual cost. */
  jumpsAt: number;
  cpr: number;
  cprC: number;
  cprR: number;
  ops: Record<string, number>;
  /** When each operation was first used (after warm-up), so it stays "new" for a while. */
  opsNew: Record<string, number>;
  /** Buckets with use per (weekday|weekend, hour); an hour's use counts once the hour closes clean. */
  used: number[];
  pendingUse: number;
  ips: Record<string, number>;
  uas: Record<string, number>;
  authRate: number;
  /** Sustained-elevation CUSUM (nats) and where the current excursion began. */
  cusum: number;
  cusumFrom: number | null;
  cusumAcc: { req: number; exp: number; cred: number; expCred: number; hours: number };
  /** The hour in progress; `level` is its requests with each bucket winsorised (see foldHour). */
  hour: { req: number; level: number; exp: number; cred: number; expCred: number; n: number };
  /** The hour that closed with the current bucket, if any. */
  lastHour: { req: number; exp: number } | null;
  /**
   * The key's current level relative to its seasonal profile (which holds the shape): steady growth
   * moves it, so a key that grows is not a leak. Optional: states stored before it read as 1.
   */
  level?: number;
  /**
   * The highest rate (requests per bucket) the key held for a whole week lately (0: none yet),
   * when it was last at it, the factor the upward tests raise the expectation by meanwhile, and the
   * lowest rate of the week in progress since `from` (held-level.ts): a return from a quiet spell
   * is judged against it. Absent in states stored before it.
   */
  held?: { rate: number; at: number; scale: number; low: number; from: number };
  /**
   * The last 24 closed hours' requests and expectations, oldest overwritten first; bit j of
   * `moved` marks slot j as already learned as moved work (moved-work.ts).
   */
  day?: { req: number[]; exp: number[]; i: number; moved?: number };
  /** When detection last snapshotted this state for late-usage rewinds (detection/late-usage.ts). */
  checkpointedAt?: number;
  /** The zone its cells are keyed in; states stored before zones existed read as UTC. */
  zone?: string;
  /** The usage-drop CUSUM (detectors/usage-drop.ts); absent in states stored before it. */
  drop?: DropState;
  /** Networks in the window and evidence already reported (detectors/client-exposure.ts); absent before it. */
  exposure?: ExposureState;
  /** A level shift in progress: since when, and observed vs expected requests since then. */
  shift: { from: number; obs: number; exp: number; hours: number; high: number } | null;
  /** The newest rebaseline adjustment already applied. */
  rebaselineId: number;
  /** Last bucket each kind fired, so related detectors can defer to each other. */
  fired: Record<string, number>;
};

export function createKeyState(bucketMs: number): KeyState {
  const ringLen = Math.max(1, Math.round((60 * 60_000) / bucketMs));
  const zeros = (n: number) => new Array(n).fill(0);
  return {
    v: 1,
    bucketMs,
    firstUse: null,
    lastUse: null,
    warmUntil: null,
    how: zeros(HOW_CELLS),
    howN: zeros(HOW_CELLS),
    dc: zeros(DAYCLASS_CELLS),
    dcN: zeros(DAYCLASS_CELLS),
    all: 0,
    allN: 0,
    ring: {
      req: zeros(ringLen),
      cred: zeros(ringLen),
      auth: zeros(ringLen),
      exp: zeros(ringLen),
      expCred: zeros(ringLen),
      big: zeros(ringLen),
      expBig: zeros(ringLen),
      pricey: zeros(ringLen),
      expPricey: zeros(ringLen),
      pos: 0,
    },
    phi: { num: WINDOW_MINUTES.map(() => 0), den: WINDOW_MINUTES.map(() => 0) },
    jumps: createSketch(),
    calib: createCalibration(),
    lastP: 1,
    jumpsAt: 0,
    cpr: 0,
    cprC: 0,
    cprR: 0,
    ops: {},
    opsNew: {},
    used: zeros(DAYCLASS_CELLS),
    pendingUse: 0,
    ips: {},
    uas: {},
    authRate: 0,
    cusum: 0,
    cusumFrom: null,
    cusumAcc: { req: 0, exp: 0, cred: 0, expCred: 0, hours: 0 },
    hour: { req: 0, level: 0, exp: 0, cred: 0, expCred: 0, n: 0 },
    lastHour: null,
    shift: null,
    rebaselineId: 0,
    fired: {},
  };
}

/**
 * Hour-of-week and (weekday|weekend, hour) cells of a timestamp in local time of `zone` (a key's
 * team works to its own clock: across a daylight-saving change its hours stay the same cells).
 */
export function cellsOf(ts: number, zone = 'UTC'): { how: number; dc: number; hour: number } {
  // Date's getUTCHours/getUTCDay by arithmetic (every step asks, for every key): ms truncated as
  // Date does, then floor division; 1970-01-01 was a Thursday (day 4, Monday-first 3).
  const local = Math.trunc(ts + zoneOffset(zone, ts));
  const hour = mod(Math.floor(local / 3_600_000), 24);
  const dow = mod(Math.floor(local / 86_400_000) + 3, 7);
  return { how: dow * 24 + hour, dc: (dow >= 5 ? 24 : 0) + hour, hour };
}

const mod = (x: number, m: number) => ((x % m) + m) % m;

/** Number of buckets in `minutes` (at least one). */
export const bucketsIn = (state: KeyState, minutes: number) =>
  Math.max(1, Math.min(state.ring.req.length, Math.round((minutes * 60_000) / state.bucketMs)));

/** Sum of the last `n` ring entries of `series`, the newest included. */
export function ringSum(state: KeyState, series: number[], n: number): number {
  const len = series.length;
  let s = 0;
  for (let i = 0; i < n; i++) s += series[(state.ring.pos - i + len * 2) % len]!;
  return s;
}

/**
 * ringSum() of the expected requests for every window length (ascending) in one pass: the same
 * additions in the same order (newest first), so each partial sum is bit for bit ringSum() of that
 * length.
 */
export function expectedSums(state: KeyState, lengths: readonly number[], exp: number[]): void {
  const r = state.ring;
  const len = r.req.length;
  const longest = lengths[lengths.length - 1]!;
  let e = 0;
  let w = 0;
  // Newest first: from pos down to 0, then from the end down (no modulo per entry).
  for (let i = 0, at = r.pos; i < longest; i++, at = at === 0 ? len - 1 : at - 1) {
    e += r.exp[at]!;
    while (w < lengths.length && lengths[w] === i + 1) exp[w++] = e;
  }
}

/** Variance-to-mean ratio of requests at window scale `i` for an expectation `mean`. */
export function dispersionAt(state: KeyState, i: number, mean: number): number {
  const den = state.phi.den[i]!;
  const phi = den > 0 ? Math.max(0, state.phi.num[i]! / den) : 0;
  return 1 + phi * mean;
}
