/**
 * The gateway's recording buffer: proxied requests never wait for storage. Events wait here and
 * are written in batches; while storage fails they stay queued (bounded) and are retried with
 * backoff. Fill, drops and the last error are visible in GET /api/v1/sources.
 */
import { performance } from 'node:perf_hooks';
import type { Clock } from '../clock.ts';
import type { Sqlite } from '../db/client.ts';
import { finalizeProject } from '../ingest/projects.ts';
import { recordEvents, type UsageEvent } from '../ingest/record-events.ts';
import type { Logger } from '../log.ts';

/** A project's state as a GET project response showed it. */
export type ProjectObservation = { projectId: string; finalCredits: number; status: string | null };

export type QueuedUsage = { event: UsageEvent; project?: ProjectObservation };

export type QueueStats = {
  size: number;
  capacity: number;
  dropped: number;
  last_error: string | null;
  last_error_at: number | null;
  last_flush_at: number | null;
  /** The longest a batch write held the event loop, in ms (storage slowness shows here first). */
  slowest_flush_ms: number;
};

export type UsageQueue = {
  push(item: QueuedUsage): boolean;
  /** Writes everything queued now; returns false when storage failed (items stay queued). */
  flush(): boolean;
  stats(): QueueStats;
  /** Final flush on shutdown; returns how many events could not be written. */
  stop(): number;
};

export type QueueOptions = { capacity?: number; batchSize?: number; delayMs?: number; maxRetryMs?: number };

export function createUsageQueue(
  deps: { sqlite: Sqlite; clock: Clock; log: Logger },
  options: QueueOptions = {},
): UsageQueue {
  const capacity = options.capacity ?? 50_000;
  const batchSize = options.batchSize ?? 1_000;
  const delayMs = options.delayMs ?? 50;
  const maxRetryMs = options.maxRetryMs ?? 30_000;
  let items: QueuedUsage[] = [];
  let dropped = 0;
  let failures = 0;
  let lastError: string | null = null;
  let lastErrorAt: number | null = null;
  let lastFlushAt: number | null = null;
  let slowestFlushMs = 0;
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;

  const schedule = (ms: number) => {
    if (timer || stopped) return;
    timer = setTimeout(() => {
      timer = undefined;
      flush();
    }, ms);
    timer.unref();
  };

  const writeBatch = deps.sqlite.transaction((batch: QueuedUsage[]) => {
    const result = recordEvents(
      deps,
      batch.map((i) => i.event),
    );
    const now = deps.clock.now();
    for (const { project } of batch) if (project) finalizeProject(deps.sqlite, { ...project, now });
    return result;
  });

  function flush(): boolean {
    while (items.length > 0) {
      const batch = items.slice(0, batchSize);
      const started = performance.now();
      try {
        const { discovered } = writeBatch.immediate(batch);
        slowestFlushMs = Math.max(slowestFlushMs, performance.now() - started);
        if (discovered.length > 0) {
          deps.log.info('discovered keys in gateway traffic', { keys: discovered.map((k) => k.name) });
        }
      } catch (err) {
        failures++;
        lastError = (err as Error).message;
        lastErrorAt = deps.clock.now();
        // Log the first failure and then every 10th, so a long outage does not flood the log.
        if (failures === 1 || failures % 10 === 0) {
          deps.log.warn('gateway events not stored yet; will retry', {
            queued: items.length,
            failures,
            error: lastError,
          });
        }
        schedule(Math.min(maxRetryMs, 250 * 2 ** Math.min(failures, 8)));
        return false;
      }
      items = items.length === batch.length ? [] : items.slice(batch.length);
      if (failures > 0) deps.log.info('gateway events stored after storage recovered', { failures });
      failures = 0;
      lastError = null;
      lastFlushAt = deps.clock.now();
    }
    return true;
  }

  return {
    push(item) {
      if (items.length >= capacity) {
        dropped++;
        return false;
      }
      items.push(item);
      // While storage is failing the retry timer is already set; otherwise flush soon, in a batch.
      schedule(items.length >= batchSize ? 0 : delayMs);
      return true;
    },
    flush,
    stats: () => ({
      size: items.length,
      capacity,
      dropped,
      last_error: lastError,
      last_error_at: lastErrorAt,
      last_flush_at: lastFlushAt,
      slowest_flush_ms: slowestFlushMs,
    }),
    stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      timer = undefined;
      flush();
      if (items.length > 0) deps.log.error('gateway events lost at shutdown', { count: items.length });
      return items.length;
    },
  };
}
