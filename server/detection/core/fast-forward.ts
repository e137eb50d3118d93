/**
 * fastForward(): a key's state carried over minutes without use, leaving exactly the state and the
 * findings that stepKey() on each empty bucket would (a property test compares the two bit for bit).
 *
 * Why a loop and not a closed form: an empty minute still teaches the baseline (its hour-of-week
 * cell, day-class cell and global mean each move one EWMA step towards zero), and the next
 * minute's expectation, the overdispersion estimates and the hour's sums read what that step left.
 * Each value is a chain of rounded floating-point operations whose closed form (a geometric
 * product) rounds differently, so "the same state" would become "nearly the same" and a verdict on
 * the threshold could flip. So the loop stays, made cheap: what an empty minute cannot change is
 * skipped (detectors that need use, sources or operations; the cost sketch; the spike test when no
 * credit is left in its longest window), the spike test skips its costly spend bound when a lower
 * bound already shows the minute ordinary (credit-spike.ts), and the ring sums take one pass for
 * every window length. A minute that closes an hour, or whose spike test fires, takes the full step.
 */
import { clipLimit, expectedRequests, updateBaseline } from './baseline.ts';
import { learnCalibration } from './calibration.ts';
import { createExposure } from './detectors/client-exposure.ts';
import { detectCreditSpike, type WindowSums, windowSums } from './detectors/credit-spike.ts';
import { sketchQuantile, sketchTail } from './sketch.ts';
import { dispersionAt, expectedSums, type KeyState } from './state.ts';
import { judgeAndLearn, pushRing, stepKey } from './step.ts';
import type { Bucket, Finding, KeyContext } from './types.ts';

const HOUR = 3_600_000;

export const emptyBucket = (ts: number): Bucket => ({
  ts,
  requests: 0,
  credits: 0,
  authFailures: 0,
  ops: [],
});

/** What stays constant over a stretch without use (no request moves the cost sketch or cpr), and buffers. */
type Run = {
  /** The key's share of requests at or above its 95th percentile of cost (expBig per expected request). */
  tail95: number;
  /**
   * The ring entries with credits or requests, newest first, by age when the run began (0 = the
   * newest): the run pushes only zeros, so these are all the use its windows can hold.
   */
  used: { age: number; cred: number; req: number }[];
  /** Buckets pushed since the run began. */
  pushed: number;
  sums: WindowSums;
  /** The empty bucket the spike test reads (only its time changes). */
  bucket: Bucket;
};

/**
 * Advances `state` over the empty buckets [from, to) under one context (the caller splits at
 * adjustment and rotation boundaries), calling `found` with any findings, in time order.
 */
export function fastForward(
  state: KeyState,
  from: number,
  to: number,
  ctx: KeyContext,
  found?: (ts: number, findings: Finding[]) => void,
): void {
  if (from >= to) return;
  const run = startRun(state);
  for (let ts = from; ts < to; ts += state.bucketMs) {
    const findings = quietStep(state, ts, ctx, run) ?? stepKey(state, emptyBucket(ts), ctx);
    if (findings.length > 0) found?.(ts, findings);
    run.pushed++;
  }
}

function startRun(state: KeyState): Run {
  const q95 = sketchQuantile(state.jumps, 0.05);
  const r = state.ring;
  const len = r.req.length;
  const used: Run['used'] = [];
  for (let age = 0; age < len; age++) {
    const at = (r.pos - age + len * 2) % len;
    if (r.cred[at] !== 0 || r.req[at] !== 0) used.push({ age, cred: r.cred[at]!, req: r.req[at]! });
  }
  return {
    tail95: state.jumps.total > 0 ? sketchTail(state.jumps, q95) : 0,
    used,
    pushed: 0,
    bucket: emptyBucket(0),
    sums: windowSums(state),
  };
}

const NO_USE = emptyBucket(0);

/**
 * One empty bucket as stepKey would take it, or null (nothing changed) when it needs the full step.
 * The statements mirror stepKey's for a bucket with no requests, credits, 401s, operations or sources.
 */
