/**
 * Late usage: usage stored for minutes detection had already judged (a gateway queue draining
 * after an outage, a push client retrying, an import). Each such key is rewound to its detector
 * checkpoint before the earliest late minute and replayed to the cursor, so every verdict still
 * uses only data up to its bucket; what the replay finds that no incident of that subject covers
 * is opened as an incident that says its data arrived late. Keys rewind at most LATE_REWIND_DAYS.
 */
import { and, asc, desc, eq, gte, lt, lte, or, sql } from 'drizzle-orm';
import { DAY, MINUTE } from '../clock.ts';
import type { Db, Tx } from '../db/client.ts';
import { detectorCheckpoints, incidents, lateUsage } from '../db/schema/index.ts';
import { execute } from '../db/transaction.ts';
import type { Adjustment } from './adjustments.ts';
import { createAccountState } from './core/account.ts';
import { type Episode, summarizeEpisode } from './core/episodes.ts';
import type { KeyState } from './core/state.ts';
import { slotAt, slotOf, WRITE_EVERY } from './detector-states.ts';
import { loadChunk } from './load-chunk.ts';
import { createCollectingSink, type ReplayState, replayChunk } from './replay.ts';
import type { RuleSets } from './rules.ts';

/** How far back late usage is judged again; older usage is stored and shown, not judged. */
export const LATE_REWIND_DAYS = 7;
/** A key's state is snapshotted at most this often. */
export const CHECKPOINT_EVERY = DAY;
const CHUNK = 6 * 60 * MINUTE;

export type LateEpisode = {
  episode: Episode;
  /** When the replay saw it end (quiet long enough before the cursor); null if still going. */
  endedAt: number | null;
  arrivedAt: number;
};

export type LateContext = {
  /** The run's transaction: the late keys' minutes are read in it too. */
  tx: Tx;
  rules: RuleSets;
  adjustments: (from: number, to: number) => Promise<readonly Adjustment[]>;
  state: ReplayState;
  cursor: number;
  quietMs: (keyId: string | null) => number;
  timeZone: string;
  /** Opens (and, if it ended, resolves) what the replay found; or adopts it into the live book. */
  raise(found: LateEpisode): Promise<void>;
};

/** Rejudges every key with late usage; returns how many keys were replayed. */
export async function rejudgeLateUsage(ctx: LateContext): Promise<number> {
  const rows = await ctx.tx.select().from(lateUsage).orderBy(asc(lateUsage.earliestTs));
  let replayed = 0;
  for (const late of rows) {
    await ctx.tx.delete(lateUsage).where(eq(lateUsage.keyId, late.keyId));
    const from = Math.floor(late.earliestTs / MINUTE) * MINUTE;
    const checkpoint = (
      await ctx.tx
        .select()
        .from(detectorCheckpoints)
        .where(and(eq(detectorCheckpoints.keyId, late.keyId), lte(detectorCheckpoints.at, from)))
        .orderBy(desc(detectorCheckpoints.at))
        .limit(1)
    )[0];
    // A key never judged before (new, or discovered by this very usage) starts from nothing.
    const fresh = !ctx.state.keys.has(late.keyId);
    if ((!checkpoint && !fresh) || from >= ctx.cursor) continue;
    replayed++;
    const found = checkpoint
      ? await replayKey(ctx, late.keyId, checkpoint.at, JSON.parse(checkpoint.state) as KeyState)
      : await replayKey(ctx, late.keyId, from, null);
    if (!late.alert) continue;
    for (const f of found) {
      if (summarizeEpisode(f.episode).lastSeenAt <= from) continue;
      if (await covered(ctx, f.episode)) continue;
      await ctx.raise({ ...f, arrivedAt: late.arrivedAt });
    }
  }
  return replayed;
}

