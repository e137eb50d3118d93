/**
 * replayChunk() replays key by key, fast-forwarding the minutes without use and splitting where an
 * adjustment or a rotation starts or ends; the sink must see exactly what a minute-major replay
 * stepping every key every minute hands it, in the same order, and the states must end equal.
 */
import { describe, expect, it } from 'vitest';
import { DAY, HOUR, MINUTE } from '../../server/clock.ts';
import { type Adjustment, adjustmentsAt } from '../../server/detection/adjustments.ts';
import { createAccountState, stepAccount } from '../../server/detection/core/account.ts';
import { ACCOUNT_SUBJECT, keySubject } from '../../server/detection/core/episodes.ts';
import { defaultRuleSet, mergeRuleSet } from '../../server/detection/core/params.ts';
import { createKeyState } from '../../server/detection/core/state.ts';
import { stepKey } from '../../server/detection/core/step.ts';
import type { Bucket } from '../../server/detection/core/types.ts';
import type { Chunk, KeyInfo } from '../../server/detection/load-chunk.ts';
import { type ReplayState, replayChunk, type Sink } from '../../server/detection/replay.ts';
import type { RuleSets } from '../../server/detection/rules.ts';
import { createRng } from '../../server/simulate/random.ts';
import { START } from '../helpers/detection.ts';

const rules = mergeRuleSet(defaultRuleSet(), 'baseline', { params: { warmup_days: 1 } });
const sets: RuleSets = { global: rules, forKey: () => rules };

/** Steady keys that fall silent (usage_drop fires on empty minutes), one that comes back, one sparse. */
function history(seed: number, keys: KeyInfo[], from: number, to: number): Chunk {
  const rng = createRng(seed);
  const rates: ((t: number) => number)[] = [
    (t) => (t < from + 1.6 * DAY ? 2 : 0),
    (t) => (t < from + 1.7 * DAY ? 1 : 0),
    (t) => (t < from + 1.5 * DAY || t >= from + 2.2 * DAY ? 0.5 : 0),
    () => 0.02,
  ];
  const buckets = new Map<number, Map<string, Bucket>>();
  for (const [i, key] of keys.entries()) {
    for (let t = from; t < to; t += MINUTE) {
      const n = rng.poisson(rates[i]!(t) * (rng.next() < 0.001 ? 40 : 1));
      if (n === 0) continue;
      const byKey = buckets.get(t) ?? new Map<string, Bucket>();
      buckets.set(t, byKey);
      byKey.set(key.id, {
        ts: t,
        requests: n,
        credits: n * 40,
        authFailures: 0,
        ops: [{ op: 'ai-image-generator', requests: n, credits: n * 40 }],
      });
    }
  }
  return { keys, buckets, unattributed: new Map([[from + 5 * HOUR, 900]]) };
}

const adjustment = (a: Partial<Adjustment> & Pick<Adjustment, 'id' | 'type' | 'from'>): Adjustment => ({
  keyId: null,
  kind: null,
  until: null,
  factor: null,
  incidentId: null,
  createdBy: 'test',
  createdAt: 0,
  ...a,
});

/** The replay as it was before fast-forward: minute-major, every key with a state every minute. */
function minuteMajor(
  chunk: Chunk,
  from: number,
  to: number,
  adjustments: Adjustment[],
  state: ReplayState,
  sink: Sink,
) {
  for (let t = from; t < to; t += MINUTE) {
    const byKey = chunk.buckets.get(t);
    for (const key of chunk.keys) {
      const bucket = byKey?.get(key.id);
      let ks = state.keys.get(key.id);
      if (!ks && !bucket) continue;
      if (!ks) {
        ks = createKeyState(MINUTE);
        state.keys.set(key.id, ks);
      }
      state.touched.add(key.id);
      const adj = adjustmentsAt(adjustments, key.id, t);
      const rebaseline = adj.rebaseline(ks.rebaselineId);
      if (rebaseline !== null) ks.rebaselineId = rebaseline;
      const findings = stepKey(
        ks,
        bucket ?? { ts: t, requests: 0, credits: 0, authFailures: 0, ops: [] },
        {
          status: key.status,
          revokedAt: key.revokedAt,
          rotating: key.rotatingSince !== null && t >= key.rotatingSince,
          rules,
          factor: adj.factor,
          timeZone: key.timeZone ?? 'UTC',
        },
        { rebaseline: rebaseline !== null },
      );
      for (const f of findings)
        if (!adj.suppressed(f.kind))
          sink.finding({ subject: keySubject(key.id), keyId: key.id }, f, rules.params);
    }
    const f = stepAccount(state.account, t, chunk.unattributed.get(t) ?? 0, rules);
    if (f) sink.finding({ subject: ACCOUNT_SUBJECT, keyId: null }, f, rules.params);
    sink.tick(t + MINUTE);
  }
}

