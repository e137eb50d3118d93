/**
 * The detection worker: its own connection to the store (on SQLite: WAL, busy_timeout, it writes
 * beside the serving thread; on PostgreSQL: a small pool of its own) and the whole pipeline of a run, from the minutes through the incident lifecycle to the
 * alert listener's outbox rows, in the same transactions as in-thread runs. Nothing here needs the
 * serving thread: the outbox job there sends what this queues. One run at a time, in order; each
 * request gets exactly one answer. Its states stay held between runs (run-detection.ts).
 */
import { parentPort, threadId, workerData } from 'node:worker_threads';
import { createAlertListener } from '../alerts/notify.ts';
import type { Config } from '../config.ts';
import { openStorage, type Storage } from '../db/storage.ts';
import type { Deps } from '../deps.ts';
import { AppError } from '../errors.ts';
import { BACKGROUND_NICE, lowerThreadPriority } from '../http/worker-thread.ts';
import type { Logger } from '../log.ts';
import type { WorkerReply, WorkerRequest } from './detect-worker.ts';
import { runDetection, writeHeldStates } from './run-detection.ts';

const port = parentPort!;
// Below the serving thread, but not at the bottom like push and backtests: it holds the write lock
// a few ms at a time every minute, and a thread starved while holding it keeps writers waiting.
lowerThreadPriority(BACKGROUND_NICE.writer);
const { config } = workerData as { config: Config };
// The serving thread has migrated the database already. Opened once, before the first request is
// handled (requests queue behind it); a store that cannot be opened fails each run with its reason.
// Runs here are one at a time, so a PostgreSQL pool of two connections is plenty.
// No checkpoint inside detection's commits (SQLite): a first replay writes thousands of states, and
// the default checkpoint every 1,000 WAL pages copied them back inside its commits (a 0.8-6 s
// COMMIT in the worker's log). The gateway writer thread checkpoints every 5 s between its commits.
const opening: Promise<Storage> = openStorage(config.storage, { migrate: false, max: 2, checkpoints: false });
opening.catch(() => {});
/** Each run is judged at the serving thread's now (a fake clock in tests). */
let now = 0;
const level = (at: 'debug' | 'info' | 'warn' | 'error') => (msg: string, fields?: Record<string, unknown>) =>
  port.postMessage({ type: 'log', level: at, msg, ...(fields && { fields }) } satisfies WorkerReply);
const log: Logger = {
  debug: level('debug'),
  info: level('info'),
  warn: level('warn'),
  error: level('error'),
};
let ready: { deps: Deps; listener: ReturnType<typeof createAlertListener>; store: Storage } | undefined;
async function open() {
  if (ready) return ready;
  const store = await opening;
  const deps: Deps = { db: store.db, sqlite: store.sqlite, clock: { now: () => now }, config, log };
  ready = { deps, listener: createAlertListener(deps), store };
  return ready;
}
/**
 * Between two of a run's write transactions the worker sleeps PAUSE_MS: SQLite's busy handler on
 * the serving thread retries 1, 3 and 8 ms after it began waiting, so with each transaction
 * holding the lock a few ms, a waiting writer finds it free within about 8 ms.
 */
const PAUSE_MS = 10;
const sleeper = new Int32Array(new SharedArrayBuffer(4));
const pause = () => {
  Atomics.wait(sleeper, 0, 0, PAUSE_MS);
};

// One request at a time, in order: a run awaits its queries, and on PostgreSQL a second run (or
// the close) arriving meanwhile would otherwise start beside it.
let queue = Promise.resolve();
port.on('message', (m: WorkerRequest) => {
  queue = queue.then(() => handle(m));
});

async function handle(m: WorkerRequest): Promise<void> {
  if (m.type === 'close') {
    now = m.now;
    try {
      const { deps } = await open();
      await writeHeldStates(deps);
    } catch (err) {
      log.error('detection worker could not store its states on close', { error: String(err) });
    } finally {
      await (await opening.catch(() => null))?.close();
      port.close();
    }
    return;
  }
  now = m.now;
  let reply: WorkerReply;
  try {
    const { deps, listener } = await open();
    const result = await runDetection(deps, { ...m.options, listener, pause });
    reply = { type: 'result', id: m.id, ok: true, result, threadId };
  } catch (err) {
    const e = err as Error;
    reply = {
      type: 'result',
      id: m.id,
      ok: false,
      error: {
        message: e.message,
        ...(e instanceof AppError && { status: e.status, code: e.code }),
        stack: e.stack ?? '',
      },
    };
  }
  port.postMessage(reply);
}
