/**
 * Background threads yield the CPU to the serving thread: the push worker, the gateway's usage
 * writer and the dashboard's reads run at a lower scheduling priority than the thread that serves
 * requests (Linux: a nice value per thread, read back from /proc).
 */
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { getPriority } from 'node:os';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createDetectionWorker } from '../../server/detection/detect-worker.ts';
import { BACKGROUND_NICE, lowerThreadPriority, startWorker } from '../../server/http/worker-thread.ts';
import { createUsageQueue } from '../../server/ingest/gateway/usage-queue.ts';
import { createPushWorker } from '../../server/ingest/push/routes.ts';
import { dashboardReadsFor } from '../../web/dashboard-reads.ts';
import { createTestDeps, T0, type TestDeps } from '../helpers/store.ts';

const linux = process.platform === 'linux';
let deps: TestDeps;

beforeEach(() => {
  deps = createTestDeps();
});
afterEach(() => deps.cleanup());

/** Nice value of every thread of this process, by thread id. */
function threadNices(): Map<number, number> {
  const out = new Map<number, number>();
  for (const tid of readdirSync('/proc/self/task')) {
    const stat = readFileSync(`/proc/self/task/${tid}/stat`, 'utf8');
    // After "(comm) ": state is field 3; nice is field 19, so index 16 here.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    out.set(Number(tid), Number(fields[16]));
  }
  return out;
}

const threadsAt = (nice: number) => [...threadNices().values()].filter((n) => n === nice).length;
const thisThread = () => Number(readlinkSync('/proc/thread-self').split('/').pop());

describe.runIf(linux)('background thread priority', () => {
  it('does nothing on the main thread', () => {
    const before = getPriority(thisThread());
    expect(lowerThreadPriority(19)).toBeNull();
    expect(getPriority(thisThread())).toBe(before);
  });

  it("runs the push worker at the writer's priority and leaves the serving thread alone", async () => {
    const serving = getPriority(thisThread());
    const before = threadsAt(BACKGROUND_NICE.writer);
    const worker = createPushWorker(deps);
    try {
      const body = new TextEncoder().encode(
        JSON.stringify({ events: [{ id: 'p1', key: 'k1', ts: T0 - 60_000, credits: 3 }] }),
      ).buffer;
      expect(await worker.run('push', { body })).toMatchObject({ accepted: 1 });
      expect(threadsAt(BACKGROUND_NICE.writer)).toBe(before + 1);
      expect(getPriority(thisThread())).toBe(serving);
    } finally {
      await worker.close();
    }
  });

  it('runs the gateway usage writer below the serving thread', async () => {
    const serving = getPriority(thisThread());
    const before = threadsAt(BACKGROUND_NICE.writer);
    const queue = createUsageQueue(deps, { writer: 'thread', journalDir: null });
    try {
      await queue.ready();
      expect(threadsAt(BACKGROUND_NICE.writer)).toBe(before + 1);
      expect(getPriority(thisThread())).toBe(serving);
    } finally {
      await queue.stop();
    }
  });

  it('runs the dashboard reads between them: above the writers and detection, below the serving thread', async () => {
    const serving = getPriority(thisThread());
    const before = threadsAt(BACKGROUND_NICE.interactive);
    const reads = dashboardReadsFor(deps);
    try {
      await reads.run('usage', { from: T0 - 3_600_000, to: T0, step: 'hour', page: {} });
      expect(threadsAt(BACKGROUND_NICE.interactive)).toBe(before + 1);
      expect(BACKGROUND_NICE.interactive).toBeGreaterThan(serving);
      expect(BACKGROUND_NICE.interactive).toBeLessThan(BACKGROUND_NICE.writer);
    } finally {
      await reads.close();
    }
  });

  it('runs the detection worker below the serving thread, beside the usage writer', async () => {
    const serving = getPriority(thisThread());
    const before = threadsAt(BACKGROUND_NICE.writer);
    const worker = createDetectionWorker(deps);
    try {
      await worker.run({ until: T0 });
      expect(threadsAt(BACKGROUND_NICE.writer)).toBe(before + 1);
      expect(getPriority(thisThread())).toBe(serving);
    } finally {
      await worker.close();
    }
  });
});

describe('background thread memory', () => {
  it("caps each thread's young generation, which V8 would otherwise grow to 32 MB and keep", async () => {
    const worker = startWorker(new URL('../helpers/young-garbage-thread.ts', import.meta.url), {});
    const peakMb = await new Promise<number>((resolve, reject) => {
      worker.once('message', resolve);
      worker.once('error', reject);
    });
    await worker.terminate();
    expect(peakMb).toBeGreaterThan(0);
    expect(peakMb).toBeLessThanOrEqual(12);
  });
});
