/**
 * The gateway's recording buffer: proxied requests never wait for storage. Events wait here and
 * are written in batches by a writer thread with its own SQLite connection, so a batch write
 * (tens of ms for a thousand events) never holds the event loop that serves traffic. While storage
 * fails, events stay queued (bounded) and are retried with backoff. Fill, drops and the last error
 * are visible in GET /api/v1/sources.
 *
 * flush() writes synchronously on the serving thread's connection, for tests and shutdown: it
 * takes over a batch the thread is still writing (events are idempotent per source and event id,
 * so whichever write lands second books nothing).
 *
 * With a file database every event is also appended to a journal (usage-journal.ts) when it is
 * pushed, and the journal forgets it once a write confirmed it: a `kill -9` loses no event that
 * journaled() released, and the next start adopts what the journal holds. The capacity bounds the
 * journal too. Appends of one event-loop turn reach the disk together (journal-turns.ts).
 *
 * Events wait in chunks (usage-chunk.ts): the bytes of each journal write, off the JS heap. The
 * writer thread gets each batch as one buffer of lines, transferred: no copy, no object per event.
 */
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import type { Clock } from '../../clock.ts';
import type { Config } from '../../config.ts';
import type { Sqlite } from '../../db/client.ts';
import type { Logger } from '../../log.ts';
import { createJournalTurns } from './journal-turns.ts';
import { batchBytes, type Chunk, createChunkQueue, itemsOf } from './usage-chunk.ts';
import { type JournalStats, openUsageJournal, type UsageJournal } from './usage-journal.ts';
import { usageLine } from './usage-line.ts';
import { type BatchWriter, createThreadWriter } from './usage-writer.ts';
import { type QueuedUsage, writeUsageBatchNow } from './write-batch.ts';

export type { ProjectObservation, QueuedUsage } from './write-batch.ts';

export type QueueStats = {
  size: number;
  capacity: number;
  dropped: number;
  last_error: string | null;
  last_error_at: number | null;
  last_flush_at: number | null;
  /** The longest a batch write took, in ms (storage slowness shows here first). */
  slowest_flush_ms: number;
  /** Events journaled on disk and not stored yet (null: no journal, an in-memory database). */
  journal: JournalStats | null;
};

export type UsageQueue = {
  push(item: QueuedUsage): boolean;
  /**
   * Calls `then` once every event pushed so far is in the journal (at once when nothing waits; at
   * the end of this event-loop turn otherwise). The gateway ends each answer there: an answer the
   * client has in full never has its usage only in memory.
   */
  journaled(then: () => void): void;
  /**
   * Writes the journal's pending lines now and releases the answers waiting for them, when the
   * first has waited `releaseAfterMs` already. The gateway calls it before it starts on a new
   * request: in a busy turn an answer waits for a few answers ending beside it, not for every new
   * request the turn brings as well.
   */
  release(): void;
  /** Writes everything queued now; returns false when storage failed (items stay queued). */
  flush(): boolean;
  stats(): QueueStats;
  /** Resolves once the writer thread has its connection open (or fell back to this thread). */
  ready(): Promise<void>;
  /** Final flush on shutdown; resolves with how many events could not be written. */
  stop(): Promise<number>;
};

export type QueueOptions = {
  capacity?: number;
  batchSize?: number;
  delayMs?: number;
  maxRetryMs?: number;
  /** 'thread' (default for file databases) or 'inline' (in-memory databases: no second connection). */
  writer?: 'thread' | 'inline';
  /** Journal folder; default `<database>.journal` for a file database, none in memory. */
  journalDir?: string | null;
  /** How long an answer may wait for the journal while new requests are handled (ms; see release()). */
  releaseAfterMs?: number;
  /**
   * A writer thread spawned earlier (serve.ts starts it before migrating, so its code loads
   * meanwhile); closed unused when this queue writes inline.
   */
  threadWriter?: BatchWriter;
};

/** Inline writes run in slices this small, one per macrotask, so proxied traffic interleaves. */
const INLINE_SLICE = 100;

