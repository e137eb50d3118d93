/**
 * Task workers (push, backtests) commit without checkpointing: SQLite's default checkpoint every
 * 1,000 WAL pages ran inside push commits (with its fsyncs), half of a batch's time.
 */
import { statSync } from 'node:fs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createTaskWorker } from '../../server/http/task-worker.ts';
import { createPushWorker } from '../../server/ingest/push/routes.ts';
import { bytesTasks } from '../helpers/bytes-tasks-worker.ts';
import { createTestDeps, T0, type TestDeps } from '../helpers/store.ts';

let deps: TestDeps;

beforeEach(() => {
  deps = createTestDeps();
});
afterEach(() => deps.cleanup());

describe('task worker connection', () => {
  it('leaves a large commit in the WAL for the timer to checkpoint, not the commit itself', async () => {
    // Everything before the push in the database file, so only the push's pages are in the WAL.
    deps.sqlite.pragma('wal_checkpoint(TRUNCATE)');
    const fileBefore = statSync(deps.dbPath).size;
    // About 5 MB of rows: well past the 1,000 pages (4 MB) after which a default connection
    // checkpoints at commit, copying them into the database file.
    const events = Array.from({ length: 10_000 }, (_, i) => ({
      id: `c${i}`,
      key: `k${i % 50}`,
      ts: T0 - i * 1000,
      credits: 1,
      user_agent: `agent-${i}-${'x'.repeat(400)}`,
    }));
    const worker = createPushWorker(deps);
    try {
      const body = new TextEncoder().encode(JSON.stringify({ events })).buffer;
      expect(await worker.run('push', { body })).toMatchObject({ accepted: 10_000 });
      const wal = statSync(`${deps.dbPath}-wal`).size;
      expect(wal).toBeGreaterThan(1_000 * 4096);
      expect(statSync(deps.dbPath).size).toBe(fileBefore);
      // Committed all the same: another connection reads every row.
      expect(deps.sqlite.prepare('SELECT count(*) FROM usage_events').pluck().get()).toBe(10_000);
    } finally {
      await worker.close();
    }
  });
});

describe('answers made of bytes', () => {
  it('are moved to the caller, not copied, unless they are a view into a shared buffer', async () => {
    const worker = createTaskWorker(
      deps,
      new URL('../helpers/bytes-tasks-worker.ts', import.meta.url),
      bytesTasks,
    );
    try {
      const body = await worker.run('bytes', { size: 1_000_000, pooled: false });
      expect(body.byteLength).toBe(1_000_000);
      expect(body[999_999]).toBe(120);
      expect(await worker.run('keptLength', undefined)).toBe(0);

      const pooled = await worker.run('bytes', { size: 10, pooled: true });
      expect(Buffer.from(pooled).toString()).toBe('x'.repeat(10));
      expect(await worker.run('keptLength', undefined)).toBe(10);
    } finally {
      await worker.close();
    }
  });
});
