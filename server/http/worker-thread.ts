/**
 * Starts a worker thread on one of the server's thread modules, from the sources or from the
 * compiled build. From the sources, a worker does not inherit the main thread's tsx loader, so
 * worker-boot.mjs registers it before importing the TypeScript module. From the compiled build
 * (server/.build/, where the caller is part of a .js bundle) each thread module is a bundle of its
 * own beside it, named after the module (server/build.mjs lists them), and plain Node runs it.
 *
 * Background threads lower their own scheduling priority (lowerThreadPriority): on a small machine
 * the thread that serves the gateway must get the CPU first, and a push batch, a backtest or a
 * batch of usage writes can wait a few milliseconds more.
 */
import { readlinkSync } from 'node:fs';
import { setPriority } from 'node:os';
import { isMainThread, type ResourceLimits, Worker } from 'node:worker_threads';

// The sources are .ts; the build is .cjs (the CLI's bundle) or .js (a thread's, starting another).
const COMPILED = !import.meta.url.endsWith('.ts');
const BOOT = new URL('./worker-boot.mjs', import.meta.url);

/** `entry`: the thread module's URL, as `new URL('./x-thread.ts', import.meta.url)` in its caller. */
export function startWorker(
  entry: URL,
  workerData: Record<string, unknown>,
  limits: ResourceLimits = {},
): Worker {
  const resourceLimits = { ...WORKER_LIMITS, ...limits };
  if (COMPILED) {
    const name = entry.pathname.slice(entry.pathname.lastIndexOf('/') + 1).replace(/\.ts$/, '.js');
    return new Worker(new URL(`./${name}`, import.meta.url), { workerData, resourceLimits });
  }
  return new Worker(BOOT, { workerData: { ...workerData, entry: entry.href }, resourceLimits });
}

/**
 * Each thread has a V8 heap of its own, and V8 lets a heap's young generation grow to two 16 MB
 * semi-spaces before collecting it less often: a worker that once read a day of minutes or parsed
 * a large batch keeps that resident while idle (the detection worker held 16 MB of young space
 * for 10 MB of live objects; capped, the process is 10 MB smaller once detection has run). Rows
 * here die young (read, summed, dropped), so the cost is more, smaller scavenges: no change in
 * the push path's CPU per event (npm run bench ingest). Old space is not capped: a worker that
 * ran out would die mid-task.
 */
const WORKER_LIMITS = { maxYoungGenerationSizeMb: 12 };

/** Nice values of the background threads (0 is the serving thread's; 19 the lowest priority). */
export const BACKGROUND_NICE = {
  /**
   * The gateway's usage writer, detection and push ingest: they keep up with time, hold the write
   * lock briefly, and a push client waits for its batch's answer (at 19, any other busy process on
   * the host halved push throughput).
   */
  writer: 10,
  /**
   * The dashboard's reads (pages, exports, GET /api/v1/usage): somebody is waiting for each answer,
   * so they come before the background writers and detection (about 3:1 on a shared core), while
   * the serving thread still keeps about three times their share.
   */
  interactive: 5,
  /** Backtests: long CPU-bound work nobody waits on by the millisecond. */
  heavy: 19,
} as const;

/**
 * Lowers the calling thread's CPU priority to `nice` (Linux only: there a thread is a task with its
 * own nice value, and setpriority on its TID affects that thread alone; elsewhere setpriority on an
 * id would reach the whole process, so nothing is done). Call it first thing inside a worker thread;
 * on the main thread it does nothing.
 * Returns the thread's id when it was lowered, null when it was not (not Linux, not allowed).
 */
export function lowerThreadPriority(nice: number): number | null {
  // On the main thread it would slow the very thread it is meant to protect.
  if (process.platform !== 'linux' || isMainThread) return null;
  try {
    // "/proc/thread-self" links to "<pid>/task/<tid>" for the thread that reads it.
    const tid = Number(readlinkSync('/proc/thread-self').split('/').pop());
    if (!Number.isInteger(tid) || tid <= 0) return null;
    setPriority(tid, nice);
    return tid;
  } catch {
    // No /proc (a container without it), or a sandbox that refuses setpriority: run at normal priority.
    return null;
  }
}
