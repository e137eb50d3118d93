/** Usage recorded through the product's writer of whichever store a test's deps run on. */
import type pg from 'pg';
import type { RecordResult, UsageEvent } from '../../server/usage/record-events.ts';
import { pgUsageRecorder } from '../../server/usage/record-events-pg.ts';
import { sqliteUsageRecorder, type UsageRecorder } from '../../server/usage/recorder.ts';
import type { TestDeps } from './store.ts';

export function recorderOf(deps: TestDeps): UsageRecorder {
  const pool = (deps as TestDeps & { pool?: pg.Pool }).pool;
  return pool ? pgUsageRecorder({ pool, clock: deps.clock }) : sqliteUsageRecorder(deps);
}

/** Records events in batches of at most `batch` (one transaction each), as ingest would. */
export async function recordUsage(
  deps: TestDeps,
  events: readonly UsageEvent[],
  batch = 5000,
): Promise<RecordResult[]> {
  const recorder = recorderOf(deps);
  const out: RecordResult[] = [];
  for (let i = 0; i < events.length; i += batch) out.push(await recorder.record(events.slice(i, i + batch)));
  return out;
}
