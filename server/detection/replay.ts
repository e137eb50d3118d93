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
import { emptyBucket, fastForward } from './core/fast-forward.ts';
import type { Params, RuleSet } from './core/params.ts';
import { createKeyState, type KeyState } from './core/state.ts';
import { stepKey } from './core/step.ts';
import type { Bucket, Finding, KeyContext } from './core/types.ts';
import type { Chunk, KeyInfo } from './load-chunk.ts';
import type { RuleSets } from './rules.ts';

/** What an episode is about: a key, the account, or (unknown tokens) the network they came from. */
export type Subject = EpisodeSubject;

export type Sink = {
  finding(subject: Subject, f: Finding, params: Params): void;
  /** Called after each minute with the time it ends, to resolve quiet episodes. */
  tick(t: number): void;
};

/** A sink that writes what it hears (incidents): each call is awaited, in order. */
export type WritingSink = { [K in keyof Sink]: (...args: Parameters<Sink[K]>) => Promise<void> };

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
  const { rules, adjustments, sink, startAt } = ctx;
  const keys = ctx.onlyKey
    ? chunk.keys.filter((k) => k.id === ctx.onlyKey)
    : startAt
      ? chunk.keys.filter((k) => startAt.has(k.id))
      : chunk.keys;
  // Keys are independent: each is replayed over the whole chunk (its empty minutes fast-forwarded),
  // and the findings are handed over minute by minute in key order, as a minute-major loop would.
  const minutes = Math.max(0, Math.ceil((to - from) / MINUTE));
  const found: Found[][] = Array.from({ length: minutes }, () => []);
  const usedAt = usedMinutes(chunk, from, to);
  for (const key of keys) {
    replayKey(key, usedAt.get(key.id) ?? [], chunk, from, to, ctx, (t, subject, findings, params, adj) => {
      for (const f of findings)
        if (!adj.suppressed(f.kind)) found[(t - from) / MINUTE]!.push({ subject, f, params });
    });
  }
  for (let i = 0, t = from; t < to; i++, t += MINUTE) {
    for (const x of found[i]!) sink.finding(x.subject, x.f, x.params);
    if (!ctx.onlyKey && !startAt) {
      const f = stepAccount(ctx.state.account, t, chunk.unattributed.get(t) ?? 0, rules.global);
      if (f && !adjustmentsAt(adjustments, null, t).suppressed(f.kind))
        sink.finding({ subject: ACCOUNT_SUBJECT, keyId: null }, f, rules.global.params);
    }
    sink.tick(t + MINUTE);
  }
}

type Found = { subject: Subject; f: Finding; params: Params };
type Adjusted = ReturnType<typeof adjustmentsAt>;

/** Minutes of [from, to) with a bucket, per key, in time order. */
function usedMinutes(chunk: Chunk, from: number, to: number): Map<string, number[]> {
  const out = new Map<string, number[]>();
  for (const [t, byKey] of chunk.buckets) {
    if (t < from || t >= to) continue;
    for (const keyId of byKey.keys()) {
      const list = out.get(keyId);
      if (list) list.push(t);
      else out.set(keyId, [t]);
    }
  }
  for (const list of out.values()) list.sort((a, b) => a - b);
  return out;
}

/**
 * One key over [from, to): a minute with use (or a rebaseline to apply) takes a full step; the
 * stretches between are fast-forwarded, split where an adjustment or the rotation starts or ends
 * so each stretch is judged under one context.
 */
function replayKey(
  key: KeyInfo,
  used: readonly number[],
  chunk: Chunk,
  from: number,
  to: number,
  ctx: Parameters<typeof replayChunk>[3],
  emit: (t: number, subject: Subject, findings: Finding[], params: Params, adj: Adjusted) => void,
): void {
  const { state } = ctx;
  const set: RuleSet = ctx.rules.forKey(key.id);
  const mine = ctx.adjustments.filter((a) => a.keyId === null || a.keyId === key.id);
  const edges = [...mine.flatMap((a) => [a.from, a.until ?? Infinity]), key.rotatingSince ?? Infinity];
  let t = Math.max(from, ctx.startAt?.get(key.id) ?? from);
  // Keep t on the chunk's minute grid.
  t = from + Math.ceil((t - from) / MINUTE) * MINUTE;
  let u = 0;
  while (u < used.length && used[u]! < t) u++;
  const ks0 = state.keys.get(key.id);
  if (!ks0 && u === used.length) return;
  while (t < to) {
    let ks = state.keys.get(key.id);
    const next = u < used.length ? used[u]! : to;
    if (!ks) {
      // No state before its first use: nothing to judge until then.
      t = next;
      if (t >= to) return;
      ks = createKeyState(MINUTE);
      state.keys.set(key.id, ks);
    }
    state.touched.add(key.id);
    const adj = adjustmentsAt(mine, key.id, t);
    const keyCtx: KeyContext = {
      status: key.status,
      revokedAt: key.revokedAt,
      // Judged by the bucket's own time, so a replay before the rotation still sees a drop.
      rotating: key.rotatingSince !== null && t >= key.rotatingSince,
      rules: set,
      factor: adj.factor,
      timeZone: key.timeZone ?? ctx.timeZone,
    };
    const rebaseline = adj.rebaseline(ks.rebaselineId);
    if (t === next || rebaseline !== null) {
      if (rebaseline !== null) ks.rebaselineId = rebaseline;
      const bucket = t === next ? chunk.buckets.get(t)?.get(key.id) : undefined;
      const findings = stepKey(ks, bucket ?? emptyBucket(t), keyCtx, { rebaseline: rebaseline !== null });
      emit(t, subjectOf(key, bucket), findings, set.params, adj);
      if (t === next) u++;
      t += MINUTE;
      continue;
    }
    // Up to the next use, or the first minute another context applies.
    let end = next;
    for (const e of edges) if (e > t && e < end) end = e;
    end = from + Math.ceil((end - from) / MINUTE) * MINUTE;
    const subject = subjectOf(key, undefined);
    fastForward(ks, t, Math.min(end, to), keyCtx, (at, findings) =>
      emit(at, subject, findings, set.params, adj),
    );
    t = Math.min(end, to);
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
    async replayInto(target: WritingSink) {
      for (const e of events) {
        if (typeof e === 'number') await target.tick(e);
        else await target.finding(e.subject, e.f, e.params);
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
