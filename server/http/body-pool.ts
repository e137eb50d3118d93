/**
 * Response body buffers reused across answers, per thread. A fresh buffer of a few MB is a page
 * fault per 4 KB the first time it is written (about 20 us each on the bench's VM: 15-20 ms for
 * the 3.4 MB page of a hundred keys, more than its formatting), and V8 gives it back to the kernel
 * once collected. So the thread that writes bodies (a task worker, encode-body.ts) keeps a couple
 * of buffers, lends a big one out with its body, and takes it back once the serving thread has
 * sent that body (TaskWorker.release, sentThen).
 */

/** Buffers kept while idle, and the largest kept: what a worker holds resident between answers. */
const MAX_SPARES = 2;
export const KEEP_BYTES = 8 * 1024 * 1024;

const spares: Uint8Array<ArrayBuffer>[] = [];
const lent = new WeakSet<ArrayBuffer>();

/** The largest spare buffer, or undefined. */
export function takeBuffer(): Uint8Array<ArrayBuffer> | undefined {
  return spares.shift();
}

/** A buffer to reuse (a detached or oversized one is dropped); the largest MAX_SPARES are kept. */
export function keepBuffer(buffer: Uint8Array<ArrayBuffer>): void {
  if (buffer.byteLength === 0 || buffer.byteLength > KEEP_BYTES || spares.includes(buffer)) return;
  spares.push(buffer);
  spares.sort((a, b) => b.byteLength - a.byteLength);
  spares.length = Math.min(spares.length, MAX_SPARES);
}

/** Marks a buffer as given away with a body shorter than it: moved whole to the thread that sends it. */
export function lend(buffer: ArrayBuffer): void {
  lent.add(buffer);
}

export const isLent = (buffer: ArrayBuffer) => lent.has(buffer);
