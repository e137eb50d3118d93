/**
 * stepKey(): one closed bucket of one key through every detector, then into the state. Causal by
 * construction: detectors read the baseline as it was before this bucket, and the state learns
 * from the bucket only afterwards (and not from what was found anomalous).
 */

import { zoneOffset } from '../../time-zone.ts';
import {
  clipLimit,
  expectedRequests,
  rescaleBaseline,
  resetBaseline,
  updateBaseline,
  updateLevel,
} from './baseline.ts';
import { learnCalibration } from './calibration.ts';
import { KEY_DETECTORS } from './detectors/index.ts';
import { clientOf, networkOf } from './detectors/new-source.ts';
import { cusumIncrement, HOLD_SHARE } from './detectors/sustained-elevation.ts';
import { foldDrop } from './detectors/usage-drop.ts';
import { elevationScale, rememberRate } from './held-level.ts';
import { learnMovedWork } from './moved-work.ts';
import { addToSketch, sketchQuantile, sketchTail } from './sketch.ts';
import { bucketsIn, cellsOf, dispersionAt, type KeyState, ringSum, WINDOW_MINUTES } from './state.ts';
import type { Bucket, Evaluation, Finding, KeyContext } from './types.ts';

const HOUR = 3_600_000;
const DAY = 86_400_000;
/** Findings that mean "this bucket is not normal": the baseline does not learn from them. */
const ANOMALOUS = new Set(['credit_spike', 'operation_mix', 'revoked_use', 'off_hours']);

export type StepOptions = { rebaseline?: boolean };

export function stepKey(
  state: KeyState,
  bucket: Bucket,
  ctx: KeyContext,
  options: StepOptions = {},
): Finding[] {
  const base = ctx.rules.params.baseline;
  const { ts } = bucket;
  const zone = ctx.timeZone ?? 'UTC';
  if ((state.zone ?? 'UTC') !== zone) rezone(state, zone, ts);
  if (options.rebaseline) rebaseline(state, ts, base.warmup_days);
  const expReq = expectedRequests(state, ts);
  const expCred = expReq * state.cpr;
  // 401s cost nothing and are judged by auth_failures: the volume model counts answered requests.
  const volume = Math.max(0, bucket.requests - bucket.authFailures);
  const q95 = sketchQuantile(state.jumps, 0.05);
  let big = 0;
  for (const o of bucket.ops) if (o.requests > 0 && o.credits / o.requests >= q95) big += o.requests;
  const expBig = state.jumps.total > 0 ? expReq * sketchTail(state.jumps, q95) : 0;
  pushRing(state, bucket, volume, expReq, expCred, state.jumps.total > 0 ? big : 0, expBig);
  countPricey(state, bucket, volume, ctx.rules.params.operation_mix.ratio);
  const closesHour = Math.floor((ts + state.bucketMs) / HOUR) > Math.floor(ts / HOUR);
  state.hour.req += volume;
  // The sustained level: each bucket winsorised at its own limit, so one burst cannot carry an hour
  // (`?? 0`: states stored before this field existed lack it).
  state.hour.level =
    (state.hour.level ?? 0) + Math.min(volume, clipLimit(expReq, dispersionAt(state, 0, expReq)));
  state.hour.exp += expReq;
  state.hour.cred += bucket.credits;
  state.hour.expCred += expCred;
  state.hour.n++;
  if (closesHour) foldHour(state, ts, ctx);

  const warm = state.warmUntil !== null && ts >= state.warmUntil;
  return judgeAndLearn({ state, bucket, ctx, expReq, expCred, warm }, volume, closesHour);
}

/**
 * The second half of a step: every detector on the bucket already in the ring, then the state
 * learns from it. fastForward() enters here too when a quiet minute may still raise a finding.
 */