export function createUsageQueue(
  deps: { sqlite: Sqlite; clock: Clock; log: Logger; config: Pick<Config, 'storage' | 'dataDir'> },
  options: QueueOptions = {},
): UsageQueue {
  // On PostgreSQL every write goes through the writer thread (its queries are asynchronous; this
  // thread never waits for them); SQLite can also write a slice inline when the thread is gone.
  const { storage } = deps.config;
  const inlineWrites = storage.kind === 'sqlite';
  const inMemory = storage.kind === 'sqlite' && deps.sqlite.memory;
  const capacity = options.capacity ?? 50_000;
  // Each batch is one commit, and a commit costs about as much as the events it stores (every page
  // it changed is written to the WAL whole): under a backlog, 1,000 events a batch took a quarter
  // less of the writer thread's CPU per event than 250. It still holds the write lock only ~20 ms,
  // which the other writers (push and detection workers, webhooks) wait out.
  const batchSize = options.batchSize ?? 1000;
  const journalDir =
    options.journalDir === undefined
      ? inMemory
        ? null
        : storage.kind === 'sqlite'
          ? `${deps.sqlite.name}.journal`
          : // Processes sharing one data folder share the folder; each journals into its own files.
            join(deps.config.dataDir, 'gateway.journal')
      : options.journalDir;
  const waiting = createChunkQueue();
  const journal: UsageJournal | null = journalDir
    ? openUsageJournal(journalDir, randomBytes(6).toString('hex'), deps.log, waiting.add)
    : null;
  // Each batch is one commit (about a millisecond of WAL writes however small it is), so at a few
  // hundred requests a second a longer wait means far fewer commits. The journal keeps the events
  // safe meanwhile; without one they wait only briefly.
  const delayMs = options.delayMs ?? (journal ? 250 : 50);
  const maxRetryMs = options.maxRetryMs ?? 30_000;
  // A new request's work is about a tenth of a millisecond: an answer may wait for one or two.
  const turns = createJournalTurns(journal, options.releaseAfterMs ?? 0.2);
  const useThread = !inlineWrites || (options.writer ?? (inMemory ? 'inline' : 'thread')) === 'thread';
  let writer: BatchWriter | null = useThread ? (options.threadWriter ?? createThreadWriter(storage)) : null;
  if (!useThread) void options.threadWriter?.close();
  /** The in-flight batch's reply handled (see pump); stop() waits for it. */
  let inflightDone: Promise<void> | null = null;
  /** The batch the writer thread is storing now; counted in size and capacity. */
  let inflight: Chunk[] | null = null;
  let inflightCount = 0;
  let dropped = 0;
  let failures = 0;
  let lastError: string | null = null;
  let lastErrorAt: number | null = null;
  let lastFlushAt: number | null = null;
  let slowestFlushMs = 0;
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;

  const size = () => waiting.count + inflightCount + (journal?.buffered() ?? 0);

  /** Events of a batch now in storage: their journal segments may go. */
  const confirm = (batch: readonly Chunk[]) => {
    if (!journal) return;
    const counts = new Map<number, number>();
    for (const c of batch) if (c.segment >= 0) counts.set(c.segment, (counts.get(c.segment) ?? 0) + c.count);
    if (counts.size > 0) journal.stored(counts);
  };

  const schedule = (ms: number) => {
    if (timer || stopped) return;
    timer = setTimeout(() => {
      timer = undefined;
      pump();
    }, ms);
    timer.unref();
  };

  const succeeded = (discovered: { name: string }[], ms: number) => {
    slowestFlushMs = Math.max(slowestFlushMs, ms);
    if (discovered.length > 0) {
      deps.log.info('discovered keys in gateway traffic', { keys: discovered.map((k) => k.name) });
    }
    if (failures > 0) deps.log.info('gateway events stored after storage recovered', { failures });
    failures = 0;
    lastError = null;
    lastFlushAt = deps.clock.now();
  };

  const failed = (message: string) => {
    failures++;
    lastError = message;
    lastErrorAt = deps.clock.now();
    // Log the first failure and then every 10th, so a long outage does not flood the log.
    if (failures === 1 || failures % 10 === 0) {
      deps.log.warn('gateway events not stored yet; will retry', {
        queued: size(),
        failures,
        error: message,
      });
    }
    if (timer) clearTimeout(timer);
    timer = undefined;
    schedule(Math.min(maxRetryMs, 250 * 2 ** Math.min(failures, 8)));
  };

  /** Writes up to `limit` queued events on this thread; false when storage failed. */
  const writeInline = (limit: number): boolean => {
    if (!inlineWrites) return false;
    const { batch, count } = waiting.take(limit);
    const started = performance.now();
    try {
      const { discovered } = writeUsageBatchNow(deps.sqlite, batch.flatMap(itemsOf), deps.clock.now());
      confirm(batch);
      succeeded(discovered, performance.now() - started);
      return true;
    } catch (err) {
      waiting.putBack(batch, count);
      failed((err as Error).message);
      return false;
    }
  };

  /** Background writing: one batch to the thread at a time, or small inline slices. */
  function pump(draining = false) {
    if ((stopped && !draining) || inflight || waiting.count === 0) return;
    if (!writer && !inlineWrites) writer = createThreadWriter(storage);
    if (!writer) {
      if (writeInline(INLINE_SLICE) && waiting.count > 0) setImmediate(pump);
      return;
    }
    const { batch, count } = waiting.take(batchSize);
    inflight = batch;
    inflightCount = count;
    inflightDone = writer.write(batchBytes(batch), deps.clock.now()).then((reply) => {
      // flush() took this batch over meanwhile: it is stored or queued again there.
      if (inflight !== batch) return;
      inflight = null;
      inflightCount = 0;
      if (reply.ok) {
        confirm(batch);
        succeeded(reply.discovered, reply.ms);
        if (waiting.count > 0) schedule(waiting.count >= batchSize ? 0 : delayMs);
      } else {
        waiting.putBack(batch, count);
        if (reply.thread) {
          // The thread itself is broken (not storage): keep recording, on this thread.
          deps.log.warn('gateway writer thread unavailable; writing on the serving thread', {
            error: reply.error,
          });
          writer = null;
        }
        failed(reply.error);
      }
    });
  }

  /** At stop on PostgreSQL: what is queued goes through the thread, until done or storage fails. */
  async function drainThroughThread(): Promise<void> {
    for (let before = failures; writer; ) {
      if (inflight) await inflightDone;
      if (waiting.count === 0 || failures > before) return;
      pump(true);
    }
  }

  function flush(): boolean {
    if (inflight) {
      waiting.putBack(inflight, inflightCount);
      inflight = null;
      inflightCount = 0;
    }
    // Lines of this turn not written yet become a chunk first (on disk, then stored).
    journal?.sync();
    while (waiting.count > 0) if (!writeInline(batchSize)) return false;
    return true;
  }

  // Events an earlier process journaled and may not have stored: stored again (idempotent), first.
  if (journal) {
    let adopted = 0;
    for (const a of journal.adopt()) {
      waiting.add({ count: a.items.length, segment: a.segment, bytes: null, items: a.items });
      adopted += a.items.length;
    }
    if (adopted > 0) {
      deps.log.info('gateway journal: storing events an earlier process left', { events: adopted });
      schedule(0);
    }
  }

  return {
    push(item) {
      if (size() >= capacity) {
        dropped++;
        return false;
      }
      if (journal) {
        // Before the client's answer ends (the gateway waits for journaled()): on disk, it survives kill -9.
        journal.append(usageLine(item));
        turns.appended();
      } else waiting.add({ count: 1, segment: -1, bytes: null, items: [item] });
      // While storage is failing the retry timer is already set; otherwise write soon, in a batch.
      if (!inflight) schedule(size() >= batchSize ? 0 : delayMs);
      return true;
    },
    release: turns.release,
    journaled: turns.journaled,
    flush,
    stats: () => ({
      size: size(),
      capacity,
      dropped,
      last_error: lastError,
      last_error_at: lastErrorAt,
      last_flush_at: lastFlushAt,
      slowest_flush_ms: slowestFlushMs,
      journal: journal?.stats() ?? null,
    }),
    async ready() {
      await writer?.ready();
    },
    async stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      timer = undefined;
      journal?.sync();
      if (inlineWrites) flush();
      else await drainThroughThread();
      // Answers still held for the journal go out (their lines are on disk now).
      turns.syncNow();
      const closing = writer?.close();
      writer = null;
      await closing;
      journal?.close();
      const left = size();
      if (left > 0) {
        const kept = journal ? ' (kept in the journal for the next start)' : '';
        deps.log.error(`gateway events not stored at shutdown${kept}`, { count: left });
      }
      return left;
    },
  };
}