/** Replays one key from a checkpoint to the cursor; its state becomes the live state. */
async function replayKey(
  ctx: LateContext,
  keyId: string,
  from: number,
  start: KeyState | null,
): Promise<Omit<LateEpisode, 'arrivedAt'>[]> {
  const { sink, found } = createCollectingSink(ctx.quietMs);
  const state: ReplayState = {
    keys: new Map(start ? [[keyId, start]] : []),
    account: createAccountState(),
    touched: new Set(),
  };
  for (let s = from; s < ctx.cursor; s += CHUNK) {
    const end = Math.min(ctx.cursor, s + CHUNK);
    replayChunk(await loadChunk(ctx.tx, s, end, keyId), s, end, {
      rules: ctx.rules,
      adjustments: await ctx.adjustments(s, end),
      sink,
      state,
      timeZone: ctx.timeZone,
      onlyKey: keyId,
    });
  }
  const replayed = state.keys.get(keyId);
  if (replayed) {
    ctx.state.keys.set(keyId, replayed);
    ctx.state.touched.add(keyId);
  }
  return found().map(({ episode, resolvedAt }) => ({ episode, endedAt: resolvedAt }));
}

/** An incident of the same subject already overlaps this episode: nothing new to raise. */
async function covered(ctx: LateContext, e: Episode): Promise<boolean> {
  const s = summarizeEpisode(e);
  const quiet = ctx.quietMs(e.keyId);
  return (
    (
      await ctx.tx
        .select({ id: incidents.id })
        .from(incidents)
        .where(
          and(
            eq(incidents.subject, e.subject),
            lt(incidents.startedAt, s.lastSeenAt + quiet),
            or(gte(incidents.lastSeenAt, s.startedAt - quiet), eq(incidents.state, 'open')),
          ),
        )
        .limit(1)
    )[0] !== undefined
  );
}

export type CheckpointRow = { keyId: string; state: string };

/**
 * The snapshots due at `at` for `keys` (their last is a day old), serialized before the write
 * transaction opens; each state is marked as snapshotted.
 */
export function prepareCheckpoints(state: ReplayState, keys: Iterable<string>, at: number): CheckpointRow[] {
  const rows: CheckpointRow[] = [];
  for (const keyId of keys) {
    const ks = state.keys.get(keyId);
    // The state remembers its last snapshot: the live minute asks no query of keys not due. Keys
    // snapshotted together (by a replay) are spread over the stagger's slots, not all in one minute.
    if (!ks) continue;
    const age = ks.checkpointedAt === undefined ? Infinity : at - ks.checkpointedAt;
    if (age < CHECKPOINT_EVERY || (age < CHECKPOINT_EVERY + WRITE_EVERY && slotOf(keyId) !== slotAt(at)))
      continue;
    ks.checkpointedAt = at;
    rows.push({ keyId, state: JSON.stringify(ks) });
  }
  return rows;
}

/** Stores prepared snapshots taken at `at`; drops week-old ones. */
export async function writeCheckpoints(db: Db, rows: readonly CheckpointRow[], at: number): Promise<void> {
  if (rows.length === 0) return;
  for (const r of rows) await writeCheckpoint(db, r, at);
  await dropOldCheckpoints(db, at);
}

/** One snapshot taken at `at`; a second one of the same key and time is ignored. */
export async function writeCheckpoint(db: Db, row: CheckpointRow, at: number): Promise<void> {
  await execute(
    db,
    sql`INSERT INTO detector_checkpoints (key_id, at, state) VALUES (${row.keyId}, ${at}, ${row.state})
      ON CONFLICT DO NOTHING`,
  );
}

/**
 * Snapshots older than any late usage can rewind to from `at`, at most `limit` of them (each is a
 * whole key state, so a day's worth for 1,000 keys is megabytes to free). Returns how many went.
 * A slice is named by the primary key (key_id, at): PostgreSQL has no rowid.
 */
export async function dropOldCheckpoints(db: Db, at: number, limit?: number): Promise<number> {
  const cutoff = at - (LATE_REWIND_DAYS + 1) * DAY;
  return execute(
    db,
    limit === undefined
      ? sql`DELETE FROM detector_checkpoints WHERE at < ${cutoff}`
      : sql`DELETE FROM detector_checkpoints WHERE (key_id, at) IN
          (SELECT key_id, at FROM detector_checkpoints WHERE at < ${cutoff} LIMIT ${limit})`,
  );
}
