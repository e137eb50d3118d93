/**
 * One batch of gateway usage into storage: the events through recordEvents and the project
 * observations (final credits from GET project answers), in one transaction. Shared by the
 * writer thread and the in-process fallback, so both store exactly the same way.
 */
import type { Sqlite } from '../../db/client.ts';
import { finalizeProject } from '../../usage/projects.ts';
import { type RecordResult, recordEvents, type UsageEvent } from '../../usage/record-events.ts';

/** A project's state as a GET project response showed it. */
export type ProjectObservation = { projectId: string; finalCredits: number; status: string | null };

export type QueuedUsage = { event: UsageEvent; project?: ProjectObservation };

const writers = new WeakMap<Sqlite, (batch: readonly QueuedUsage[], now: number) => RecordResult>();

/** `now` is the queue's clock at hand-off (the writer thread has no clock of its own). */
export function writeUsageBatch(sqlite: Sqlite, batch: readonly QueuedUsage[], now: number): RecordResult {
  let write = writers.get(sqlite);
  if (!write) {
    write = sqlite.transaction((items: readonly QueuedUsage[], at: number) => {
      const result = recordEvents(
        { sqlite, clock: { now: () => at } },
        items.map((i) => i.event),
      );
      for (const { project } of items) if (project) finalizeProject(sqlite, { ...project, now: at });
      return result;
    }).immediate;
    writers.set(sqlite, write);
  }
  return write(batch, now);
}
