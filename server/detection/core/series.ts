/**
 * detectSeries(): the volume detectors and the two-sided change detector on one regularly sampled
 * series, for evaluation on outside data. Causal: row i is scored with rows <= i only. Three kinds
 * of evidence are combined: the credit-spike tests (values read as request counts, windows up to
 * an hour), the hourly sustained-elevation CUSUM (a level that stays raised for hours), both of
 * which only look up, and series-shift.ts (drops, stops, shifts either way, changed daily shapes,
 * changed volatility); a row scores the strongest. A series that is not a count (any non-integer
 * value on its first day) is read by the volume detectors in a unit fixed at the end of that day
 * (see COUNT_SCALE), and their spikes on it are held to the series' own history (the CUSUM's rises
 * to its habits, HABIT_DAYS). A row's score is
 * that score when it opens a new episode; inside an episode that already alarmed, just under half
 * of it (the alarm is raised; repeating it adds nothing). An onset raised only just (see
 * CONFIRM_BELOW), whichever evidence raised it, waits: it alarms if one of the next CONFIRM_ROWS
 * rows alarms too, else not at all. An alarm the same way as the last soon after it (see
 * SAME_DIRECTION) is that episode still: the change it saw is still in the features' reference.
 * is_anomaly = score >= 0.5. With no adversary to fear, the p-value
 * calibration learns from every row (KeyContext.calibrateOnAll), so a burst that recurs is
 * judged against the series' own tail of bursts.
 */
import { DETECTOR_KINDS, type DetectorKind, defaultRuleSet, type RuleSet } from './params.ts';
import {
  createShiftState,
  LONGEST_SCALE_MS,
  riseRecurrence,
  type ShiftState,
  stepShift,
} from './series-shift.ts';
import { createKeyState } from './state.ts';
import { scoreFromP } from './stats.ts';
import { stepKey } from './step.ts';
import type { Bucket, Finding, KeyContext } from './types.ts';

export type SeriesRow = { ts: number; value: number };
/** `by`: the evidence behind the score (a detector kind, or the change feature and direction). */
export type SeriesScore = { score: number; anomaly: boolean; by: string | null };

/** A repeat inside an episode scores just under the decision point: unusual still, but not news. */
const REPEAT = 0.49;
/**
 * The change detector's false-alarm budget per row: about three false alarms in 10^3 rows on a
 * clean series, before episodes merge neighbouring rows and before the tails' floor (a size the
 * series keeps reaching is no news) takes out the recurring ones. Chosen by tools/eval/nab-loco.ts's
 * rule (the candidate scoring best on NAB), which picks it with any one category held out too:
 * in process (with CONFIRM_BELOW), 1e-3 scored 61.1 on all 45, 3e-3 68.8, held out 68.8.
 */
export const SHIFT_ALPHA = 3e-3;
/**
 * See SeriesOptions.confirmBelow. 0.6 is a tail probability between alpha^1.2 and alpha on one row
 * (each detector's own alpha): on NAB, 126 of the ~250 false detections were change-feature onsets
 * scoring in [0.5, 0.6), against 31 of the first detections in the 94 windows. It first held back
 * the change features' onsets only (67.5 -> 68.4); held back whichever evidence raised them (the
 * spike test's and the CUSUM's marginal onsets too: on the tweets, 12 false detections against 2
 * first detections in windows), 68.8 on all 45 and held out. nab-loco.ts offers the rule 0.5 (off)
 * and 0.6; it picks 0.6 for every held-out category.
 */
export const CONFIRM_BELOW = 0.6;
/**
 * See SeriesOptions.confirmRows. Evidence near the budget flickers: a change that is real can score
 * just past it, just under, and past it again (on known-cause's ambient temperature the missing
 * window's seasonal feature scored 0.5+, 0.46, 0.5+ on three rows). Two rows: 68.8 -> 69.6 on all
 * 45 with the detector of the time (that window caught, no category down by more than 0.6);
 * nab-loco.ts's rule picks two rows over one for every held-out category (held out 68.8 -> 69.5).
 */
