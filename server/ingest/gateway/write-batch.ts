/**
 * One batch of gateway usage into storage: the events and the project observations (final
 * credits from GET project answers), in one transaction, through the store's usage recorder.
 * Shared by the writer thread and the in-process fallback, so both store exactly the same way.
 */
import type { Db, Sqlite } from '../../db/client.ts';
import type { RecordResult, UsageEvent } from '../../usage/record-events.ts';
import { type ProjectFinal, recordOnSqlite, usageRecorderFor } from '../../usage/recorder.ts';

/** A project's state as a GET project response showed it. */
export type ProjectObservation = ProjectFinal;

export type QueuedUsage = { event: UsageEvent; project?: ProjectObservation };

/** `now` is the queue's clock at hand-off (the writer thread has no clock of its own). */
export function writeUsageBatch(db: Db, batch: readonly QueuedUsage[], now: number): Promise<RecordResult> {
  return usageRecorderFor(db, { now: () => now }).record(eventsOf(batch), finalsOf(batch));
}

/** The same on SQLite, synchronously: the queue's inline fallback on the serving thread. */
export function writeUsageBatchNow(sqlite: Sqlite, batch: readonly QueuedUsage[], now: number): RecordResult {
  return recordOnSqlite({ sqlite, clock: { now: () => now } }, eventsOf(batch), finalsOf(batch));
}

const eventsOf = (batch: readonly QueuedUsage[]) => batch.map((i) => i.event);

function finalsOf(batch: readonly QueuedUsage[]): ProjectObservation[] {
  const finals: ProjectObservation[] = [];
  for (const { project } of batch) if (project) finals.push(project);
  return finals;
}
