/**
 * replayChunk(): feeds every closed minute of a chunk, in time order, through the pure detectors
 * for every key with history, honouring adjustments, and hands findings to a sink. Live detection,
 * `detect run` and backtests all go through here, so they agree by construction.
 */
import { MINUTE } from '../clock.ts';
import { subjectNetwork } from '../network.ts';
import { type Adjustment, adjustmentsAt } from './adjustments.ts';
import { type AccountState, stepAccount } from './core/account.ts';
import {
  ACCOUNT_SUBJECT,
  createEpisodeBook,
  type Episode,
  type EpisodeSubject,
  keySubject,
  networkSubject,
} from './core/episodes.ts';
import type { Params, RuleSet } from './core/params.ts';
import { createKeyState, type KeyState } from './core/state.ts';
import { stepKey } from './core/step.ts';
import type { Bucket, Finding } from './core/types.ts';
import type { Chunk } from './load-chunk.ts';
import type { RuleSets } from './rules.ts';

/** What an episode is about: a key, the account, or (unknown tokens) the network they came from. */
export type Subject = EpisodeSubject;

export type Sink = {
  finding(subject: Subject, f: Finding, params: Params): void;
  /** Called after each minute with the time it ends, to resolve quiet episodes. */
  tick(t: number): void;
};

export type ReplayState = { keys: Map<string, KeyState>; account: AccountState; touched: Set<string> };

export function replayChunk(
  chunk: Chunk,
  from: number,
  to: number,
  ctx: {
    rules: RuleSets;
    adjustments: readonly Adjustment[];
    sink: Sink;
    state: ReplayState;
    /** The team's zone (KEYWATCH_TZ); a key may have its own. */
    timeZone: string;
    onlyKey?: string;
    /** Only these keys, each from its own time (states read back behind the cursor); no account. */
    startAt?: ReadonlyMap<string, number>;
  },
): void {
  const { rules, adjustments, sink, state, startAt } = ctx;
  const keys = ctx.onlyKey
    ? chunk.keys.filter((k) => k.id === ctx.onlyKey)
    : startAt
      ? chunk.keys.filter((k) => startAt.has(k.id))
      : chunk.keys;
  for (let t = from; t < to; t += MINUTE) {
    const byKey = chunk.buckets.get(t);
    for (const key of keys) {
      if (startAt && t < startAt.get(key.id)!) continue;
      const bucket = byKey?.get(key.id);
      let ks = state.keys.get(key.id);
      if (!ks && !bucket) continue;
      if (!ks) {
        ks = createKeyState(MINUTE);
        state.keys.set(key.id, ks);
      }
      state.touched.add(key.id);
      const set: RuleSet = rules.forKey(key.id);
      const adj = adjustmentsAt(adjustments, key.id, t);
      const rebaseline = adj.rebaseline(ks.rebaselineId);
      if (rebaseline !== null) ks.rebaselineId = rebaseline;
      const findings = stepKey(
        ks,
        bucket ?? { ts: t, requests: 0, credits: 0, authFailures: 0, ops: [] },
        {
          status: key.status,
          revokedAt: key.revokedAt,
          // Judged by the bucket's own time, so a replay before the rotation still sees a drop.
          rotating: key.rotatingSince !== null && t >= key.rotatingSince,
          rules: set,
          factor: adj.factor,
          timeZone: key.timeZone ?? ctx.timeZone,
        },
        { rebaseline: rebaseline !== null },
      );
      const subject = subjectOf(key, bucket);
      for (const f of findings) if (!adj.suppressed(f.kind)) sink.finding(subject, f, set.params);
    }
    if (!ctx.onlyKey && !startAt) {
      const f = stepAccount(state.account, t, chunk.unattributed.get(t) ?? 0, rules.global);
      if (f && !adjustmentsAt(adjustments, null, t).suppressed(f.kind))
        sink.finding({ subject: ACCOUNT_SUBJECT, keyId: null }, f, rules.global.params);
    }
    sink.tick(t + MINUTE);
  }
}

/**
 * Unknown tokens group on the network they came from, so fifty random tokens from one client are
 * one incident; every other key is its own subject.
 */
function subjectOf(key: { id: string; status: string }, bucket: Bucket | undefined): Subject {
  if (key.status === 'discovered' && bucket?.ips) {
    const top = Object.entries(bucket.ips).sort((a, b) => b[1] - a[1])[0]?.[0];
    if (top) return { subject: networkSubject(subjectNetwork(top)), keyId: null, member: key.id };
  }
  return { subject: keySubject(key.id), keyId: key.id };
}

/** A sink for replays of minutes already judged: what they find was acted on when first judged. */
export const ignoreFindings: Sink = { finding() {}, tick() {} };

/**
 * A sink that keeps findings and minute ends in order, to hand them to another sink later: a chunk
 * is judged before its write transaction opens, so the write lock is held for the writes alone.
 */
export function createRecordingSink() {
  const events: ({ subject: Subject; f: Finding; params: Params } | number)[] = [];
  const sink: Sink = {
    finding(subject, f, params) {
      events.push({ subject, f, params });
    },
    tick(t) {
      events.push(t);
    },
  };
  return {
    sink,
    replayInto(target: Sink) {
      for (const e of events) {
        if (typeof e === 'number') target.tick(e);
        else target.finding(e.subject, e.f, e.params);
      }
      events.length = 0;
    },
  };
}

/**
 * A sink that writes nothing and collects what a replay finds: every episode, with the time the
 * book resolved it (null while still going). Backtests and late-usage replays read it.
 */
export function createCollectingSink(quietMs: (keyId: string | null) => number) {
  const book = createEpisodeBook([]);
  const episodes: Episode[] = [];
  const resolvedAt = new Map<Episode, number>();
  const sink: Sink = {
    finding(subject, f, params) {
      const change = book.apply(subject, f, params);
      if (change.type === 'opened') episodes.push(change.episode);
      else episodes[episodes.indexOf(change.previous!)] = change.episode;
    },
    tick(t) {
      for (const e of book.due(t, quietMs)) resolvedAt.set(e, t);
    },
  };
  return {
    sink,
    found: () => episodes.map((episode) => ({ episode, resolvedAt: resolvedAt.get(episode) ?? null })),
  };
}
