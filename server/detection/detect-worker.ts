/**
 * The serving thread's handle on the detection worker (detect-worker-thread.ts): posts a run and
 * resolves with the worker's answer, so the thread that serves requests does no detection work.
 * The worker starts on first use. If it fails, the error is logged, runs waiting on it fail, and
 * the next run starts a new one (its states are read back and caught up from the database).
 */
import type { Worker } from 'node:worker_threads';
import type { Config } from '../config.ts';
import { AppError } from '../errors.ts';
import { startWorker } from '../http/worker-thread.ts';
import type { Logger } from '../log.ts';
import type { RunResult } from './run-detection.ts';
import type { DetectionRunner, RunOptions } from './runner.ts';

export type WorkerRequest =
  | { type: 'run'; id: number; now: number; options: RunOptions }
  | { type: 'close'; now: number };
export type WorkerReply =
  | { type: 'result'; id: number; ok: true; result: RunResult; threadId: number }
  | {
      type: 'result';
      id: number;
      ok: false;
      error: { message: string; status?: AppError['status']; code?: string; stack: string };
    }
  | {
      type: 'log';
      level: 'debug' | 'info' | 'warn' | 'error';
      msg: string;
      fields?: Record<string, unknown>;
    };

const THREAD = new URL('./detect-worker-thread.ts', import.meta.url);

export type DetectionWorker = DetectionRunner & {
  /** The thread id of the run that answered last (tests: proof the run was not on this thread). */
  lastThreadId(): number | null;
};

export function createDetectionWorker(deps: {
  config: Config;
  clock: { now(): number };
  log: Logger;
}): DetectionWorker {
  let worker: Worker | null = null;
  let nextId = 0;
  let answeredBy: number | null = null;
  let closed = false;
  const pending = new Map<number, { resolve(r: RunResult): void; reject(e: Error): void }>();

  const failAll = (message: string) => {
    for (const p of pending.values()) p.reject(new Error(message));
    pending.clear();
  };

  const start = () => {
    // The worker opens the store `config.storage` names (a SQLite file or a PostgreSQL database).
    const w = startWorker(THREAD, { config: deps.config });
    // Idle, it does not keep the process alive; with a run pending it does (see run()).
    w.unref();
    w.on('message', (reply: WorkerReply) => {
      if (reply.type === 'log') {
        deps.log[reply.level](reply.msg, { thread: 'detection', ...reply.fields });
        return;
      }
      const p = pending.get(reply.id);
      pending.delete(reply.id);
      if (pending.size === 0) w.unref();
      if (!p) return;
      if (reply.ok) {
        answeredBy = reply.threadId;
        p.resolve(reply.result);
        return;
      }
      const { message, status, code, stack } = reply.error;
      if (status === undefined || status >= 500) deps.log.error('detection run failed', { error: stack });
      p.reject(
        status !== undefined && code !== undefined ? new AppError(status, code, message) : new Error(message),
      );
    });
    w.on('error', (err) => {
      deps.log.error('detection worker failed; it restarts on the next run', {
        error: String(err.stack ?? err),
      });
      failAll(`detection worker failed: ${err.message}`);
    });
    w.on('exit', () => {
      if (worker === w) worker = null;
      failAll('detection worker exited');
    });
    return w;
  };

  return {
    offThread: true,
    run(options) {
      if (closed) return Promise.reject(new AppError(503, 'unavailable', 'Detection is stopping.'));
      worker ??= start();
      const id = nextId++;
      const message: WorkerRequest = { type: 'run', id, now: deps.clock.now(), options };
      return new Promise((resolve, reject) => {
        pending.set(id, { resolve, reject });
        worker!.ref();
        worker!.postMessage(message);
      });
    },
    async close() {
      closed = true;
      const w = worker;
      if (!w) return;
      worker = null;
      // Held while it finishes: an idle (unref'd) thread would let a process with nothing else
      // running exit in the middle of this await.
      w.ref();
      const exited = new Promise<void>((resolve) => w.once('exit', () => resolve()));
      w.postMessage({ type: 'close', now: deps.clock.now() } satisfies WorkerRequest);
      await exited;
    },
    lastThreadId: () => answeredBy,
  };
}
