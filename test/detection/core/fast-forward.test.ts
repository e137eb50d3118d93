/**
 * fastForward() against the minute-by-minute step: random keys with gaps of every length, under
 * varied contexts; the states must be equal bit for bit and the findings identical, minute for minute.
 */
import { describe, expect, it } from 'vitest';
import { DAY, HOUR, MINUTE } from '../../../server/clock.ts';
import { emptyBucket, fastForward } from '../../../server/detection/core/fast-forward.ts';
import { defaultRuleSet, mergeRuleSet, type RuleSet } from '../../../server/detection/core/params.ts';
import { createKeyState, type KeyState } from '../../../server/detection/core/state.ts';
import { stepKey } from '../../../server/detection/core/step.ts';
import type { Bucket, Finding, KeyContext } from '../../../server/detection/core/types.ts';
import { createRng } from '../../../server/simulate/random.ts';
import { ctxFor, START } from '../../helpers/detection.ts';

type Rng = ReturnType<typeof createRng>;
const pick = <T>(rng: Rng, xs: readonly T[]): T => xs[Math.floor(rng.next() * xs.length)]!;

/** Minutes with use, in stretches of random rate and cost separated by silences of any length. */
function randomUse(rng: Rng, from: number, to: number): Map<number, Bucket> {
  const used = new Map<number, Bucket>();
  let t = from;
  while (t < to) {
    const len = pick(rng, [5, 30, 90, 6 * 60, 30 * 60, 3 * 24 * 60]) * MINUTE;
    const rate = pick(rng, [0, 0, 0.003, 0.03, 0.2, 1, 6]);
    const cost = pick(rng, [2, 10, 40, 300]);
    const unauthorized = rng.next() < 0.1;
    for (const end = Math.min(to, t + len); t < end; t += MINUTE) {
      const n = rng.poisson(rate);
      if (n === 0) continue;
      const fails = unauthorized ? Math.min(n, rng.poisson(n / 2)) : 0;
      const op = pick(rng, ['ai-image-generator', 'ai-headshot-generator', 'video-to-video']);
      used.set(t, {
        ts: t,
        requests: n,
        credits: (n - fails) * cost * (rng.next() < 0.02 ? 20 : 1),
        authFailures: fails,
        ops: [{ op, requests: n, credits: (n - fails) * cost }],
        ips: { [pick(rng, ['203.0.113.10', '198.51.100.7', '192.0.2.44'])]: n },
        uas: { 'magic-hour-node/0.43.1': n },
      });
    }
  }
  return used;
}

/** Contexts that take different paths: zones off the hour, a disabled spike test, a zero floor... */
function randomContext(rng: Rng): KeyContext {
  let rules: RuleSet = mergeRuleSet(defaultRuleSet(), 'baseline', {
    params: { warmup_days: pick(rng, [0.5, 1, 2]) },
  });
  if (rng.next() < 0.2) rules = mergeRuleSet(rules, 'credit_spike', { enabled: false });
  if (rng.next() < 0.2) rules = mergeRuleSet(rules, 'credit_spike', { params: { floor_credits: 0 } });
  if (rng.next() < 0.2) rules = mergeRuleSet(rules, 'client_exposure', { enabled: false });
  if (rng.next() < 0.2) rules = mergeRuleSet(rules, 'credit_spike', { params: { alpha: 0.01 } });
  const factor = pick(rng, [1, 1, 2]);
  return ctxFor(
    {
      timeZone: pick(rng, ['UTC', 'Asia/Kolkata', 'America/New_York', undefined]),
      rotating: rng.next() < 0.2,
      calibrateOnAll: rng.next() < 0.2,
      factor: () => factor,
    },
    rules,
  );
}

type Verdicts = { ts: number; findings: Finding[] }[];

function stepEveryMinute(
  state: KeyState,
  from: number,
  to: number,
  used: Map<number, Bucket>,
  ctx: KeyContext,
) {
  const out: Verdicts = [];
  for (let t = from; t < to; t += MINUTE) {
    const findings = stepKey(state, used.get(t) ?? emptyBucket(t), ctx);
    if (findings.length > 0) out.push({ ts: t, findings });
  }
  return out;
}

function skipEmptyMinutes(
  state: KeyState,
  from: number,
  to: number,
  used: Map<number, Bucket>,
  ctx: KeyContext,
) {
  const out: Verdicts = [];
  const times = [...used.keys()].filter((t) => t >= from && t < to).sort((a, b) => a - b);
  let t = from;
  for (const u of [...times, to]) {
    fastForward(state, t, u, ctx, (ts, findings) => out.push({ ts, findings }));
    if (u === to) break;
    const findings = stepKey(state, used.get(u)!, ctx);
    if (findings.length > 0) out.push({ ts: u, findings });
    t = u + MINUTE;
  }
  return out;
}

describe('fastForward', () => {
  it('leaves the same state and findings as stepping every empty minute', { timeout: 120_000 }, () => {
    let findings = 0;
    let quietFindings = 0;
    for (let seed = 1; seed <= 12; seed++) {
      const rng = createRng(seed);
      // Starts off the hour, so the first stretch ends mid-hour.
      const from = START + Math.floor(rng.next() * 60) * MINUTE;
      const to = from + 4 * DAY;
      const used = randomUse(rng, from, to);
      const ctx = randomContext(rng);
      const a = createKeyState(MINUTE);
      const b = createKeyState(MINUTE);
      // Checked at several points, so a difference that later washes out is still caught.
      for (let t = from; t < to; t += 29 * HOUR) {
        const end = Math.min(to, t + 29 * HOUR);
        const stepped = stepEveryMinute(a, t, end, used, ctx);
        const skipped = skipEmptyMinutes(b, t, end, used, ctx);
        expect(skipped, `seed ${seed}`).toEqual(stepped);
        expect(b, `seed ${seed}`).toEqual(a);
        findings += stepped.length;
        quietFindings += stepped.filter((v) => !used.has(v.ts)).length;
      }
    }
    // The series must reach the verdicts worth comparing, on quiet minutes too (drops, spike tails).
    expect(findings).toBeGreaterThan(20);
    expect(quietFindings).toBeGreaterThan(5);
  });

  it('takes a state from before zones existed through the zone change it would step through', () => {
    const ctx = ctxFor({ timeZone: 'Asia/Kolkata' });
    const a = createKeyState(MINUTE);
    const b = createKeyState(MINUTE);
    const first: Bucket = { ts: START, requests: 3, credits: 30, authFailures: 0, ops: [] };
    stepKey(a, first, ctxFor());
    stepKey(b, first, ctxFor());
    stepEveryMinute(a, START + MINUTE, START + 3 * HOUR, new Map(), ctx);
    fastForward(b, START + MINUTE, START + 3 * HOUR, ctx);
    expect(b).toEqual(a);
    expect(b.zone).toBe('Asia/Kolkata');
  });
});
