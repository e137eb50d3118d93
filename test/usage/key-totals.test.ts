import type { SQL } from 'drizzle-orm';
/**
 * The per-key day and month sums (usage_key_day, usage_key_month) and the per-operation day sums
 * (usage_operation_day): written through with every
 * event, equal to the bucket rows summed over operations, and read by the rankings, key pages and
 * forecasts through their primary key (EXPLAIN QUERY PLAN on an analyzed table, as a big one is).
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DAY, HOUR } from '../../server/clock.ts';
import { statement } from '../../server/db/statements.ts';
import { loadForecastInput, rollupParts } from '../../server/forecast/query.ts';
import { createRng } from '../../server/simulate/random.ts';
import { recordEvents, type UsageEvent } from '../../server/usage/record-events.ts';
import { groupedSeries, keyRunsQuery } from '../../server/usage/series.ts';
import { createTestDeps, T0, type TestDeps } from '../helpers/store.ts';

let deps: TestDeps;
beforeEach(() => {
  deps = createTestDeps();
});
afterEach(() => deps.cleanup());

function randomEvents(count: number, keys: string[], from: number, to: number): UsageEvent[] {
  const rng = createRng(7);
  return Array.from({ length: count }, (_, i) => ({
    source: 'push',
    eventId: `e${i}`,
    key: { by: 'ref' as const, value: rng.pick(keys) },
    ts: from + Math.floor(rng.next() * (to - from)),
    credits: rng.pick([1, 5, 24, 120]),
    requests: rng.int(1, 3),
    status: rng.pick([200, 200, 401, 429]),
    operation: rng.pick(['face-swap', 'ai-image-generator', '']),
  }));
}

const rowsOf = (sql: string) => deps.sqlite.prepare(sql).all();

describe('per-key day and month sums', () => {
  it('are the day and month buckets summed over operations, batch after batch', () => {
    const events = randomEvents(2000, ['a', 'b', 'c'], T0 - 70 * DAY, T0);
    for (let i = 0; i < events.length; i += 300) recordEvents(deps, events.slice(i, i + 300));
    for (const [keyTable, table] of [
      ['usage_key_day', 'usage_day'],
      ['usage_key_month', 'usage_month'],
    ]) {
      const cols =
        'key_id, bucket, sum(credits) AS c, sum(requests) AS r, sum(errors) AS e, sum(auth_failures) AS a';
      expect(
        rowsOf(`SELECT ${cols} FROM ${keyTable} GROUP BY key_id, bucket ORDER BY key_id, bucket`),
      ).toEqual(rowsOf(`SELECT ${cols} FROM ${table} GROUP BY key_id, bucket ORDER BY key_id, bucket`));
    }
    expect(rowsOf('SELECT count(*) AS n FROM usage_key_month')).toEqual([{ n: 9 }]);
    const byOperation =
      'operation, bucket, sum(credits) AS c, sum(requests) AS r, sum(errors) AS e, sum(auth_failures) AS a';
    expect(
      rowsOf(
        `SELECT ${byOperation} FROM usage_operation_day GROUP BY operation, bucket ORDER BY operation, bucket`,
      ),
    ).toEqual(
      rowsOf(`SELECT ${byOperation} FROM usage_day GROUP BY operation, bucket ORDER BY operation, bucket`),
    );
  });
});

describe('series of every key', () => {
  it('read at once (ranked from their rows) equal the pages ranked from the rollups', async () => {
    const keys = Array.from({ length: 12 }, (_, i) => `k${i}`);
    recordEvents(deps, randomEvents(3000, keys, T0 - 80 * DAY, T0));
    for (const step of ['day', 'hour'] as const) {
      const range = { from: T0 - (step === 'day' ? 75 : 9) * DAY + 5 * HOUR, to: T0, step };
      const all = await groupedSeries(deps.db, range, 'key');
      const pages = [];
      for (const cursor of [0, 5, 10])
        pages.push(...(await groupedSeries(deps.db, range, 'key', { cursor, limit: 5 })).groups);
      expect(all.groups).toHaveLength(12);
      expect(all.groups).toEqual(pages);
      expect(all.groups.every((g) => g.key_id !== undefined)).toBe(true);
    }
  });
});

describe('forecast days from the day rollup', () => {
  it('reads whole UTC days from days where a UTC day is one local date, hours elsewhere', () => {
    const from = Date.UTC(2026, 0, 10, 5);
    const to = Date.UTC(2026, 0, 13, 7);
    expect(rollupParts(from, to, 'UTC')).toEqual([
      { resolution: 'hour', from, to: Date.UTC(2026, 0, 11) },
      { resolution: 'day', from: Date.UTC(2026, 0, 11), to: Date.UTC(2026, 0, 13) },
      { resolution: 'hour', from: Date.UTC(2026, 0, 13), to },
    ]);
    // London is UTC in winter; New York never is.
    expect(rollupParts(from, to, 'Europe/London').map((p) => p.resolution)).toEqual(['hour', 'day', 'hour']);
    expect(rollupParts(from, to, 'America/New_York')).toEqual([{ resolution: 'hour', from, to }]);
  });

  it('gives the same daily totals as the events, for a key, an environment and the account', async () => {
    deps.sqlite
      .prepare(`INSERT INTO keys (id, name, provider, status, environment, created_at, updated_at)
      VALUES ('a', 'a', 'magichour', 'active', 'production', 0, 0), ('b', 'b', 'magichour', 'active', 'staging', 0, 0)`)
      .run();
    const events = randomEvents(3000, ['a', 'b'], T0 - 60 * DAY, T0);
    recordEvents(deps, events);
    const byDate = (pick: (e: UsageEvent) => boolean) => {
      const out = new Map<string, number>();
      for (const e of events.filter(pick)) {
        const d = new Date(e.ts).toISOString().slice(0, 10);
        out.set(d, (out.get(d) ?? 0) + e.credits);
      }
      return out;
    };
    for (const [filter, pick] of [
      [{}, () => true],
      [{ keyId: 'a' }, (e: UsageEvent) => e.key.by === 'ref' && e.key.value === 'a'],
      [{ environment: 'staging' }, (e: UsageEvent) => e.key.by === 'ref' && e.key.value === 'b'],
    ] as const) {
      const { input } = await loadForecastInput(deps.db, T0, 'UTC', filter);
      const expected = byDate(pick);
      for (const d of [...input.history, ...input.monthToDate]) {
        expect(d.credits, `${JSON.stringify(filter)} ${d.date}`).toBe(expected.get(d.date) ?? 0);
      }
      expect(input.history.length).toBeGreaterThan(20);
    }
  });
});

describe('their queries read the primary key', () => {
  const plan = (sql: string, ...params: unknown[]) =>
    (statement(deps.sqlite, `EXPLAIN QUERY PLAN ${sql}`).all(...params) as { detail: string }[])
      .map((r) => r.detail)
      .join('\n');

  beforeEach(() => {
    // The shape of a big database: many keys, a run of days each, and the planner's statistics.
    const put = deps.sqlite.prepare(
      'INSERT INTO usage_key_day (key_id, bucket, credits, requests) VALUES (?, ?, 1, 1)',
    );
    deps.sqlite.transaction(() => {
      for (let k = 0; k < 200; k++) for (let d = 0; d < 120; d++) put.run(`key_${k}`, T0 - d * DAY);
    })();
    deps.sqlite.exec('ANALYZE usage_key_day');
  });

  it("a ranking over a range, and every key's rows, seek each key run, never the whole table", () => {
    expect(
      plan(
        'SELECT key_id, bucket, credits FROM usage_key_day WHERE bucket >= ? AND bucket < ?',
        T0 - 30 * DAY,
        T0,
      ),
    ).toMatch(/SEARCH usage_key_day USING PRIMARY KEY \(ANY\(key_id\) AND bucket>\? AND bucket<\?\)/);
    expect(
      plan(
        'SELECT key_id AS grp, sum(credits) FROM usage_key_day WHERE bucket >= ? AND bucket < ? GROUP BY key_id',
        T0 - 30 * DAY,
        T0,
      ),
    ).toMatch(/SEARCH usage_key_day USING PRIMARY KEY \(ANY\(key_id\) AND bucket>\? AND bucket<\?\)/);
  });

  it('the runs of a page of keys, and of every key, are read as ranges of the primary key', () => {
    const runsPlan = (keyIds: string[] | null) => {
      const q = (
        deps.db as unknown as { dialect: { sqlToQuery(q: SQL): { sql: string; params: unknown[] } } }
      ).dialect.sqlToQuery(keyRunsQuery(deps.db, { from: T0 - 30 * DAY, to: T0, step: 'day' }, keyIds));
      return plan(q.sql, ...q.params);
    };
    expect(runsPlan(['key_1', 'key_2'])).toMatch(
      /SEARCH usage_key_day USING PRIMARY KEY \(key_id=\? AND bucket>\? AND bucket<\?\)/,
    );
    // Every key: one descent per stored key (usage/every-key.ts), not a skip-scan of the table.
    expect(runsPlan(null)).toMatch(
      /SEARCH usage_key_day USING PRIMARY KEY \(key_id=\? AND bucket>\? AND bucket<\?\)/,
    );
    for (const keyIds of [['key_1'], null])
      expect(runsPlan(keyIds)).not.toMatch(/TEMP B-TREE|SCAN usage_key_day/);
  });

  it("a page of keys and an environment's forecast are ranges of the primary key, key by key", () => {
    for (const sql of [
      `SELECT key_id, bucket, credits FROM usage_key_day
         WHERE key_id IN (SELECT value FROM json_each(?)) AND bucket >= ? AND bucket < ?`,
      `SELECT bucket, sum(credits) AS credits FROM usage_key_day
         WHERE key_id IN (SELECT value FROM json_each(?)) AND bucket >= ? AND bucket < ? GROUP BY bucket`,
    ]) {
      expect(plan(sql, '["key_1"]', T0 - 30 * DAY, T0)).toMatch(
        /SEARCH usage_key_day USING PRIMARY KEY \(key_id=\? AND bucket>\? AND bucket<\?\)/,
      );
    }
  });

  it('no hour is left out: a day part ends where the hours start', () => {
    const parts = rollupParts(T0 - 40 * DAY + 3 * HOUR, T0 + 5 * HOUR, 'UTC');
    for (let i = 1; i < parts.length; i++) expect(parts[i]!.from).toBe(parts[i - 1]!.to);
  });
});
