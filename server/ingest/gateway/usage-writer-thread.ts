/**
 * The gateway's writer thread: owns its own connection (SQLite: WAL lets it write beside the
 * serving thread's; PostgreSQL: a small pool of its own) and stores the batches the usage queue posts, so batch writes never hold the
 * event loop that proxies traffic. One batch at a time; every batch gets exactly one answer.
 */
import { performance } from 'node:perf_hooks';
import { parentPort } from 'node:worker_threads';
import { openStorage, type Storage } from '../../db/storage.ts';
import { BACKGROUND_NICE, lowerThreadPriority } from '../../http/worker-thread.ts';
import type { StorageTarget } from '../../storage-target.ts';
import { parseLines } from './usage-chunk.ts';
import type { ReadyReply, WriteReply, WriterRequest } from './usage-writer.ts';
import { writeUsageBatch } from './write-batch.ts';

const port = parentPort!;
// The thread starts before the serving thread migrates the database (so its code loads meanwhile,
// usage-writer.ts) and opens its connection only when told: `open` comes once the database is
// migrated. No checkpoint inside a batch's commit (SQLite's default, every 1,000 WAL pages, made
// every few batches copy the WAL and fsync): the timer below does it between batches, once for
// every page written in the meantime.
// The storage target comes with `open`: the thread may start before the configuration is read
// (usage-writer.ts, prestartWriterThread).
let opened: Promise<Storage> | null = null;
const open = (storage: StorageTarget): Promise<Storage> =>
  openStorage(storage, { migrate: false, checkpoints: false });

// The serving thread's SQLite connection never checkpoints (openStore's `checkpoints: false`):
// this one copies the WAL back into the database for every connection, so the WAL stays bounded
// even while no gateway traffic commits here. PASSIVE never waits for readers or writers.
const CHECKPOINT_EVERY_MS = 5_000;

// Batches are stored one at a time, in order (on PostgreSQL a batch's queries are awaited).
let queue: Promise<unknown> = Promise.resolve();

port.on('message', (m: WriterRequest) => {
  if (m.type === 'open') {
    if (opened !== null) return;
    opened = open(m.storage);
    queue = queue.then(() =>
      opened!.then(
        (store) => {
          // Batches may wait a little; the thread that proxies requests may not (worker-thread.ts).
          // Lowered only now: until its connection is open, start-up waits for this thread.
          lowerThreadPriority(BACKGROUND_NICE.writer);
          port.postMessage({ id: -1, ok: true, ready: true } satisfies ReadyReply);
          if (store.kind === 'sqlite')
            setInterval(() => {
              try {
                store.sqlite.pragma('wal_checkpoint(PASSIVE)');
              } catch {
                // Busy or closing: the next round (or another connection's commit) does it.
              }
            }, CHECKPOINT_EVERY_MS).unref();
        },
        // Unreachable storage rejects this chain: unhandled, it ends the thread, and the queue keeps
        // its batches and starts a new thread for the next attempt.
      ),
    );
    return;
  }
  // Closed before it was ever told to open (the server failed to start): nothing to close but the port.
  if (m.type === 'close' && opened === null) {
    port.close();
    return;
  }
  queue = queue.then(() => handle(m));
});

async function handle(m: Exclude<WriterRequest, { type: 'open' }>): Promise<void> {
  // Every write and close follows `open` (usage-writer.ts posts it first).
  const store = await opened!;
  if (m.type === 'close') {
    await store.close();
    port.close();
    return;
  }
  const started = performance.now();
  let reply: WriteReply;
  try {
    const { discovered } = await writeUsageBatch(store.db, parseLines(m.batch), m.now);
    reply = { id: m.id, ok: true, discovered, ms: performance.now() - started };
  } catch (err) {
    reply = { id: m.id, ok: false, error: (err as Error).message };
  }
  port.postMessage(reply);
}
