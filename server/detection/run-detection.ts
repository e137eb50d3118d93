/**
 * runDetection(): evaluates, in time order, every closed minute not yet evaluated up to `until`,
 * from the persisted per-key states, and writes incidents. One transaction per chunk of minutes
 * (states, cursor and incidents together), so a crash resumes exactly where it stopped.
 */
import { count, eq } from 'drizzle-orm';
import { DAY, floorTo, HOUR, MINUTE } from '../clock.ts';
import type { Queryable, Tx } from '../db/client.ts';
import { detectorState, lateUsage } from '../db/schema/index.ts';
import type { Deps } from '../deps.ts';
import { conflict } from '../errors.ts';
import { type IncidentListener, ignoreIncidentChanges } from '../incidents/events.ts';
import { loadAdjustments } from './adjustments.ts';
import { type AccountState, createAccountState } from './core/account.ts';
import type { KeyState } from './core/state.ts';
import { createIncidentSink } from './incident-sink.ts';
import { checkpointStates, rejudgeLateUsage } from './late-usage.ts';
import { earliestData, loadChunk, loadKeys } from './load-chunk.ts';
import { type ReplayState, replayChunk } from './replay.ts';
import { loadRuleSets } from './rules.ts';

const ACCOUNT = '';
const CHUNK = 6 * HOUR;
/** A first run never replays more than this much history. */
export const MAX_REPLAY = 90 * DAY;

export type RunResult = { evaluated_until: number; incidents_opened: number };

export function readCursor(deps: { db: Queryable }): number | null {
  return (
    deps.db.select().from(detectorState).where(eq(detectorState.keyId, ACCOUNT)).get()?.evaluatedUntil ?? null
  );
}

export function runDetection(
  deps: Deps,
  options: { until?: number; listener?: IncidentListener; maxChunks?: number } = {},
): RunResult {
  // Only closed minutes: a bucket still filling is never judged, whatever `until` asks for.
  const until = floorTo(Math.min(options.until ?? deps.clock.now(), deps.clock.now()), MINUTE);
  const cursor = readCursor(deps);
  const first = earliestData(deps.sqlite);
  let from = cursor ?? (first === null ? until : floorTo(first, MINUTE));
  from = Math.max(from, until - MAX_REPLAY);
  const late = cursor !== null && deps.db.select({ n: count() }).from(lateUsage).get()!.n > 0;
  if (from >= until && !late)
    return { evaluated_until: Math.max(cursor ?? until, until), incidents_opened: 0 };

  const rules = loadRuleSets(deps.db);
  const rows = deps.db.select().from(detectorState).all();
  const accountRow = rows.find((r) => r.keyId === ACCOUNT);
  const state: ReplayState = {
    keys: new Map(
      rows.filter((r) => r.keyId !== ACCOUNT).map((r) => [r.keyId, JSON.parse(r.state) as KeyState]),
    ),
    account: accountRow ? (JSON.parse(accountRow.state) as AccountState) : createAccountState(),
    touched: new Set(),
  };
  const names = new Map(loadKeys(deps.sqlite).map((k) => [k.id, k.name]));
  const quiet = (keyId: string | null) => rules.forKey(keyId).params.baseline.quiet_minutes * MINUTE;
  const writer = createIncidentSink(deps, options.listener ?? ignoreIncidentChanges, names, quiet);

  const persist = (tx: Tx, evaluatedUntil: number) => {
    const at = deps.clock.now();
    checkpointStates(tx, state, state.touched, evaluatedUntil);
    for (const keyId of state.touched) {
      const row = { keyId, state: JSON.stringify(state.keys.get(keyId)), evaluatedUntil, updatedAt: at };
      tx.insert(detectorState)
        .values(row)
        .onConflictDoUpdate({ target: detectorState.keyId, set: row })
        .run();
    }
    state.touched.clear();
    const account = { keyId: ACCOUNT, state: JSON.stringify(state.account), evaluatedUntil, updatedAt: at };
    tx.insert(detectorState)
      .values(account)
      .onConflictDoUpdate({ target: detectorState.keyId, set: account })
      .run();
  };

  // Usage that landed in minutes already judged is judged again first, up to the cursor.
  if (late && cursor !== null) {
    deps.db.transaction((tx) => {
      if (readCursor({ db: tx }) !== cursor) throw conflict('Detection ran concurrently; try again.');
      writer.setTx(tx);
      rejudgeLateUsage({
        tx,
        sqlite: deps.sqlite,
        rules,
        adjustments: (a, b) => loadAdjustments(tx, a, b),
        state,
        cursor,
        quietMs: quiet,
        timeZone: deps.config.timeZone,
        raise: writer.raiseLate,
      });
      persist(tx, cursor);
      writer.setTx(null);
    });
  }

  let done = Math.max(from, cursor ?? from);
  for (let start = from, n = 0; start < until && n < (options.maxChunks ?? Infinity); start += CHUNK, n++) {
    const end = Math.min(until, start + CHUNK);
    done = end;
    deps.db.transaction((tx) => {
      // Another runner (the CLI beside the server) may have moved on meanwhile: never evaluate twice.
      if (readCursor({ db: tx }) !== (start === from ? cursor : start))
        throw conflict('Detection ran concurrently; try again.');
      writer.setTx(tx);
      const chunk = loadChunk(deps.sqlite, start, end);
      for (const k of chunk.keys) names.set(k.id, k.name);
      replayChunk(chunk, start, end, {
        rules,
        adjustments: loadAdjustments(tx, start, end),
        sink: writer.sink,
        state,
        timeZone: deps.config.timeZone,
      });
      persist(tx, end);
      writer.setTx(null);
    });
  }
  return { evaluated_until: done, incidents_opened: writer.opened() };
}
