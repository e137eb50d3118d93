/** The gateway's recording queue on its own: background writes on the writer thread, retry, shutdown. */
import { mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { systemClock } from '../../../server/clock.ts';
import { openStore } from '../../../server/db/client.ts';
import {
  createUsageQueue,
  type QueuedUsage,
  type UsageQueue,
} from '../../../server/ingest/gateway/usage-queue.ts';
import { writeUsageBatchNow } from '../../../server/ingest/gateway/write-batch.ts';
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
  // serve opens its own connection without checkpoints (a commit there must not copy a worker's
  // megabytes of WAL with the event loop blocked): the writer thread's connection does them.
  it('checkpoints the WAL for a connection that never does, so it stays bounded', async () => {
    const serving = openStore(deps.dbPath, { migrate: false, checkpoints: false });
    try {
      expect(serving.sqlite.pragma('wal_autocheckpoint', { simple: true })).toBe(0);
      queue = createUsageQueue(deps, { delayMs: 60_000 });
      await queue.ready();
      serving.sqlite.exec('CREATE TABLE filler (b BLOB)');
      const fill = () =>
        serving.sqlite.transaction(() => {
          for (let i = 0; i < 2_000; i++)
            serving.sqlite.prepare('INSERT INTO filler VALUES (randomblob(4000))').run();
        })();
      const walSize = () => statSync(`${deps.dbPath}-wal`).size;
      // The test's own connection must not checkpoint either.
      deps.sqlite.pragma('wal_autocheckpoint = 0');
      fill();
      const afterOne = walSize();
      // Once the writer thread has copied it back, the next writes reuse the WAL from its start.
      await new Promise((r) => setTimeout(r, 6_000));
      fill();
      expect(walSize()).toBeLessThan(afterOne * 1.5);
    } finally {
      serving.close();
    }
  }, 20_000);

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

  // A journaled event is held as its line alone (less for the serving thread's GC to copy): what is
  // stored, on the thread or inline, is the event as pushed, whatever its object becomes afterwards.
  it('stores each journaled event as it was pushed, keeping no hold on the pushed object', async () => {
    queue = createUsageQueue(deps, { delayMs: 60_000, writer: 'inline' });
    const items = usage(20);
    for (const item of items) queue.push(item);
    for (const item of items) item.event.credits = 1_000;
    expect(items[0]).not.toHaveProperty('line');
    expect(queue.flush()).toBe(true);
    expect(stored()).toEqual({ events: 20, credits: 100, requests: 20 });
  });

  it('stop() writes what is still queued and ends the writer thread', async () => {
    queue = createUsageQueue(deps, { delayMs: 0 });
    for (const item of usage(50)) queue.push(item);
    expect(await queue.stop()).toBe(0);
    expect(stored()).toEqual({ events: 50, credits: 250, requests: 50 });
  });

  it('journals every pushed event until it is stored, and a queue started later stores what a dead one left, once', async () => {
    const journalDir = `${deps.dbPath}.journal`;
    deps.sqlite.exec(
      `CREATE TRIGGER fail_writes BEFORE INSERT ON usage_events BEGIN SELECT RAISE(ABORT, 'storage unavailable'); END`,
    );
    const first = createUsageQueue(deps, { delayMs: 0 });
    for (const item of usage(30)) first.push(item);
    await until(() => first.stats().last_error !== null);
    expect(first.stats().journal).toEqual({ pending: 30, files: 1, error: null });
    const [file] = readdirSync(journalDir);
    expect(readFileSync(join(journalDir, file!), 'utf8').trim().split('\n')).toHaveLength(30);
    const left = readFileSync(join(journalDir, file!), 'utf8');
    expect(await first.stop()).toBe(30);
    rmSync(journalDir, { recursive: true });
    deps.sqlite.exec('DROP TRIGGER fail_writes');
    // Stored already before the kill: the first 10 (the next start must not double them).
    writeUsageBatchNow(deps.sqlite, usage(10), T0);
    // As a dead process's file (an unused pid), with a line cut short by the kill.
    mkdirSync(journalDir);
    writeFileSync(join(journalDir, `999999999-deadbeef-0.jsonl`), `${left}{"event":{"sou`);

    queue = createUsageQueue(deps, { delayMs: 0 });
    await until(() => queue!.stats().size === 0 && queue!.stats().journal?.files === 0);
    expect(stored()).toEqual({ events: 30, credits: 150, requests: 30 });
    expect(readdirSync(journalDir)).toEqual([]);
  });

  it("writes a quiet turn's first event at once, the rest of the turn in one write, and releases answers only after their lines", async () => {
    queue = createUsageQueue(deps, { delayMs: 60_000, releaseAfterMs: 50 });
    const journalDir = `${deps.dbPath}.journal`;
    const onDisk = () => {
      const [file] = readdirSync(journalDir);
      return file ? readFileSync(join(journalDir, file), 'utf8').split('\n').filter(Boolean).length : 0;
    };
    const released: number[] = [];
    for (const item of usage(3)) queue.push(item);
    for (let i = 0; i < 3; i++) queue.journaled(() => released.push(onDisk()));
    // The first line went at once (no turn before was busy); the other two wait for the turn's one
    // write, and so do their answers.
    expect(onDisk()).toBe(1);
    expect(released).toEqual([]);
    await until(() => released.length === 3);
    // Each answer saw all three lines on disk when it was released.
    expect(released).toEqual([3, 3, 3]);
    // release(): the next request's work does not keep an answer waiting long, but a moment is allowed.
    for (const item of usage(2, 10)) queue.push(item);
    queue.journaled(() => released.push(onDisk()));
    queue.release();
    expect(released).toEqual([3, 3, 3]);
    const since = performance.now();
    while (performance.now() - since < 60) {}
    queue.release();
    expect(released).toEqual([3, 3, 3, 5]);
    // With nothing waiting, an answer goes out at once.
    let now = false;
    queue.journaled(() => {
      now = true;
    });
    expect(now).toBe(true);
    // Right after a busy turn (two lines) the next turn's first line waits for that turn's end too:
    // more are likely to follow, and they share its one write.
    await new Promise((resolve) => setImmediate(resolve));
    for (const item of usage(1, 20)) queue.push(item);
    let afterBusy = 0;
    queue.journaled(() => {
      afterBusy = onDisk();
    });
    expect(afterBusy).toBe(0);
    await new Promise((resolve) => setImmediate(resolve));
    expect(afterBusy).toBe(6);
    // A quiet moment's one answer never waits for the end of the turn: its line is written at once.
    for (const item of usage(1, 30)) queue.push(item);
    let alone = 0;
    queue.journaled(() => {
      alone = onDisk();
    });
    expect(alone).toBe(7);
    expect(await queue.stop()).toBe(0);
    expect(stored().events).toBe(7);
  });

  it('deletes a segment once its events are stored, and leaves what is not stored at stop for the next start', async () => {
    queue = createUsageQueue(deps, { delayMs: 0 });
    for (const item of usage(5)) queue.push(item);
    expect(readdirSync(`${deps.dbPath}.journal`)).toHaveLength(1);
    await until(() => queue!.stats().size === 0);
    expect(readdirSync(`${deps.dbPath}.journal`)).toEqual([]);
    await queue.stop();

    deps.sqlite.exec(
      `CREATE TRIGGER fail_writes BEFORE INSERT ON usage_events BEGIN SELECT RAISE(ABORT, 'storage unavailable'); END`,
    );
    queue = createUsageQueue(deps, { delayMs: 0 });
    for (const item of usage(4, 100)) queue.push(item);
    expect(await queue.stop()).toBe(4);
    expect(readdirSync(`${deps.dbPath}.journal`)).toHaveLength(1);
    deps.sqlite.exec('DROP TRIGGER fail_writes');
    // Same pid, another instance: a restart in a container reuses pid 1.
    queue = createUsageQueue(deps, { delayMs: 0 });
    await until(() => queue!.stats().size === 0 && queue!.stats().journal?.files === 0);
    expect(stored()).toEqual({ events: 9, credits: 45, requests: 9 });
  });

  it('keeps events in memory and stores them when the journal cannot be written, saying so', async () => {
    // A file where the journal folder should be: nothing can be opened in it.
    const journalDir = join(`${deps.dbPath}.blocked`, 'journal');
    writeFileSync(`${deps.dbPath}.blocked`, '');
    queue = createUsageQueue(deps, { delayMs: 0, journalDir });
    for (const item of usage(7)) queue.push(item);
    await until(() => queue!.stats().size === 0);
    expect(stored()).toEqual({ events: 7, credits: 35, requests: 7 });
    expect(queue.stats().journal).toMatchObject({ pending: 0, files: 0 });
    expect(queue.stats().journal?.error).toMatch(/journal/);
  });

  it('writes inline, in slices, when the database is in memory', async () => {
    const store = openStore(':memory:');
    const memory = createUsageQueue(
      {
        sqlite: store.sqlite,
        clock: systemClock,
        log: silentLogger,
        config: { storage: { kind: 'sqlite', path: ':memory:' }, dataDir: '' },
      },
      { delayMs: 0 },
    );
    for (const item of usage(250)) memory.push(item);
    await until(() => memory.stats().size === 0);
    expect(store.sqlite.prepare('SELECT count(*) AS n FROM usage_events').get()).toEqual({ n: 250 });
    expect(await memory.stop()).toBe(0);
    store.close();
  });
});
