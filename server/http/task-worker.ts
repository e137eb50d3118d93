/**
 * Heavy request work off the serving thread: a worker thread with its own SQLite connection (WAL
 * lets it read and write beside the serving thread's) runs the named tasks of one entry module,
 * one at a time, and answers each with its value or its AppError, which the caller rethrows as if
 * the work had run in place. A database in memory has no second connection: the tasks run inline.
 *
 * The caller passes `now` with each task, so a fake clock in tests reaches the worker too.
 */
import { isMainThread, parentPort, type ResourceLimits, type Worker, workerData } from 'node:worker_threads';
import type { Clock } from '../clock.ts';
import type { Config } from '../config.ts';
import { openStorage, type Storage } from '../db/storage.ts';
import type { Deps } from '../deps.ts';
import { AppError, type Issue } from '../errors.ts';
import { createLogger, type Logger } from '../log.ts';
import { isLent, keepBuffer } from './body-pool.ts';
import { BACKGROUND_NICE, lowerThreadPriority, startWorker } from './worker-thread.ts';

/** As the gateway's writer thread: PASSIVE, so it never waits for readers or the writer. */
const CHECKPOINT_EVERY_MS = 5_000;

export type Task<I, O> = (deps: Deps, input: I) => O;
export type Tasks = Record<string, Task<never, unknown>>;

type Request = { id: number; task: string; input: unknown; now: number };
/** Ids of the messages that are not tasks: close the thread; take a body's buffer back. */
const CLOSE = -1;
const RELEASE = -2;
type Failure = { status: AppError['status']; code: string; message: string; issues?: Issue[] };
type Reply = { id: number; ok: true; value: unknown } | { id: number; ok: false; error: Failure | string };

export type TaskWorker<T extends Tasks> = {
  /** `transfer`: buffers inside `input` handed to the thread instead of copied (unusable here after). */
  run<K extends keyof T & string>(
    task: K,
    input: Parameters<T[K]>[1],
    transfer?: readonly ArrayBuffer[],
  ): Promise<ReturnType<T[K]>>;
  /**
   * Gives a body the thread answered with back to it once sent (sentThen), to write the next one
   * into: a body buffer reused is one whose pages are not faulted in again (http/body-pool.ts).
   * The body is unusable here after.
   */
  release(body: Uint8Array): void;
  /** Ends the thread once its current task is done. */
  close(): Promise<void>;
};

/**
 * `entry` is the module that calls serveTasks(tasks) (its URL); `tasks` the same tasks, run inline
 * when the database is in memory. `limits`: the thread's V8 heap limits beyond worker-thread.ts's own
 * (a thread that exceeds them exits; its pending tasks fail and the next run starts a new one).
 */
export function createTaskWorker<T extends Tasks>(
  deps: Deps,
  entry: URL,
  tasks: T,
  limits: ResourceLimits = {},
): TaskWorker<T> {
  const inline = deps.config.storage.kind === 'sqlite' && deps.sqlite.memory;
  let worker: Worker | null = null;
  let nextId = 0;
  const pending = new Map<number, { resolve(v: unknown): void; reject(e: Error): void }>();

  const failAll = (message: string) => {
    for (const p of pending.values()) p.reject(new Error(message));
    pending.clear();
  };
  const start = () => {
    const w = startWorker(entry, { config: deps.config }, limits);
    // Idle, it holds nothing up: a process may exit with it still there.
    w.unref();
    w.on('message', (reply: Reply) => {
      const p = pending.get(reply.id);
      pending.delete(reply.id);
      if (!p) return;
      if (reply.ok) p.resolve(reply.value);
      else p.reject(toError(reply.error));
    });
    w.on('error', (err) => failAll(`task worker failed: ${err.message}`));
    w.on('exit', () => {
      if (worker === w) worker = null;
      failAll('task worker exited');
    });
    return w;
  };

  return {
    run(task, input, transfer = []) {
      if (inline) {
        return new Promise((resolve) =>
          resolve(tasks[task]!(deps, input as never) as ReturnType<T[typeof task]>),
        );
      }
      worker ??= start();
      const id = nextId++;
      const w = worker;
      return new Promise((resolve, reject) => {
        pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
        // A task in flight keeps the process (and the request waiting on it) alive.
        w.ref();
        w.postMessage({ id, task, input, now: deps.clock.now() } satisfies Request, transfer);
      }).finally(() => {
        if (pending.size === 0) w.unref();
      }) as Promise<ReturnType<T[typeof task]>>;
    },
    release(body) {
      const { buffer } = body;
      if (!(buffer instanceof ArrayBuffer) || buffer.byteLength === 0) return;
      // Inline, the tasks write their bodies in this thread: its own pool takes the buffer.
      if (inline) return keepBuffer(new Uint8Array(buffer));
      worker?.postMessage({ id: RELEASE, task: '', input: buffer, now: 0 } satisfies Request, [buffer]);
    },
    async close() {
      const w = worker;
      worker = null;
      if (!w) return;
      // Held while it finishes: an idle (unref'd) thread would let a process with nothing else
      // running exit in the middle of this await.
      w.ref();
      const exited = new Promise<void>((resolve) => w.once('exit', () => resolve()));
      w.postMessage({ id: CLOSE, task: '', input: null, now: 0 } satisfies Request);
      await exited;
    },
  };
}