export const CONFIRM_ROWS = 2;
/**
 * The volume detectors read values as counts (request counts: Poisson noise, then the series' own
 * overdispersion). A series that is not a count (CPU %, a price of 0.1, a temperature) has no
 * natural count unit, and read as it is its noise model is arbitrary: a cost per click near 0.1
 * reads as a tenth of a request, whose 10-fold spike a count test cannot tell from nothing. Such a
 * series is read so that its typical value (the median of its first day) is this many counts
 * (Poisson noise of ~30 % at the typical level before the learned dispersion), so the tests judge
 * a move relative to the series' size, whatever its unit. Count series are read as they are.
 * tools/eval/nab-loco.ts's rule picks 10 among 0 (off), 10, 100 and 1000 on all six categories
 * (74.1, against 69.6 off, 73.7 at 100, 72.7 at 1000). The ad-exchange prices (values near 0.1)
 * are the only NAB series whose spikes it newly shows (49 -> 80); on the other five it is neutral
 * to slightly negative (CloudWatch -0.2), so held out the ad exchange gets the variant that also
 * holds the CUSUM to history (holdElevation: 65.0 there); see the README.
 */
export const COUNT_SCALE = 10;

/**
 * A CUSUM finding on a rescaled series is held to the series' history only by a rise the series
 * makes at least this often: its habit (a CPU series' daily job, a price's evening peak). The
 * CUSUM's own budget is e^-10 per row, so any recurrence the memory can show (one run in two weeks
 * is 3e-3 on an hourly series) outweighs it: held to every rise in memory, a sustained rise the
 * series made once before, a week or two ago, is never news again, and on NAB three of the ad
 * exchange's 14 windows were lost so (their prices had risen as far once, in an earlier labelled
 * anomaly). A week is the cycle the live baseline learns (hour of week): a rise that comes back
 * weekly or more often is the series' shape, a rarer one is an event. On NAB (in process): hold
 * off 74.5, held to any rise 72.1, held to habits of 1, 2, 3, 4 and 7 days 74.6, 74.6, 74.7, 74.7,
 * 74.8; nab-loco.ts offers the rule 0 and 7 and picks 7 for every held-out category (held out
 * 71.9 -> 74.8: held to any rise, it was picked only with the ad exchange held out, 65.0 there).
 */
export const HABIT_DAYS = 7;
/**
 * An alarm in the same direction as the last one (up: a rise, a spike, the CUSUM; down: a drop)
 * within this share of the level reference's length (a day of rows, at least 48) after it belongs
 * to the same episode, even after the quiet period. The level features compare a window of up to
 * six hours with the median of the reference before it, and that median moves to a new level only
 * once more than half of the reference lies after the change: until then the change itself keeps
 * showing, in its direction, and the features flicker over and under the budget (a fall on a CPU
 * series, ec2_cpu_utilization_fe7f93, alarmed at one row, then 7 hours later at an hour's scale and
 * 8 hours after that at six hours'). A move the other way (a burst ending, a recovery) is still
 * news after the quiet period. On NAB (in process, with HABIT_DAYS): 74.8 -> 75.7 on all 45, every
 * category up (false rows 184 -> 167, no window lost); measured from the episode's first alarm
 * instead of its last, 75.4. Fixed at 9, 12, 15 and 18 hours on every series (the share gives 12 h
 * on 5-minute rows, 24 h on hourly ones): 75.3, 75.6, 73.0, 72.8 (from 15 h on, a second window
 * soon after a first is lost: the margin is not wide). nab-loco.ts offers the rule 0, 0.5 and 1
 * (1: 66.2); it picks 0.5 for every held-out category (held out 74.8 -> 75.7).
 */
export const SAME_DIRECTION = 0.5;

const DAY_MS = 86_400_000;

/** The sampling step: the median gap between rows (at least a second). */
export function inferStep(rows: readonly SeriesRow[]): number {
  const gaps: number[] = [];
  for (let i = 1; i < Math.min(rows.length, 2001); i++) gaps.push(rows[i]!.ts - rows[i - 1]!.ts);
  gaps.sort((a, b) => a - b);
  return Math.max(1000, gaps[Math.floor(gaps.length / 2)] ?? 60_000);
}

