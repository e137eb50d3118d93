/**
 * runDetection(): evaluates, in time order, every closed minute not yet evaluated up to `until`,
 * from the persisted per-key states, and writes incidents. One transaction per chunk of minutes
 * (incidents and cursor together), so a crash resumes exactly where it stopped; the key states and
 * snapshots of the chunk follow in short transactions of their own (see persistInSlices).
 */
import { performance } from 'node:perf_hooks';
import { count, eq, sql } from 'drizzle-orm';
import { DAY, floorTo, HOUR, MINUTE } from '../clock.ts';
import type { Db, Queryable, Tx } from '../db/client.ts';
import { detectorState, lateUsage } from '../db/schema/index.ts';
import { dialectOf, execute, transaction } from '../db/transaction.ts';
import type { Deps } from '../deps.ts';
import { conflict } from '../errors.ts';
import { type IncidentListener, ignoreIncidentChanges } from '../incidents/events.ts';
import { settleUsage } from '../usage/fold-usage.ts';
import { loadAdjustments } from './adjustments.ts';
import {
  ACCOUNT,
  type LoadedStates,
  loadStates,
  prepareStates,
  readAccountRow,
  stamp,
  storeAccount,
  storeState,
  storeStates,
  writeAllStates,
} from './detector-states.ts';
import { createIncidentSink } from './incident-sink.ts';
import {
  dropOldCheckpoints,
  LATE_REWIND_DAYS,
  prepareCheckpoints,
  rejudgeLateUsage,
  writeCheckpoint,
  writeCheckpoints,
} from './late-usage.ts';
import { earliestData, loadChunk, loadKeys } from './load-chunk.ts';
import { createRecordingSink, ignoreFindings, replayChunk } from './replay.ts';
import type { RuleSets } from './rules.ts';
import { loadRuleSets } from './rules.ts';
import { createWriteMeter, type WriteKind } from './write-meter.ts';

const CHUNK = 6 * HOUR;
/** How far behind the replay a stored state may fall while more chunks of the same run follow. */
const REPLAY_WRITE_EVERY = DAY;
/**
 * How long one of the chunk's state transactions writes before it commits, in ms. The serving
 * thread's writers wait for the lock synchronously (busy_timeout), blocking its event loop, so no
 * transaction here may hold it long: 1,000 states of ~8 KB took 100 to 700 ms in one.
 */
const HOLD_MS = 3;
/** Old snapshots deleted per transaction (a few ms of freeing pages). */
const DROP_SLICE = 50;
/** A first run never replays more than this much history. */
export const MAX_REPLAY = 90 * DAY;
/**
 * PostgreSQL: the transaction-scoped advisory lock ("kwdt" in ASCII) that a transaction moving the
 * cursor takes before it reads it, so two runners on one database (two processes, or the CLI beside
 * the server) check and move it one after the other: the second then sees the first's cursor and
 * fails with a conflict instead of judging the same minutes again. A row lock would not do: before
 * the first run there is no cursor row to lock. On SQLite, BEGIN IMMEDIATE already serializes them.
 */
const CURSOR_LOCK = 0x6b776474;

export type RunResult = { evaluated_until: number; incidents_opened: number };

/** Inside a transaction that will move the cursor: waits for any other runner's (see CURSOR_LOCK). */
async function lockCursor(tx: Tx): Promise<void> {
  if (dialectOf(tx) === 'postgres')
    await execute(tx, sql`SELECT pg_advisory_xact_lock(CAST(${CURSOR_LOCK} AS bigint))`);
}

export async function readCursor(deps: { db: Queryable }): Promise<number | null> {
  return (
    (await deps.db.select().from(detectorState).where(eq(detectorState.keyId, ACCOUNT)).limit(1))[0]
      ?.evaluatedUntil ?? null
  );
}

/**
 * The states a runner keeps between runs, per store handle (its connection or pool), with
 * the stamp of the account row it wrote last: if another runner (the CLI beside the server) wrote
 * since, or a run failed and rolled back, the states are read again.
 */
const held = new WeakMap<Db, { stamp: string; loaded: LoadedStates }>();

async function holdStates(deps: Deps, rules: RuleSets, timeZone: string): Promise<LoadedStates> {
  const current = stamp(await readAccountRow(deps.db));
  const kept = held.get(deps.db);
  if (kept && kept.stamp === current) return kept.loaded;
  const loaded = await loadStates(deps.db);
  const cursor = (await readAccountRow(deps.db))?.evaluatedUntil;
  if (cursor !== undefined) await catchUpStates(deps, loaded, cursor, rules, timeZone);
  held.set(deps.db, { stamp: current, loaded });
  return loaded;
}

