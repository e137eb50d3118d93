import { sql } from 'drizzle-orm';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DAY } from '../../server/clock.ts';
import { rows } from '../../server/db/transaction.ts';
import { applyRetention, retentionJob } from '../../server/jobs/retention.ts';
import { recordEvents } from '../../server/usage/record-events.ts';
import { recordUsage } from '../helpers/history.ts';
import { createTestDeps, forEachStore, T0, type TestDeps } from '../helpers/store.ts';

let deps: TestDeps;
const env = {
  KEYWATCH_RETENTION_MINUTE_DAYS: '30',
  KEYWATCH_RETENTION_EVENT_DAYS: '30',
  KEYWATCH_RETENTION_HOUR_DAYS: '60',
  KEYWATCH_RETENTION_PROJECT_DAYS: '5',
};
afterEach(() => deps.cleanup());

/** `table` is one of the constants of these tests. */
const count = async (table: string) =>
  (await rows<{ n: number }>(deps.db, sql`SELECT count(*) AS n FROM ${sql.raw(table)}`))[0]!.n;

describe('retention', () =>
  forEachStore((_kind, open) => {
    beforeEach(async () => {
      deps = await open(env);
    });

    it('drops old minute rows and events, keeps hourly longer and daily forever', async () => {
      const ages = [1, 10, 45, 90, 400];
      await recordUsage(
        deps,
        ages.map((age, i) => ({
          source: 'test',
          eventId: `e${i}`,
          key: { by: 'ref' as const, value: 'k' },
          ts: T0 - age * DAY,
          credits: 10,
          requests: 1,
          status: 200,
          operation: 'face-swap',
          projectId: `p${i}`,
        })),
      );
      expect(await applyRetention(deps)).toEqual({
        usage_minute: 3,
        usage_hour: 2,
        usage_minute_total: 3,
        usage_events: 3,
        key_networks: 0,
        // Each old day had one IP row and one agent row ('' when not reported).
        key_clients: 6,
        usage_hour_total: 2,
        // Only the project of a day ago can still get its final credits.
        projects: 4,
      });
      expect(await count('projects')).toBe(1);
      expect(await count('usage_minute')).toBe(2);
      expect(await count('usage_events')).toBe(2);
      expect(await count('key_clients')).toBe(4);
      expect(await count('usage_hour')).toBe(3);
      expect(await count('usage_day')).toBe(5);
      expect(Object.values(await applyRetention(deps)).every((n) => n === 0)).toBe(true);
    });
  }));

describe('retention on SQLite', () => {
  beforeEach(() => {
    deps = createTestDeps(env);
  });

  it('deletes old buckets key by key, each key keeping its recent rows', async () => {
    const keys = ['a', 'b', 'c'];
    await recordUsage(
      deps,
      keys.flatMap((k) =>
        [5, 35, 50, 70].map((age) => ({
          source: 'test',
          eventId: `${k}${age}`,
          key: { by: 'ref' as const, value: k },
          ts: T0 - age * DAY,
          credits: 1,
          requests: 1,
          status: 200,
          operation: 'face-swap',
        })),
      ),
    );
    const deleted = await applyRetention(deps);
    expect([deleted.usage_minute, deleted.usage_hour]).toEqual([9, 3]);
    const left = (table: string) =>
      deps.sqlite
        .prepare(`SELECT key_id, count(*) AS n FROM ${table} GROUP BY key_id ORDER BY key_id`)
        .all()
        .map((r) => (r as { n: number }).n);
    expect(left('usage_minute')).toEqual([1, 1, 1]);
    expect(left('usage_hour')).toEqual([3, 3, 3]);
  });

  it('hands the freed pages back to the disk: the file shrinks after a big delete', async () => {
    expect(deps.sqlite.pragma('auto_vacuum', { simple: true })).toBe(2);
    const events = Array.from({ length: 20_000 }, (_, i) => ({
      source: 'test',
      eventId: `old${i}`,
      key: { by: 'ref' as const, value: `k${i % 50}` },
      ts: T0 - 40 * DAY + i * 1000,
      credits: 1,
      requests: 1,
      status: 200,
      operation: 'face-swap',
      userAgent: `agent-${i}`.padEnd(200, 'x'),
    }));
    recordEvents(deps, events);
    const pages = () => deps.sqlite.pragma('page_count', { simple: true }) as number;
    const before = pages();
    await applyRetention(deps);
    expect(deps.sqlite.pragma('freelist_count', { simple: true })).toBe(0);
    expect(pages()).toBeLessThan(before / 2);
  });

  it('runs as a job on its own worker thread, never on the serving thread', async () => {
    await recordUsage(deps, [
      {
        source: 'test',
        eventId: 'old',
        key: { by: 'ref' as const, value: 'k' },
        ts: T0 - 45 * DAY,
        credits: 1,
        requests: 1,
        status: 200,
        operation: 'face-swap',
        projectId: 'p-old',
      },
    ]);
    // A TEMP trigger lives on this connection only: a delete from the serving thread would fail.
    deps.sqlite.exec(
      `CREATE TEMP TRIGGER not_here BEFORE DELETE ON usage_events BEGIN SELECT RAISE(ABORT, 'deleted on the serving thread'); END`,
    );
    const job = retentionJob(deps);
    try {
      await job.run();
      expect(await count('usage_events')).toBe(0);
      expect(await count('projects')).toBe(0);
    } finally {
      await job.close();
      deps.sqlite.exec('DROP TRIGGER temp.not_here');
    }
  });
});