export function judgeAndLearn(evaluation: Evaluation, volume: number, closesHour: boolean): Finding[] {
  const { state, bucket, ctx, expReq } = evaluation;
  const { ts } = bucket;
  const findings: Finding[] = [];
  for (const [kind, detect] of KEY_DETECTORS) {
    if (!ctx.rules.enabled[kind]) continue;
    const finding = detect(evaluation);
    if (finding) findings.push(finding);
  }
  for (const f of findings) state.fired[f.kind] = ts;
  if (closesHour) {
    trackShift(state, ts, ctx);
    learnMovedWork(state, ts + state.bucketMs - HOUR);
    rememberRate(state, ts);
  }
  learn(
    state,
    bucket,
    volume,
    expReq,
    ctx,
    findings.some((f) => ANOMALOUS.has(f.kind)),
  );
  if (closesHour) {
    // Use in an hour becomes "normal for this hour" only if the hour passed without an off-hours finding.
    const offAt = state.fired.off_hours;
    if (offAt === undefined || ts - offAt >= HOUR)
      state.used[cellsOf(ts, state.zone).dc]! += state.pendingUse;
    state.pendingUse = 0;
  }
  return findings;
}

export function pushRing(
  state: KeyState,
  b: Bucket,
  volume: number,
  expReq: number,
  expCred: number,
  big: number,
  expBig: number,
): void {
  const r = state.ring;
  r.pos = (r.pos + 1) % r.req.length;
  r.big[r.pos] = big;
  r.expBig[r.pos] = expBig;
  r.req[r.pos] = volume;
  r.cred[r.pos] = b.credits;
  r.auth[r.pos] = b.authFailures;
  r.exp[r.pos] = expReq;
  r.expCred[r.pos] = expCred;
}

/** Requests far above the usual cost, against how many the key's cost tail predicts for this count. */
function countPricey(state: KeyState, b: Bucket, volume: number, ratio: number): void {
  const r = state.ring;
  const limit = ratio * state.cpr;
  let pricey = 0;
  if (state.cpr > 0)
    for (const o of b.ops) if (o.requests > 0 && o.credits / o.requests >= limit) pricey += o.requests;
  r.pricey[r.pos] = pricey;
  r.expPricey[r.pos] = state.cpr > 0 ? volume * sketchTail(state.jumps, limit) : 0;
}

/** Closes an hour into the sustained-elevation CUSUM. */
function foldHour(state: KeyState, ts: number, ctx: KeyContext): void {
  const h = state.hour;
  // A return from a quiet spell is judged against the level the key held before it (held-level.ts).
  const scale = elevationScale(state);
  const exp = h.exp * scale;
  const disp = dispersionAt(state, WINDOW_MINUTES.length - 1, exp);
  // Winsorised per bucket and per hour, like the baseline: a burst is credit_spike's to judge,
  // and one burst hour cannot carry the CUSUM for a day.
  const inc = cusumIncrement(
    Math.min(h.level, clipLimit(exp, disp)),
    exp,
    ctx.rules.params.sustained_elevation.ratio,
    disp,
  );
  const next = Math.max(0, state.cusum + inc);
  if (next === 0) {
    state.cusumFrom = null;
    state.cusumAcc = { req: 0, exp: 0, cred: 0, expCred: 0, hours: 0 };
  } else {
    if (state.cusum === 0 || state.cusumFrom === null) state.cusumFrom = ts + state.bucketMs - HOUR;
    const a = state.cusumAcc;
    a.req += h.req;
    a.exp += exp;
    a.cred += h.cred;
    a.expCred += h.expCred * scale;
    a.hours++;
  }
  state.cusum = next;
  foldDrop(state, h, ts + state.bucketMs - HOUR, ctx);
  const day = state.day ?? { req: new Array(24).fill(0), exp: new Array(24).fill(0), i: 0 };
  day.req[day.i] = h.req;
  day.exp[day.i] = h.exp;
  day.i = (day.i + 1) % 24;
  state.day = day;
  state.hour = { req: 0, level: 0, exp: 0, cred: 0, expCred: 0, n: 0 };
  state.lastHour = { req: h.req, exp: h.exp };
}

/**
 * A level shift that holds for `adapt_hours` (most informative hours elevated) becomes the new
 * normal: the profile is rescaled by the observed ratio, so a launch raises one incident, not days.
 */