/** The detectors that read only the volume: everything else needs operations, sources or keys. */
export const SERIES_KINDS: readonly DetectorKind[] = ['credit_spike', 'sustained_elevation'];

export function seriesRules(): RuleSet {
  const rules = defaultRuleSet();
  for (const k of DETECTOR_KINDS) rules.enabled[k] = SERIES_KINDS.includes(k);
  // A bare series has no credits: no absolute floor applies.
  rules.params.credit_spike.floor_credits = 0;
  rules.params.sustained_elevation.floor_credits = 0;
  rules.params.baseline.warmup_days = 1;
  // A bare series is scored on its own shape; following its level is the live keys' concern.
  rules.params.baseline.level_hours = 0;
  return rules;
}

/**
 * The series detector's own constants. Fixed in code; tools/eval/nab-loco.ts passes candidates to
 * measure how much choosing among them on some NAB categories helps on a category it never saw.
 */
export type SeriesOptions = {
  /** False-alarm budget per row of the change detector. */
  shiftAlpha: number;
  /** Alarms closer together than this are one episode (at least the quiet period). */
  episodeMs: number;
  /**
   * An onset raised with a score below this (a tail probability only a little past its detector's
   * budget, on one row) is raised only if the next row alarms too: one marginal row is weak
   * evidence, whichever detector saw it, and a change or burst that is real is still there a row
   * later. 0.5: off.
   */
  confirmBelow: number;
  /** A marginal onset is raised if one of this many rows after it alarms. */
  confirmRows: number;
  /** The count a non-count series' typical value is read as by the volume detectors (0: as it is). */
  countScale: number;
  /**
   * Hold the CUSUM's findings on a rescaled series to the series' history too, as the spike test's
   * are (to its habits only, see habitDays). Held to any rise in memory it took out a few false
   * rows on CPU series and known causes (+0.1, +0.8) and three of the ad exchange's windows
   * (-14.6); held to habits, see HABIT_DAYS. nab-loco.ts offers it on and off.
   */
  holdElevation: boolean;
  /** See HABIT_DAYS (0: any rise in memory holds a CUSUM finding). */
  habitDays: number;
  /** See SAME_DIRECTION: the share of the level reference's length (0: off). */
  sameDirection: number;
};
export const SERIES_DEFAULTS: SeriesOptions = {
  shiftAlpha: SHIFT_ALPHA,
  episodeMs: LONGEST_SCALE_MS,
  confirmBelow: CONFIRM_BELOW,
  confirmRows: CONFIRM_ROWS,
  countScale: COUNT_SCALE,
  holdElevation: true,
  habitDays: HABIT_DAYS,
  sameDirection: SAME_DIRECTION,
};

/**
 * The factor the volume detectors read a series in: 1 for a count (every value of `first`, the
 * first day's, an integer), else the one that makes the first day's median `countScale`. A series
 * whose typical value is zero or less has no typical size to scale by: it is read as it is.
 */
export function countUnit(first: readonly number[], countScale: number): number {
  if (countScale <= 0 || first.every((v) => Number.isInteger(v))) return 1;
  const sorted = [...first].sort((a, b) => a - b);
  const m = sorted.length >> 1;
  const median = sorted.length % 2 ? sorted[m]! : (sorted[m - 1]! + sorted[m]!) / 2;
  return median > 0 ? countScale / median : 1;
}

/**
 * A spike finding on a series read in an assumed unit (see COUNT_SCALE), once the series' own
 * history is heard: its tail probability is never below the rate at which the series rose as far
 * before (riseRecurrence), the same floor the change features have. On a count series the spike
 * test's model is the right one and stands alone; on a rescaled one its p-value is only as good as
 * the unit, and a daily spike of the size it makes every day (CPU series) is no news. The score is
 * scoreFromP of the larger p at the test's own budget (credit-spike.ts: alpha per minute of data;
 * the CUSUM's: e^-threshold). The CUSUM is held too with SeriesOptions.holdElevation, to habits.
 */
