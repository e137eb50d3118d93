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

/**
 * `count` pushed events over `keys` in turn, spread back from `end` over about 100 days: two
 * operations, fractional credits, one or two requests, a 401 in every six. For tests that compare
 * two ways of reading the same usage, so the answers have groups, gaps and decimals to get wrong.
 */
export function mixedUsage(keys: readonly string[], count: number, end: number): UsageEvent[] {
  return Array.from({ length: count }, (_, i) => ({
    source: 'push',
    eventId: `e${i}`,
    key: { by: 'ref' as const, value: keys[i % keys.length]! },
    ts: end - (i % 80) * 31 * 3_600_000 - 1,
    credits: 0.5 + (i % 9),
    requests: 1 + (i % 2),
    status: i % 6 ? 200 : 401,
    operation: i % 3 ? 'face-swap' : 'ai-image-generator',
  }));
}

/** One pushed event of `key`: one request answered 200, a face swap unless `extra` says otherwise. */
export function pushedEvent(
  key: string,
  eventId: string,
  ts: number,
  credits: number,
  extra: Partial<UsageEvent> = {},
): UsageEvent {
  return {
    source: 'push',
    eventId,
    key: { by: 'ref', value: key },
    ts,
    credits,
    requests: 1,
    status: 200,
    operation: 'face-swap',
    ...extra,
  };
}

/**
 * `count` events for the fold tests: three keys, two operations, minutes spread over three days
 * (so minute, hour, day and month buckets all get several rows), two client networks and agents,
 * an error in every seven. Event ids `f<i>`: the same `count` gives the same events.
 */
export function foldedUsage(count: number, from = 0): UsageEvent[] {
  return Array.from({ length: count }, (_, j) => {
    const i = from + j;
    return {
      source: 'push',
      eventId: `f${i}`,
      key: { by: 'ref' as const, value: ['prod-web', 'prod-batch', 'staging'][i % 3]! },
      ts: Date.UTC(2026, 10, 23) + ((i * 7_919) % (3 * 86_400)) * 1_000,
      credits: 1 + (i % 5),
      requests: 1,
      status: i % 7 === 0 ? 500 : 200,
      operation: i % 2 ? 'face-swap' : 'text-to-video',
      sourceIp: `203.0.${113 + (i % 2)}.${i % 50}`,
      userAgent: i % 2 ? 'magic-hour-node/0.43.1' : 'curl/8',
    };
  });
}
