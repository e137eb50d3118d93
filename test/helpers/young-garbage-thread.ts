/**
 * A thread for worker-thread.test.ts: allocates rows that live a while (a batch being summed) and
 * reports the largest young generation (V8's new space, MB) it saw.
 */
import { getHeapSpaceStatistics } from 'node:v8';
import { parentPort } from 'node:worker_threads';

let rows: { i: number; key: string; credits: number }[] = [];
let peak = 0;
for (let i = 0; i < 800_000; i++) {
  rows.push({ i, key: `k${i % 200}`, credits: i * 0.5 });
  if (rows.length > 100_000) rows = [];
  if (i % 10_000 === 0) {
    const space = getHeapSpaceStatistics().find((s) => s.space_name === 'new_space');
    peak = Math.max(peak, space?.space_size ?? 0);
  }
}
parentPort?.postMessage(peak / 1024 / 1024);
