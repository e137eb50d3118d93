/** The gateway's recording queue on its own: background writes on the writer thread, retry, shutdown. */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { systemClock } from '../../../server/clock.ts';
import { openStore } from '../../../server/db/client.ts';
import {
  createUsageQueue,
  type QueuedUsage,
  type UsageQueue,
} from '../../../server/ingest/gateway/usage-queue.ts';
import { silentLogger } from '../../../server/log.ts';
import { rows } from '../../helpers/sources.ts';
import { createTestDeps, T0, type TestDeps } from '../../helpers/store.ts';

let deps: TestDeps;
let queue: UsageQueue | undefined;

beforeEach(() => {
  deps = createTestDeps();
});
afterEach(async () => {
  await queue?.stop();
  queue = undefined;
  deps.cleanup();
});

const usage = (n: number, from = 0): QueuedUsage[] =>
  Array.from({ length: n }, (_, i) => ({
    event: {
      source: 'gateway',
      eventId: `q.${from + i}`,
      key: { by: 'fingerprint', fingerprint: `sha256:${'ab'.repeat(32)}`, last4: 'ab12' },
      ts: T0,
      credits: 5,
      requests: 1,
      status: 200,
      operation: 'ai-image-generator',
    },
  }));

/** Waits (bounded) for the writer thread's answer to arrive on this thread. */
async function until(check: () => boolean) {
  for (let i = 0; i < 250 && !check(); i++) await new Promise((r) => setTimeout(r, 20));
  expect(check()).toBe(true);
}

const stored = () =>
  rows<{ events: number; credits: number; requests: number }>(
    deps,
    `SELECT (SELECT count(*) FROM usage_events) AS events, sum(credits) AS credits, sum(requests) AS requests
     FROM usage_minute`,
  )[0]!;

describe('usage queue', () => {
  it('writes in the background on the writer thread, booking buckets and discovering the key', async () => {
    // A TEMP trigger exists on this connection only: if the serving thread wrote, it would fail.
    deps.sqlite.exec(
      `CREATE TEMP TRIGGER not_here BEFORE INSERT ON usage_events BEGIN SELECT RAISE(ABORT, 'written inline'); END`,
    );
    queue = createUsageQueue(deps, { delayMs: 0 });
    for (const item of usage(3)) expect(queue.push(item)).toBe(true);
    await until(() => queue!.stats().size === 0 && queue!.stats().last_flush_at !== null);
    expect(stored()).toEqual({ events: 3, credits: 15, requests: 3 });
    expect(rows(deps, 'SELECT name, status FROM keys')).toEqual([
      { name: 'discovered-ab12', status: 'discovered' },
    ]);
    expect(rows(deps, 'SELECT DISTINCT received_at FROM usage_events')).toEqual([{ received_at: T0 }]);
    expect(queue.stats().last_error).toBeNull();
    deps.sqlite.exec('DROP TRIGGER temp.not_here');
  });

  it('keeps events queued while the thread cannot store them, then stores them once storage recovers', async () => {
    deps.sqlite.exec(
      `CREATE TRIGGER fail_writes BEFORE INSERT ON usage_events BEGIN SELECT RAISE(ABORT, 'storage unavailable'); END`,
    );
    queue = createUsageQueue(deps, { delayMs: 0, capacity: 2 });
    expect(queue.push(usage(1)[0]!)).toBe(true);
    expect(queue.push(usage(1, 1)[0]!)).toBe(true);
    expect(queue.push(usage(1, 2)[0]!)).toBe(false);
    await until(() => queue!.stats().last_error !== null);
    expect(queue.stats()).toMatchObject({ size: 2, dropped: 1, last_error: 'storage unavailable' });

    deps.sqlite.exec('DROP TRIGGER fail_writes');
    await until(() => queue!.stats().size === 0 && queue!.stats().last_error === null);
    expect(stored()).toEqual({ events: 2, credits: 10, requests: 2 });
  });

  it('flush() takes over a batch the thread is writing without booking it twice', async () => {
    queue = createUsageQueue(deps, { delayMs: 0, batchSize: 200 });
    for (const item of usage(1_000)) queue.push(item);
    await new Promise((r) => setTimeout(r, 5));
    expect(queue.flush()).toBe(true);
    expect(await queue.stop()).toBe(0);
    expect(stored()).toEqual({ events: 1_000, credits: 5_000, requests: 1_000 });
  });

  it('stop() writes what is still queued and ends the writer thread', async () => {
    queue = createUsageQueue(deps, { delayMs: 0 });
    for (const item of usage(50)) queue.push(item);
    expect(await queue.stop()).toBe(0);
    expect(stored()).toEqual({ events: 50, credits: 250, requests: 50 });
  });

  it('writes inline, in slices, when the database is in memory', async () => {
    const store = openStore(':memory:');
    const memory = createUsageQueue(
      { sqlite: store.sqlite, clock: systemClock, log: silentLogger },
      { delayMs: 0 },
    );
    for (const item of usage(250)) memory.push(item);
    await until(() => memory.stats().size === 0);
    expect(store.sqlite.prepare('SELECT count(*) AS n FROM usage_events').get()).toEqual({ n: 250 });
    expect(await memory.stop()).toBe(0);
    store.close();
  });
});