/**
 * The worker side: opens its connection and answers tasks until told to close (id -1). Push
 * batches and backtests are seconds of CPU: the serving thread comes first, at `nice` below it
 * (worker-thread.ts).
 */
export function serveTasks(
  tasks: Tasks,
  nice: number = BACKGROUND_NICE.heavy,
  options: {
    cacheMb?: number;
    /** Work on a timer between tasks (never beside one): the push worker's fold of rollups. */
    every?: { ms: number; run(deps: Deps): unknown };
  } = {},
): void {
  const { every, ...storeOptions } = options;
  if (isMainThread || !parentPort) return;
  const port = parentPort;
  lowerThreadPriority(nice);
  const { config } = workerData as { config: Config };
  let now = 0;
  const clock: Clock = { now: () => now };
  const log: Logger = createLogger(config.logLevel);
  const depsOf = (store: Storage): Deps => ({ db: store.db, sqlite: store.sqlite, clock, config, log });
  // The serving thread has migrated the database already. No checkpoint inside a task's commit:
  // with SQLite's default (every 1,000 WAL pages), push batches paid a checkpoint and its fsyncs
  // every third commit at 100 events (about 340 pages each: a dozen key-ordered tables dirty a page
  // per key) and every commit at 5,000, half the push path's time. A timer checkpoints between
  // tasks instead, so a page rewritten by many batches is copied back once, and the WAL stays
  // bounded even where no gateway writer thread runs (an app without serve.ts).
  const opened = openStorage(config.storage, { migrate: false, checkpoints: false, ...storeOptions });
  let checkpoints: NodeJS.Timeout | undefined;
  let timed: NodeJS.Timeout | undefined;
  // One task at a time, in order: a task awaits its queries, and the next must not start meanwhile.
  let queue: Promise<unknown> = opened.then((store) => {
    if (store.kind === 'sqlite')
      checkpoints = setInterval(() => {
        try {
          store.sqlite.pragma('wal_checkpoint(PASSIVE)');
        } catch {
          // Busy: the next round does it.
        }
      }, CHECKPOINT_EVERY_MS).unref();
    if (every) {
      const deps = depsOf(store);
      timed = setInterval(() => {
        queue = queue.then(async () => {
          try {
            await every.run(deps);
          } catch (err) {
            // A busy or failing round is retried by the next: the work it left stays pending.
            log.warn('timed task failed', { error: String((err as Error)?.message ?? err) });
          }
        });
      }, every.ms).unref();
    }
  });
  port.on('message', (m: Request) => {
    // A buffer coming back is taken at once: the writer of the task running meanwhile has its own.
    if (m.id === RELEASE) return keepBuffer(new Uint8Array(m.input as ArrayBuffer));
    queue = queue.then(() => handle(m));
  });
  async function handle(m: Request): Promise<void> {
    const store = await opened;
    if (m.id === CLOSE) {
      clearInterval(checkpoints);
      clearInterval(timed);
      // One last round (the fold of what is pending): whatever it leaves, the next start's does.
      if (every) await Promise.resolve(every.run(depsOf(store))).catch(() => {});
      await store.close();
      port.close();
      return;
    }
    const deps = depsOf(store);
    now = m.now;
    let reply: Reply;
    try {
      reply = { id: m.id, ok: true, value: await tasks[m.task]!(deps, m.input as never) };
    } catch (err) {
      reply = { id: m.id, ok: false, error: toFailure(err) };
    }
    port.postMessage(reply, reply.ok ? ownBuffer(reply.value) : []);
  }
}

/**
 * A task's answer made of bytes (a finished body: CSV, JSON) is moved to the serving thread rather
 * than copied there, which spares that thread an allocation and a copy of up to a few MB. Only a
 * buffer that is exactly the answer, or one lent with it (body-pool.ts: the body is its start): a
 * view into a shared one (Node's small Buffers come from a pool) is copied as before. A task that
 * returns bytes gives them away.
 */
function ownBuffer(value: unknown): ArrayBuffer[] {
  return value instanceof Uint8Array &&
    value.buffer instanceof ArrayBuffer &&
    value.byteOffset === 0 &&
    (value.byteLength === value.buffer.byteLength || isLent(value.buffer))
    ? [value.buffer]
    : [];
}

function toFailure(err: unknown): Failure | string {
  if (err instanceof AppError) {
    return {
      status: err.status,
      code: err.code,
      message: err.message,
      ...(err.issues && { issues: err.issues }),
    };
  }
  return String((err as Error)?.stack ?? err);
}

function toError(f: Failure | string): Error {
  return typeof f === 'string' ? new Error(f) : new AppError(f.status, f.code, f.message, f.issues);
}