/**
 * States stored behind the cursor (written every WRITE_EVERY, a day apart in a long replay, and the
 * process stopped between) are replayed over their own minutes up to it. Those minutes were judged
 * when they were live, so nothing found here is raised again.
 */
async function catchUpStates(
  deps: Deps,
  loaded: LoadedStates,
  cursor: number,
  rules: RuleSets,
  timeZone: string,
) {
  const behind = new Map([...loaded.written].filter(([, at]) => at < cursor));
  if (behind.size === 0) return;
  for (let start = Math.min(...behind.values()); start < cursor; start += CHUNK) {
    const end = Math.min(cursor, start + CHUNK);
    replayChunk(await loadChunk(deps.db, start, end), start, end, {
      rules,
      adjustments: await loadAdjustments(deps.db, start, end),
      sink: ignoreFindings,
      state: loaded.state,
      timeZone,
      startAt: behind,
    });
  }
  loaded.state.touched.clear();
}

export async function runDetection(
  deps: Deps,
  options: {
    until?: number;
    listener?: IncidentListener;
    maxChunks?: number;
    /**
     * Called between two of the run's write transactions (the worker sleeps a few ms), so a
     * writer beside it waiting in its busy handler finds the lock free when it retries.
     */
    pause?: () => void;
  } = {},
): Promise<RunResult> {
  // Pushed usage committed before this run is in the minute buckets it judges (never a minute whose
  // usage is stored but not yet folded: no late-usage mark would bring it back).
  await settleUsage(deps.db);
  // Only closed minutes: a bucket still filling is never judged, whatever `until` asks for.
  const until = floorTo(Math.min(options.until ?? deps.clock.now(), deps.clock.now()), MINUTE);
  const cursor = await readCursor(deps);
  const first = await earliestData(deps.db);
  let from = cursor ?? (first === null ? until : floorTo(first, MINUTE));
  from = Math.max(from, until - MAX_REPLAY);
  const late = cursor !== null && (await deps.db.select({ n: count() }).from(lateUsage).limit(1))[0]!.n > 0;
  if (from >= until && !late)
    return { evaluated_until: Math.max(cursor ?? until, until), incidents_opened: 0 };

  const rules = await loadRuleSets(deps.db);
  const timeZone = deps.config.timeZone;
  let loaded: LoadedStates;
  try {
    loaded = await holdStates(deps, rules, timeZone);
  } catch (err) {
    held.delete(deps.db);
    throw err;
  }
  const { state } = loaded;
  const names = new Map((await loadKeys(deps.db)).map((k) => [k.id, k.name]));
  const quiet = (keyId: string | null) => rules.forKey(keyId).params.baseline.quiet_minutes * MINUTE;
  const writer = await createIncidentSink(deps, options.listener ?? ignoreIncidentChanges, names, quiet);

  /**
   * Serializes what is due (snapshots first: a state snapshotted is stored with the same JSON).
   * A chunk of a replay with more to come writes only states a day behind, and no snapshots older
   * than late usage can rewind to from `until` (they would be dropped before the run ends): a
   * crash in between costs a catch-up of at most a day per key, which fast-forwards.
   */
  const prepare = (evaluatedUntil: number, force?: ReadonlySet<string>, more = false) => {
    const rewindable = evaluatedUntil >= until - (LATE_REWIND_DAYS + 1) * DAY;
    const checkpoints = rewindable ? prepareCheckpoints(state, state.touched, evaluatedUntil) : [];
    const json = new Map(checkpoints.map((c) => [c.keyId, c.state]));
    return {
      checkpoints,
      states: prepareStates(loaded, evaluatedUntil, force, json, more ? REPLAY_WRITE_EVERY : undefined),
    };
  };
  // PostgreSQL has no database-wide write lock to hand back between slices: a chunk's states go in
  // one transaction there.
  const holdMs = dialectOf(deps.db) === 'sqlite' ? HOLD_MS : Number.POSITIVE_INFINITY;
  const meter = createWriteMeter();
  let kind: WriteKind = 'cursor';
  /** Incident changes the current cursor transaction wrote. */
  let changes = 0;
  let longestSliced = 0;
  const write = async (fn: (tx: Tx) => Promise<void>) => {
    if (meter.count() > 0) options.pause?.();
    await transaction(deps.db, async (tx) => {
      meter.began();
      await fn(tx);
      meter.wrote();
    });
    meter.committed(kind, changes);
    changes = 0;
  };
  /**
   * A chunk's states and snapshots, after the transaction that moved the cursor past them, in
   * transactions that each write for HOLD_MS at most. A crash in between leaves states behind the
   * cursor, which the next runner replays up to it (catchUpStates), and snapshots missing, so late
   * usage rewinds to an older one; neither changes a verdict.
   */
  const persistInSlices = async (prepared: ReturnType<typeof prepare>) => {
    const { rows } = prepared.states;
    const { checkpoints } = prepared;
    const at = prepared.states.evaluatedUntil;
    const now = deps.clock.now();
    let i = 0;
    let j = 0;
    const before = meter.total();
    kind = 'states';
    while (i < rows.length || j < checkpoints.length) {
      const from = i;
      await write(async (tx) => {
        const began = performance.now();
        do {
          if (i < rows.length) {
            const [keyId, json] = rows[i++]!;
            await storeState(tx, keyId, json, at, now);
          } else await writeCheckpoint(tx, checkpoints[j++]!, at);
        } while ((i < rows.length || j < checkpoints.length) && performance.now() - began < holdMs);
      });
      for (let k = from; k < i; k++) loaded.written.set(rows[k]![0], at);
    }
    // Old snapshots go in slices of their own too; nothing depends on when.
    while (true) {
      let gone = 0;
      await write(async (tx) => {
        gone = await dropOldCheckpoints(tx, at, DROP_SLICE);
      });
      if (gone < DROP_SLICE) break;
    }
    longestSliced = Math.max(longestSliced, meter.total() - before);
    kind = 'cursor';
  };
  /** Inside the run's transaction `tx`. */
  const persist = async (tx: Tx, prepared: ReturnType<typeof prepare>) => {
    await writeCheckpoints(tx, prepared.checkpoints, prepared.states.evaluatedUntil);
    held.set(deps.db, {
      stamp: await storeStates(tx, loaded, prepared.states, deps.clock.now()),
      loaded,
    });
  };

  try {
    // Usage that landed in minutes already judged is judged again first, up to the cursor.
    if (late && cursor !== null) {
      // Its rewound states are written with the cursor: a stored state of the cursor's minute that
      // lacks the late usage would never be replayed.
      await write(async (tx) => {
        await lockCursor(tx);
        if ((await readCursor({ db: tx })) !== cursor)
          throw conflict('Detection ran concurrently; try again.');
        writer.setTx(tx);
        await rejudgeLateUsage({
          tx,
          rules,
          adjustments: (a, b) => loadAdjustments(tx, a, b),
          state,
          cursor,
          quietMs: quiet,
          timeZone,
          raise: writer.raiseLate,
        });
        // A rewound key's state changed out of turn: written now, not at its next slot.
        await persist(tx, prepare(cursor, new Set(state.touched)));
        writer.setTx(null);
      });
    }

    let done = Math.max(from, cursor ?? from);
    for (let start = from, n = 0; start < until && n < (options.maxChunks ?? Infinity); start += CHUNK, n++) {
      const end = Math.min(until, start + CHUNK);
      done = end;
      // Judged before the transaction: a writer beside it (push ingest on the serving thread)
      // waits for the incident and state writes only, not for the detectors.
      const chunk = await loadChunk(deps.db, start, end);
      for (const k of chunk.keys) names.set(k.id, k.name);
      const recorded = createRecordingSink();
      replayChunk(chunk, start, end, {
        rules,
        adjustments: await loadAdjustments(deps.db, start, end),
        sink: recorded.sink,
        state,
        timeZone,
      });
      const prepared = prepare(end, undefined, end < until && n + 1 < (options.maxChunks ?? Infinity));
      // The incidents' rows are built here too (their contributors are reads of the usage tables):
      // the transaction below only writes them.
      await recorded.replayInto(writer.sink);
      await write(async (tx) => {
        // Another runner (the CLI beside the server) may have moved on meanwhile: never evaluate twice.
        await lockCursor(tx);
        if ((await readCursor({ db: tx })) !== (start === from ? cursor : start))
          throw conflict('Detection ran concurrently; try again.');
        changes = await writer.flush(tx);
        held.set(deps.db, {
          stamp: await storeAccount(tx, prepared.states, deps.clock.now()),
          loaded,
        });
      });
      await persistInSlices(prepared);
    }
    deps.log.debug('detection run', { evaluated_until: done, ...meter.fields(longestSliced) });
    return { evaluated_until: done, incidents_opened: writer.opened() };
  } catch (err) {
    // A rolled-back chunk leaves the states in memory ahead of the stored ones: read them again.
    held.delete(deps.db);
    throw err;
  }
}

/** Writes every held state up to the cursor, so the next runner reads them without catching up. */
export async function writeHeldStates(deps: Pick<Deps, 'db' | 'clock'>): Promise<void> {
  const kept = held.get(deps.db);
  const row = await readAccountRow(deps.db);
  if (!kept || !row || kept.stamp !== stamp(row)) return;
  await transaction(deps.db, async (tx) => {
    kept.stamp = await writeAllStates(tx, kept.loaded, row.evaluatedUntil, deps.clock.now());
  });
}