function trackShift(state: KeyState, ts: number, ctx: KeyContext): void {
  const params = ctx.rules.params;
  const last = state.lastHour;
  state.lastHour = null;
  if (!last) return;
  const recent = (k: string) => state.fired[k] !== undefined && ts - state.fired[k]! < HOUR;
  if (!state.shift && (recent('credit_spike') || recent('sustained_elevation'))) {
    state.shift = { from: ts + state.bucketMs - HOUR, obs: 0, exp: 0, hours: 0, high: 0 };
  }
  const mid = 1 + (params.sustained_elevation.ratio - 1) / 2;
  // Every hour but a burst's moves the level, at most ~1 % an hour: growth is followed however far
  // the seasonal profile lags, while a leak's CUSUM fires within hours, long before the level
  // could absorb it (and a level shift that holds becomes the new normal after adapt_hours anyway).
  // Not while a rise awaits its verdict: a CUSUM halfway to its threshold or past it is left to fire
  // or fade (and a shift it started to be adopted whole or dropped). On a quiet key the CUSUM needs a
  // day or more, and a level moving meanwhile took most of a step before it could be told from growth.
  const pending =
    state.cusum >= HOLD_SHARE * params.sustained_elevation.threshold * ctx.factor('sustained_elevation');
  // Nor on an hour of the week the profile had not seen before: what it brought is the profile's to
  // learn. Measured against the shrunk guess for an unseen cell (a first weekend against the
  // weekdays' mean) it moved the level by half, and the cells learned earlier at the old level were
  // then a third short for the week after, as a rise; the level alone can undo that only by moving.
  const seen = state.howN[cellsOf(ts, state.zone).how]! > Math.round(HOUR / state.bucketMs);
  if (!recent('credit_spike') && !pending && seen) {
    const dispersion = dispersionAt(state, WINDOW_MINUTES.length - 1, last.exp);
    updateLevel(state, last, params.baseline.level_hours, dispersion);
  }
  const s = state.shift;
  if (!s) return;
  s.obs += last.req;
  s.exp += last.exp;
  if (last.exp >= 1) {
    s.hours++;
    if (last.req > mid * last.exp) s.high++;
  }
  const age = ts + state.bucketMs - s.from;
  // The CUSUM still holding the rise is evidence enough that it lasts, however noisy a quiet key's
  // single hours are (few of them clear `mid` even when the rate is up 80 %).
  const holding = recent('sustained_elevation');
  if (age >= 6 * HOUR && s.high < 0.5 * s.hours && !holding) state.shift = null;
  // Held for adapt_hours: most hours elevated, or (a quiet key's noisy hours) half of them and the
  // whole stretch well above the baseline, or the sustained rise still firing.
  else if (
    age >= params.baseline.adapt_hours * HOUR &&
    s.hours > 0 &&
    (s.high >= 0.75 * s.hours ||
      (s.high >= 0.5 * s.hours && s.obs >= mid * s.exp) ||
      (holding && s.obs > s.exp))
  ) {
    rescaleBaseline(state, s.obs / Math.max(s.exp, 1e-9));
    state.cusum = 0;
    state.cusumFrom = null;
    state.cusumAcc = { req: 0, exp: 0, cred: 0, expCred: 0, hours: 0 };
    state.shift = null;
  } else if (age >= 2 * params.baseline.adapt_hours * HOUR) state.shift = null;
}

