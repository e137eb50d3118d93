/**
 * How ingest stores usage, whichever database holds it: the recorder interface, SQLite's recorder
 * (record-events.ts under one transaction) and the choice by store. PostgreSQL's recorder is
 * record-events-pg.ts.
 */
import type { Clock } from '../clock.ts';
import type { Db, Sqlite } from '../db/client.ts';
import { pgPoolOf, sqliteOf } from '../db/transaction.ts';
import { finalizeProject } from './projects.ts';
import { type RecordOptions, type RecordResult, recordEvents, type UsageEvent } from './record-events.ts';
import { pgUsageRecorder } from './record-events-pg.ts';

/** A project's final credits as a GET project answer showed them (the gateway's observations). */
export type ProjectFinal = { projectId: string; finalCredits: number; status: string | null };

/**
 * What ingest needs from storage, whichever database holds it. `finals`: projects whose final
 * credits became known, booked in the same transaction as the events (the gateway's batches).
 */
export type UsageRecorder = {
  record(events: readonly UsageEvent[], finals?: readonly ProjectFinal[]): Promise<RecordResult>;
};

export function sqliteUsageRecorder(
  deps: { sqlite: Sqlite; clock: Clock },
  options: RecordOptions = {},
): UsageRecorder {
  return { record: async (events, finals = []) => recordOnSqlite(deps, events, finals, options) };
}

/** The SQLite recorder's work, synchronously (the gateway's inline fallback needs it so). */
export function recordOnSqlite(
  deps: { sqlite: Sqlite; clock: Clock },
  events: readonly UsageEvent[],
  finals: readonly ProjectFinal[] = [],
  options: RecordOptions = {},
): RecordResult {
  if (finals.length === 0) return recordEvents(deps, events, options);
  const now = deps.clock.now();
  return deps.sqlite
    .transaction(() => {
      const result = recordEvents(deps, events, options);
      for (const f of finals) finalizeProject(deps.sqlite, { ...f, now });
      return result;
    })
    .immediate();
}

/**
 * The recorder of whichever store `db` is (the connection behind it). `deferRollups` applies to
 * SQLite only: PostgreSQL writes the rollups with each batch.
 */
export function usageRecorderFor(db: Db, clock: Clock, options: RecordOptions = {}): UsageRecorder {
  const pool = pgPoolOf(db);
  return pool
    ? pgUsageRecorder({ pool, clock })
    : sqliteUsageRecorder({ sqlite: sqliteOf(db), clock }, options);
}