function quietStep(state: KeyState, ts: number, ctx: KeyContext, run: Run): Finding[] | null {
  if (Math.floor((ts + state.bucketMs) / HOUR) > Math.floor(ts / HOUR)) return null;
  if ((state.zone ?? 'UTC') !== (ctx.timeZone ?? 'UTC')) return null;
  const expReq = expectedRequests(state, ts);
  const expCred = expReq * state.cpr;
  const expBig = state.jumps.total > 0 ? expReq * run.tail95 : 0;
  pushRing(state, NO_USE, 0, expReq, expCred, 0, expBig);
  state.ring.pricey[state.ring.pos] = 0;
  state.ring.expPricey[state.ring.pos] = 0;
  const h = state.hour;
  h.level = (h.level ?? 0) + Math.min(0, clipLimit(expReq, dispersionAt(state, 0, expReq)));
  h.req += 0;
  h.exp += expReq;
  h.cred += 0;
  h.expCred += expCred;
  h.n++;
  const warm = state.warmUntil !== null && ts >= state.warmUntil;
  const { sums } = run;
  // Credits and requests per window from the few entries with use: the zeros between them add
  // nothing, so the same additions in the same order give ringSum()'s value bit for bit.
  const floor = ctx.rules.params.credit_spike.floor_credits * ctx.factor('credit_spike');
  let spikeIdle = true;
  for (let w = 0; w < sums.lengths.length; w++) {
    const len = sums.lengths[w]! - run.pushed - 1;
    let c = 0;
    let n = 0;
    for (const u of run.used) {
      if (u.age >= len) break;
      c += u.cred;
      n += u.req;
    }
    sums.req[w] = n;
    // Expected credits are never negative: below the floor here, below it after subtracting them.
    if (c >= floor) spikeIdle = false;
  }
  if (ctx.rules.enabled.credit_spike && !spikeIdle) {
    windowSums(state, sums);
    run.bucket.ts = ts;
    const e = { state, bucket: run.bucket, ctx, expReq, expCred, warm, sums };
    if (detectCreditSpike(e)) return judgeAndLearn({ ...e, bucket: emptyBucket(ts) }, 0, false);
  } else {
    // No window clears the credit floor: bestWindow() finds nothing, p = 1.
    if (ctx.rules.enabled.credit_spike) state.lastP = 1;
    expectedSums(state, sums.lengths, sums.exp);
  }
  if (ctx.rules.enabled.client_exposure && !state.exposure) state.exposure = createExposure();
  learnQuiet(state, ts, expReq, ctx, sums);
  return NONE;
}
const NONE: Finding[] = [];

/** learn() of step.ts for an empty, unremarkable bucket (the ring sums read before it are still current). */
function learnQuiet(state: KeyState, ts: number, expReq: number, ctx: KeyContext, sums: WindowSums): void {
  const base = ctx.rules.params.baseline;
  const perHour = Math.max(1, Math.round(HOUR / state.bucketMs));
  const week = perHour * 168;
  const keep = 1 - 1 / week;
  for (let i = 0; i < sums.lengths.length; i++) {
    const mu = sums.exp[i]!;
    if (mu < 0.5) continue;
    const n = sums.req[i]!;
    const r2 = Math.min((n - mu) ** 2, 9 * mu * dispersionAt(state, i, mu));
    state.phi.num[i] = state.phi.num[i]! * keep + (r2 - mu);
    state.phi.den[i] = state.phi.den[i]! * keep + mu * mu;
  }
  learnCalibration(state.calib, state.lastP, week * base.memory_weeks);
  state.lastP = 1;
  updateBaseline(state, ts, Math.min(0, clipLimit(expReq, dispersionAt(state, 0, expReq))), base);
  const authCap = clipLimit(state.authRate, 1);
  state.authRate += (Math.min(0, authCap) - state.authRate) / week;
}
