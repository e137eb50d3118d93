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
 * journal too. Appends of one event-loop turn reach the disk together, at the end of the turn.
 *
 * The writer thread gets each batch as JSON text (the journal's lines, joined): copying one string
 * to the thread costs the serving thread far less than cloning hundreds of objects.
 */
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import type { Clock } from '../../clock.ts';
import type { Config } from '../../config.ts';
import type { Sqlite } from '../../db/client.ts';
import type { Logger } from '../../log.ts';
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

/**
 * A queued event: its journal line and the segment that holds it (-1: not on disk), or, without a
 * journal line, the event itself. A journaled event is kept as its line alone: a busy gateway holds
 * hundreds of events for a batch's delay, and one flat string per event is far less for every
 * young-generation GC to copy than the event's dozen objects (the serving thread pauses for it).
 */
type Entry = { item?: QueuedUsage; line?: string; segment?: number };

/** The event of an entry, parsed back from its line when only the line was kept (inline writes). */
const itemOf = (e: Entry): QueuedUsage => e.item ?? (JSON.parse(e.line!) as QueuedUsage);

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
  // Small enough that a batch holds the write lock only a few ms: the serving thread's own writes
  // (push API, webhooks, jobs) wait for it.
  const batchSize = options.batchSize ?? 250;
  const journalDir =
    options.journalDir === undefined
      ? inMemory
        ? null
        : storage.kind === 'sqlite'
          ? `${deps.sqlite.name}.journal`
          : // Processes sharing one data folder share the folder; each journals into its own files.
            join(deps.config.dataDir, 'gateway.journal')
      : options.journalDir;
  const journal: UsageJournal | null = journalDir
    ? openUsageJournal(journalDir, randomBytes(6).toString('hex'), deps.log)
    : null;
  // Each batch is one commit (about a millisecond of WAL writes however small it is), so at a few
  // hundred requests a second a longer wait means far fewer commits. The journal keeps the events
  // safe meanwhile; without one they wait only briefly.
  const delayMs = options.delayMs ?? (journal ? 250 : 50);
  const maxRetryMs = options.maxRetryMs ?? 30_000;
  // A new request's work is about a tenth of a millisecond: an answer may wait for one or two.
  const releaseAfterMs = options.releaseAfterMs ?? 0.2;
  const useThread = !inlineWrites || (options.writer ?? (inMemory ? 'inline' : 'thread')) === 'thread';
  let writer: BatchWriter | null = useThread ? createThreadWriter(storage) : null;
  /** The in-flight batch's reply handled (see pump); stop() waits for it. */
  let inflightDone: Promise<void> | null = null;
  let items: Entry[] = [];
  /** The batch the writer thread is storing now; counted in size and capacity. */
  let inflight: Entry[] | null = null;
  const confirm = (batch: readonly Entry[]) => {
    if (!journal) return;
    const segments: number[] = [];
    for (const e of batch) if (e.segment !== undefined && e.segment >= 0) segments.push(e.segment);
    if (segments.length > 0) journal.stored(segments);
  };
  let dropped = 0;
  let failures = 0;
  let lastError: string | null = null;
  let lastErrorAt: number | null = null;
  let lastFlushAt: number | null = null;
  let slowestFlushMs = 0;
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;
  /** Waiting for the journal's write at the end of this turn. */
  let waiters: (() => void)[] = [];
  /** When the first of `waiters` began to wait (performance.now()). */
  let waitingSince = 0;
  /** An event-loop turn has journaled a line already: the turn's later lines share one write at its end. */
  let turnStarted = false;

  /** One write() for the turn's lines, then the answers held for them go out. */
  const syncJournal = () => {
    if (waiters.length === 0 && !journal?.buffered()) return;
    journal?.sync();
    const released = waiters;
    waiters = [];
    for (const then of released) then();
  };

  const endTurn = () => {
    turnStarted = false;
    syncJournal();
  };

  const size = () => items.length + (inflight?.length ?? 0);

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
    const batch = items.slice(0, limit);
    const started = performance.now();
    try {
      const { discovered } = writeUsageBatchNow(deps.sqlite, batch.map(itemOf), deps.clock.now());
      items = items.length === batch.length ? [] : items.slice(batch.length);
      confirm(batch);
      succeeded(discovered, performance.now() - started);
      return true;
    } catch (err) {
      failed((err as Error).message);
      return false;
    }
  };

  /** Background writing: one batch to the thread at a time, or small inline slices. */
  function pump(draining = false) {
    if ((stopped && !draining) || inflight || items.length === 0) return;
    if (!writer && !inlineWrites) writer = createThreadWriter(storage);
    if (!writer) {
      if (writeInline(INLINE_SLICE) && items.length > 0) setImmediate(pump);
      return;
    }
    const batch = items.length <= batchSize ? items : items.slice(0, batchSize);
    items = batch === items ? [] : items.slice(batch.length);
    inflight = batch;
    inflightDone = writer.write(batchJson(batch), deps.clock.now()).then((reply) => {
      // flush() took this batch over meanwhile: it is stored or queued again there.
      if (inflight !== batch) return;
      inflight = null;
      if (reply.ok) {
        confirm(batch);
        succeeded(reply.discovered, reply.ms);
        if (items.length > 0) schedule(items.length >= batchSize ? 0 : delayMs);
      } else {
        items = batch.concat(items);
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
      if (items.length === 0 || failures > before) return;
      pump(true);
    }
  }

  /** The batch as the writer thread takes it: a JSON array, made of the journal's lines when there are. */
  function batchJson(batch: readonly Entry[]): string {
    const parts = new Array<string>(batch.length);
    for (let i = 0; i < batch.length; i++) {
      const e = batch[i]!;
      parts[i] = e.line ?? usageLine(e.item!);
    }
    return `[${parts.join(',')}]`;
  }

  function flush(): boolean {
    if (inflight) {
      items = inflight.concat(items);
      inflight = null;
    }
    while (items.length > 0) if (!writeInline(batchSize)) return false;
    return true;
  }

  // Events an earlier process journaled and may not have stored: stored again (idempotent), first.
  if (journal) {
    let adopted = 0;
    for (const a of journal.adopt()) {
      items = items.concat(a.items.map((item) => ({ item, segment: a.segment })));
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
      let entry: Entry;
      if (journal) {
        // Before the client's answer ends (the gateway waits for journaled()): on disk, it survives kill -9.
        entry = { line: usageLine(item) };
        journal.append(entry.line!, entry);
        if (!turnStarted) {
          // The turn's first answer is written at once and never waits; answers that end after it
          // in the same turn (a busy moment) wait for one shared write after the turn's I/O callbacks.
          turnStarted = true;
          journal.sync();
          setImmediate(endTurn);
        }
      } else entry = { item };
      items.push(entry);
      // While storage is failing the retry timer is already set; otherwise write soon, in a batch.
      if (!inflight) schedule(items.length >= batchSize ? 0 : delayMs);
      return true;
    },
    release() {
      if (waiters.length > 0 && performance.now() - waitingSince >= releaseAfterMs) syncJournal();
    },
    journaled(then) {
      if (!journal || journal.buffered() === 0) then();
      else if (waiters.push(then) === 1) waitingSince = performance.now();
    },
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
      if (inlineWrites) flush();
      else await drainThroughThread();
      // Answers still held for the journal go out (flush() has put their lines on disk).
      syncJournal();
      const closing = writer?.close();
      writer = null;
      await closing;
      journal?.close();
      if (items.length > 0) {
        const kept = journal ? ' (kept in the journal for the next start)' : '';
        deps.log.error(`gateway events not stored at shutdown${kept}`, { count: items.length });
      }
      return items.length;
    },
  };
}
