/**
 * Starts a worker thread on one of the server's thread modules, from the sources or from the
 * compiled build. From the sources, a worker does not inherit the main thread's tsx loader, so
 * worker-boot.mjs registers it before importing the TypeScript module. From the compiled build
 * (server/.build/, where the caller is part of a .js bundle) each thread module is a bundle of its
 * own beside it, named after the module (server/build.mjs lists them), and plain Node runs it.
 */
import { Worker } from 'node:worker_threads';

const COMPILED = import.meta.url.endsWith('.js');
const BOOT = new URL('./worker-boot.mjs', import.meta.url);

/** `entry`: the thread module's URL, as `new URL('./x-thread.ts', import.meta.url)` in its caller. */
export function startWorker(entry: URL, workerData: Record<string, unknown>): Worker {
  if (COMPILED) {
    const name = entry.pathname.slice(entry.pathname.lastIndexOf('/') + 1).replace(/\.ts$/, '.js');
    return new Worker(new URL(`./${name}`, import.meta.url), { workerData });
  }
  return new Worker(BOOT, { workerData: { ...workerData, entry: entry.href } });
}
