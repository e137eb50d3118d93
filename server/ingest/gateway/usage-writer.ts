/**
 * The serving thread's handle on the writer thread (usage-writer-thread.ts): posts a batch and
 * resolves with the thread's answer. The thread starts on first use, at start-up through ready(),
 * or earlier through spawn(): then its code loads while the caller migrates the database, and its
 * connection opens at ready() or the first write. `keywatch serve` starts one earlier still, before
 * the CLI's own code loads (prestartWriterThread); the first writer adopts it. Once ready it is
 * unref'd. If the thread fails, pending writes answer with `thread: true` (the queue keeps their
 * events and writes them on its own thread from then on).
 */
import type { Worker } from 'node:worker_threads';
import { startWorker } from '../../http/worker-thread.ts';
import type { StorageTarget } from '../../storage-target.ts';

export type WriterRequest =
  /** `batch`: QueuedUsage as JSON lines (usage-chunk.ts), transferred: it crosses threads with no copy. */
  | { type: 'write'; id: number; batch: Uint8Array; now: number }
  /** Open the connection: the database is migrated. The thread waits for it before anything else. */
  | { type: 'open'; storage: StorageTarget }
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

/** A thread started by prestartWriterThread and not yet adopted by a writer; null once it exited. */
let prestarted: Worker | null = null;

/**
 * Starts a writer thread loading now, for the first createThreadWriter to adopt. The thread's code
 * takes a few hundred milliseconds to load, and the listener waits for it (issue 13): started from
 * the CLI's first module (cli/prestart.ts), it loads on the other core while the CLI's own code
 * loads and the database migrates, instead of after. Idle and unref'd until adopted, so a command
 * that ends before (bad configuration) is not held up by it.
 */
export function prestartWriterThread(): Worker {
  if (prestarted) return prestarted;
  const w = startWorker(THREAD, {});
  w.unref();
  // A thread that fails before it is adopted is simply not adopted: a writer starts its own.
  w.on('error', () => {});
  w.on('exit', () => {
    if (prestarted === w) prestarted = null;
  });
  prestarted = w;
  return w;
}

/** Stops a prestarted thread no writer will adopt (an in-memory database writes inline). */
export function discardPrestartedWriterThread(): void {
  void prestarted?.terminate();
  prestarted = null;
}

function adoptPrestarted(): Worker | null {
  const w = prestarted;
  prestarted = null;
  w?.ref();
  return w;
}

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
    const w = adoptPrestarted() ?? startWorker(THREAD, {});
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
      worker.postMessage({ type: 'open', storage } satisfies WriterRequest);
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