function learn(
  state: KeyState,
  b: Bucket,
  volume: number,
  expReq: number,
  ctx: KeyContext,
  anomalous: boolean,
): void {
  const base = ctx.rules.params.baseline;
  const perHour = Math.max(1, Math.round(HOUR / state.bucketMs));
  const week = perHour * 168;
  // Overdispersion per window scale, method of moments on residuals winsorised at 3 sd.
  const keep = 1 - 1 / week;
  WINDOW_MINUTES.forEach((minutes, i) => {
    const len = bucketsIn(state, minutes);
    const mu = ringSum(state, state.ring.exp, len);
    if (mu < 0.5) return;
    const n = ringSum(state, state.ring.req, len);
    const r2 = Math.min((n - mu) ** 2, 9 * mu * dispersionAt(state, i, mu));
    state.phi.num[i] = state.phi.num[i]! * keep + (r2 - mu);
    state.phi.den[i] = state.phi.den[i]! * keep + mu * mu;
  });
  if (!anomalous || ctx.calibrateOnAll) learnCalibration(state.calib, state.lastP, week * base.memory_weeks);
  state.lastP = 1;
  updateBaseline(state, b.ts, Math.min(volume, clipLimit(expReq, dispersionAt(state, 0, expReq))), base);
  const memoryMs = base.memory_weeks * 7 * DAY;
  if (!anomalous && b.requests > 0) {
    const decay = state.jumpsAt > 0 ? Math.exp(-(b.ts - state.jumpsAt) / memoryMs) : 1;
    state.jumpsAt = b.ts;
    state.cprC = state.cprC * decay + b.credits;
    state.cprR = state.cprR * decay + b.requests;
    state.cpr = state.cprR > 0 ? state.cprC / state.cprR : 0;
    for (const o of b.ops) {
      if (o.requests > 0) addToSketch(state.jumps, o.credits / o.requests, o.requests, decay);
    }
  }
  const warm = state.warmUntil !== null && b.ts >= state.warmUntil;
  for (const o of b.ops) {
    if (o.requests <= 0) continue;
    if (state.ops[o.op] === undefined && warm) state.opsNew[o.op] = b.ts;
    const prev = state.ops[o.op] ?? o.credits / o.requests;
    state.ops[o.op] = prev + (o.credits / o.requests - prev) / 20;
  }
  const maxSources = ctx.rules.params.new_source.max_sources * 4;
  remember(state.ips, b.ips, networkOf, b.ts, maxSources);
  remember(state.uas, b.uas, clientOf, b.ts, maxSources);
  const authCap = clipLimit(state.authRate, 1);
  state.authRate += (Math.min(b.authFailures, authCap) - state.authRate) / week;
  if (b.requests > 0) {
    if (!anomalous) state.pendingUse += 1;
    if (state.firstUse === null) {
      state.firstUse = b.ts;
      state.warmUntil = b.ts + base.warmup_days * DAY;
    }
    state.lastUse = b.ts;
  }
}

function remember(
  seen: Record<string, number>,
  values: Record<string, number> | undefined,
  normalize: (v: string) => string,
  ts: number,
  max: number,
): void {
  if (!values) return;
  for (const v of Object.keys(values)) {
    const k = normalize(v);
    if (seen[k] === undefined && Object.keys(seen).length < max) seen[k] = ts;
  }
}

/**
 * Re-keys the learned hours to another zone (an upgrade from UTC cells, a key given its own
 * zone): each cell moves by the difference of the offsets now, so the first week after the change
 * judges the same working hours as the week before it.
 */
function rezone(state: KeyState, zone: string, ts: number): void {
  const shift = Math.round((zoneOffset(zone, ts) - zoneOffset(state.zone ?? 'UTC', ts)) / HOUR);
  const rotate = (xs: number[], from: number, len: number) => {
    const part = xs.slice(from, from + len);
    for (let i = 0; i < len; i++) xs[from + ((((i + shift) % len) + len) % len)] = part[i]!;
  };
  rotate(state.how, 0, 168);
  rotate(state.howN, 0, 168);
  for (const xs of [state.dc, state.dcN, state.used]) {
    rotate(xs, 0, 24);
    rotate(xs, 24, 24);
  }
  state.zone = zone;
}

/** A manual new normal from `ts`: relearn the profile, hours and sources over a short warm-up. */
function rebaseline(state: KeyState, ts: number, warmupDays: number): void {
  resetBaseline(state);
  state.cusum = 0;
  state.cusumFrom = null;
  state.shift = null;
  state.warmUntil = ts + Math.min(1, warmupDays) * DAY;
}