function heardScore(
  shift: ShiftState,
  f: Finding,
  step: number,
  rules: RuleSet,
  holdElevation: boolean,
  habitDays: number,
): number {
  const alpha =
    f.kind === 'credit_spike'
      ? Math.min(0.01, rules.params.credit_spike.alpha * (step / 60_000))
      : f.kind === 'sustained_elevation' && holdElevation
        ? Math.exp(-rules.params.sustained_elevation.threshold)
        : null;
  if (alpha === null) return f.score;
  const rows = Math.round((f.window.to - f.window.from) / step);
  const floor = riseRecurrence(shift, rows, f.kind === 'sustained_elevation' ? habitDays : 0);
  if (floor <= 0) return f.score;
  return Math.min(f.score, scoreFromP(floor, alpha));
}

export function detectSeries(
  rows: readonly SeriesRow[],
  rules: RuleSet = seriesRules(),
  options: Partial<SeriesOptions> = {},
): SeriesScore[] {
  const {
    shiftAlpha,
    episodeMs,
    confirmBelow,
    confirmRows,
    countScale,
    holdElevation,
    habitDays,
    sameDirection,
  } = {
    ...SERIES_DEFAULTS,
    ...options,
  };
  const step = inferStep(rows);
  const state = createKeyState(step);
  const shift = createShiftState(step, shiftAlpha);
  const ctx: KeyContext = {
    status: 'active',
    revokedAt: null,
    rules,
    factor: () => 1,
    calibrateOnAll: true,
  };
  // The change features keep seeing an onset for their longest window: that is still one episode.
  const quiet = Math.max(rules.params.baseline.quiet_minutes * 60_000, episodeMs);
  // The unit is fixed once the baseline's warm-up (in which the volume detectors cannot speak) has
  // passed; the rows until then wait, and are read in it then, so no row sees a later one.
  const warmUpMs = rules.params.baseline.warmup_days * DAY_MS;
  const sample = (ts: number, value: number): Bucket => ({
    ts,
    requests: value,
    credits: value,
    authFailures: 0,
    ops: [],
  });
  const waiting: SeriesRow[] = [];
  let unit: number | null = null;
  const volumeFindings = (ts: number, value: number): Finding[] => {
    if (unit !== null) return stepKey(state, sample(ts, value * unit), ctx);
    waiting.push({ ts, value });
    if (ts - waiting[0]!.ts < warmUpMs) return [];
    unit = countUnit(
      waiting.map((r) => r.value),
      countScale,
    );
    for (const r of waiting.slice(0, -1)) stepKey(state, sample(r.ts, r.value * unit), ctx);
    waiting.length = 0;
    return stepKey(state, sample(ts, value * unit), ctx);
  };
  let lastAlarm = -Infinity;
  /** The last alarm in each direction, and how long the same change keeps showing in it. */
  const lastIn = { up: -Infinity, down: -Infinity };
  const sameMs = sameDirection * shift.reference * step;
  /** Rows left in which a marginal onset can be confirmed (0: none waiting). */
  let pending = 0;
  return rows.map((row) => {
    const finite = Number.isFinite(row.value) ? row.value : 0;
    // Counts cannot be negative; the change features read any real value as it is.
    const findings = volumeFindings(row.ts, Math.max(0, finite));
    const evidence = stepShift(shift, finite);
    let raw = scoreFromP(evidence.p, shiftAlpha);
    let by = evidence.kind && `${evidence.kind} ${evidence.rows} ${evidence.direction}`;
    let direction = evidence.direction ?? 'up';
    for (const f of findings) {
      const score = unit === 1 ? f.score : heardScore(shift, f, step, rules, holdElevation, habitDays);
      // The volume detectors only look up.
      if (score > raw) [raw, by, direction] = [score, f.kind, 'up'];
    }
    if (raw < 0.5) {
      if (pending > 0) pending--;
      return { score: raw, anomaly: false, by };
    }
    const onset = row.ts - lastAlarm > quiet && row.ts - lastIn[direction] > sameMs;
    if (onset && raw < confirmBelow && pending === 0) {
      pending = confirmRows;
      return { score: REPEAT, anomaly: false, by };
    }
    pending = 0;
    lastAlarm = row.ts;
    lastIn[direction] = row.ts;
    const score = onset ? raw : raw * REPEAT;
    return { score, anomaly: score >= 0.5, by };
  });
}