const recorder = () => {
  const events: unknown[] = [];
  const sink: Sink = {
    finding: (subject, f) => events.push({ subject, f }),
    tick: (t) => events.push(t),
  };
  return { sink, events };
};

describe('replayChunk by key', () => {
  it('hands the sink what a minute-major replay does, across adjustments and a rotation', () => {
    const from = START;
    const to = START + 3 * DAY;
    const key = (id: string, extra: Partial<KeyInfo> = {}): KeyInfo => ({
      id,
      name: id,
      status: 'active',
      revokedAt: null,
      timeZone: null,
      rotatingSince: null,
      ...extra,
    });
    const keys = [
      key('a'),
      key('b', { rotatingSince: START + 1.7 * DAY + 4 * HOUR + 17 * MINUTE + 500 }),
      key('c', { timeZone: 'Asia/Kolkata' }),
      key('d', { status: 'revoked', revokedAt: START + 2 * DAY + 3 * HOUR }),
    ];
    const chunk = history(3, keys, from, to);
    // Boundaries off the minute and inside silences, where only fast-forwarded minutes see them.
    const adjustments = [
      adjustment({
        id: 1,
        type: 'desensitize',
        from: START + DAY + 90_500,
        until: START + 1.2 * DAY,
        factor: 3,
      }),
      adjustment({
        id: 2,
        type: 'suppress',
        keyId: 'a',
        kind: 'usage_drop',
        from: START + 1.6 * DAY + 3 * HOUR + 30_000,
        until: START + 1.6 * DAY + 6 * HOUR + 20_000,
      }),
      adjustment({
        id: 3,
        type: 'rebaseline',
        keyId: 'c',
        from: START + 1.5 * DAY + 5 * HOUR + 7 * MINUTE + 1,
      }),
      adjustment({
        id: 4,
        type: 'desensitize',
        keyId: 'a',
        kind: 'usage_drop',
        factor: 5,
        from: START + 1.6 * DAY + 8 * HOUR + 1,
        until: START + 1.6 * DAY + 12 * HOUR + 1,
      }),
    ];
    const fresh = (): ReplayState => ({ keys: new Map(), account: createAccountState(), touched: new Set() });
    const reference = fresh();
    const replayed = fresh();
    const expected = recorder();
    const actual = recorder();
    // Chunks of odd lengths, so stretches start and end anywhere.
    for (let s = from; s < to; s += 7 * HOUR + 13 * MINUTE) {
      const e = Math.min(to, s + 7 * HOUR + 13 * MINUTE);
      minuteMajor(chunk, s, e, adjustments, reference, expected.sink);
      replayChunk(chunk, s, e, {
        rules: sets,
        adjustments,
        sink: actual.sink,
        state: replayed,
        timeZone: 'UTC',
      });
      expect(actual.events).toEqual(expected.events);
      expect(replayed.keys).toEqual(reference.keys);
      expect(replayed.account).toEqual(reference.account);
    }
    const findings = expected.events.filter((x) => typeof x !== 'number') as { f: { kind: string } }[];
    expect(findings.filter((x) => x.f.kind === 'usage_drop').length).toBeGreaterThan(3);
  });
});
