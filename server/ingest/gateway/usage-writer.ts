/**
 * The serving thread's handle on the writer thread (usage-writer-thread.ts): posts a batch and
 * resolves with the thread's answer. The thread starts on first use, at start-up through ready(),
 * or earlier through spawn(): then its code loads while the caller migrates the database, and its
 * connection opens at ready() or the first write. Once ready it is unref'd. If the thread fails,
 * pending writes answer with `thread: true` (the queue keeps their events and writes them on its
 * own thread from then on).
 */
import type { Worker } from 'node:worker_threads';
import { startWorker } from '../../http/worker-thread.ts';
import type { StorageTarget } from '../../storage-target.ts';

export type WriterRequest =
  /** `batch`: QueuedUsage as JSON lines (usage-chunk.ts), transferred: it crosses threads with no copy. */
  | { type: 'write'; id: number; batch: Uint8Array; now: number }
  /** Open the connection: the database is migrated. The thread waits for it before anything else. */
  | { type: 'open' }
  | { type: 'close' };
/** The thread's connection is open: it can take batches. */
export type ReadyReply = { id: -1; ok: true; ready: true };
export type WriterReply = ReadyReply | WriteReply;
export type WriteReply =
  | { id: number; ok: true; discovered: { id: string; name: string }[]; ms: number }
  /** `thread`: the writer thread failed, not storage. */
  | { id: number; ok: false; error: string; thread?: boolean };

export type BatchWriter = {
  /**
   * Starts the thread without opening its connection (a second or so of loading, on a core of its
   * own): call it before migrating, then ready() once the database is migrated.
   */
  spawn(): void;
  /** `batch`: the events as JSON lines, in a buffer of its own (it is transferred: unusable here after). */
  write(batch: Uint8Array, now: number): Promise<WriteReply>;
  /** Starts the thread; resolves once it has opened its connection, or failed (writes then fail over). */
  ready(): Promise<void>;
  /** Lets the thread finish its batch, close its connection and exit. */
  close(): Promise<void>;
};

const THREAD = new URL('./usage-writer-thread.ts', import.meta.url);

export function createThreadWriter(storage: StorageTarget): BatchWriter {
  let worker: Worker | null = null;
  let nextId = 0;
  const pending = new Map<number, (reply: WriteReply) => void>();
  let started: Promise<void> | null = null;
  /** Whether the current thread was told to open its connection. */
  let opening = false;
  let markReady = () => {};

  const failAll = (error: string) => {
    for (const [id, resolve] of pending) resolve({ id, ok: false, error, thread: true });
    pending.clear();
  };

  const start = () => {
    // Held (ref'd) until it reports ready, so a caller awaiting ready() with nothing else running is
    // not left with an empty event loop (Node would exit mid-await); idle after that, it holds nothing up.
    const w = startWorker(THREAD, { storage });
    opening = false;
    started = new Promise<void>((resolve) => {
      markReady = resolve;
    });
    w.on('message', (reply: WriterReply) => {
      if ('ready' in reply) {
        w.unref();
        markReady();
        return;
      }
      const resolve = pending.get(reply.id);
      pending.delete(reply.id);
      resolve?.(reply);
    });
    w.on('error', (err) => {
      markReady();
      failAll(`usage writer thread failed: ${err.message}`);
    });
    w.on('exit', () => {
      markReady();
      if (worker === w) worker = null;
      failAll('usage writer thread exited');
    });
    return w;
  };

  /** The running thread, told to open its connection (messages keep their order: writes follow). */
  const opened = (): Worker => {
    worker ??= start();
    if (!opening) {
      opening = true;
      worker.postMessage({ type: 'open' } satisfies WriterRequest);
    }
    return worker;
  };

  return {
    spawn() {
      worker ??= start();
    },
    ready() {
      opened();
      return started ?? Promise.resolve();
    },
    write(batch, now) {
      const w = opened();
      const id = nextId++;
      const message: WriterRequest = { type: 'write', id, batch, now };
      return new Promise((resolve) => {
        pending.set(id, resolve);
        w.postMessage(message, [batch.buffer as ArrayBuffer]);
      });
    },
    async close() {
      const w = worker;
      if (!w) return;
      worker = null;
      // Held while it finishes: an idle (unref'd) thread would let a process with nothing else
      // running exit in the middle of this await.
      w.ref();
      const exited = new Promise<void>((resolve) => w.once('exit', () => resolve()));
      w.postMessage({ type: 'close' } satisfies WriterRequest);
      await exited;
    },
  };
}
