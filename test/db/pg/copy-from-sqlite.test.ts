/**
 * copySqliteToPg against a real cluster: values keep their meaning across dialects (booleans, JSON,
 * nulls, identities), batches split anywhere, and a failure commits nothing (one transaction).
 */

import { getTableConfig } from 'drizzle-orm/pg-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { openPgStore, type PgStore } from '../../../server/db/pg/client.ts';
import { CopyMismatchError, TargetNotEmptyError } from '../../../server/db/pg/copy-errors.ts';
import { copySqliteToPg, tablesInDependencyOrder } from '../../../server/db/pg/copy-from-sqlite.ts';
import { type PgCluster, postgresAvailable, startPgCluster } from '../../helpers/postgres.ts';
import { createTestDeps, T0, type TestDeps } from '../../helpers/store.ts';

const available = postgresAvailable();

/** A few rows of the shapes that differ between the dialects, written as the SQLite schema stores them. */
function seed(deps: TestDeps, events: number): void {
  const s = deps.sqlite;
  s.prepare(
    `INSERT INTO keys (id, name, status, created_at, updated_at) VALUES ('k1', 'prod', 'active', ?, ?)`,
  ).run(T0, T0);
  s.prepare(
    `INSERT INTO budgets (id, scope, target, monthly_credits, thresholds, notify_forecast, created_at, updated_at)
     VALUES ('b1', 'key', 'k1', 1000.5, '[0.5,0.8,1]', 1, ?, ?), ('b2', 'total', '', 10, '[1]', 0, ?, ?)`,
  ).run(T0, T0, T0, T0);
  s.prepare(
    `INSERT INTO detection_rules (kind, key_id, enabled, params, updated_by, updated_at) VALUES ('spike', '', NULL, '{"z":4}', 'cli', ?)`,
  ).run(T0);
  s.prepare(
    `INSERT INTO audit_log (ts, actor, action, target, details) VALUES (?, 'cli', 'a', NULL, NULL), (?, 'cli', 'b', 't', '{"x":1}')`,
  ).run(T0, T0);
  const insert = s.prepare(
    `INSERT INTO usage_events (source, event_id, key_id, ts, credits, requests, status, operation, received_at)
     VALUES ('push', ?, 'k1', ?, ?, 1, 200, 'image', ?)`,
  );
  s.transaction(() => {
    for (let i = 0; i < events; i++) insert.run(`e${i}`, T0 + i * 1000, 0.1 * (i % 7), T0);
  })();
}

describe.skipIf(!available)('copySqliteToPg', { timeout: 60_000 }, () => {
  let cluster: PgCluster;
  let deps: TestDeps;
  let target: PgStore;
  beforeAll(async () => {
    cluster = await startPgCluster();
  });
  afterAll(async () => {
    await cluster?.stop();
  });
  afterEach(async () => {
    await target?.close();
    deps?.cleanup();
  });

  it('orders tables so that every foreign key points at a table copied before it', () => {
    const order = tablesInDependencyOrder().map((t) => getTableConfig(t).name);
    expect(order.indexOf('keys')).toBeLessThan(order.indexOf('usage_events'));
    expect(order.indexOf('keys')).toBeLessThan(order.indexOf('incidents'));
    expect(order.indexOf('users')).toBeLessThan(order.indexOf('sessions'));
    expect(new Set(order).size).toBe(order.length);
  });

  it('keeps booleans, JSON, nulls and identities, across batches of any size', async () => {
    deps = createTestDeps();
    seed(deps, 1_003);
    target = await openPgStore(await cluster.createDatabase());
    const lines: string[] = [];
    // 100 rows per statement: 1,003 events are ten full batches and a partial one.
    const report = await copySqliteToPg(deps.sqlite, target.pool, {
      batchRows: 100,
      progress: (l) => lines.push(l),
    });
    expect(report.tables.find((t) => t.name === 'usage_events')?.rows).toBe(1_003);
    // The last 1: usage_fold's one row, which every migrated SQLite database has.
    expect(report.rows).toBe(1 + 2 + 1 + 2 + 1_003 + 1);
    expect(report.sums.usage_events?.requests).toBe(1_003);
    expect(lines).toContainEqual(expect.stringMatching(/^copied usage_events: 1,003 rows in [\d.]+ s$/));

    // jsonb comes back as PostgreSQL's normalized text, int8 as numbers (pg/client.ts's parsers).
    const q = async (sql: string) => (await target.pool.query(sql)).rows;
    expect(
      await q('SELECT id, notify_forecast, thresholds, monthly_credits FROM budgets ORDER BY id'),
    ).toEqual([
      { id: 'b1', notify_forecast: true, thresholds: '[0.5, 0.8, 1]', monthly_credits: 1000.5 },
      { id: 'b2', notify_forecast: false, thresholds: '[1]', monthly_credits: 10 },
    ]);
    expect(await q('SELECT enabled, params FROM detection_rules')).toEqual([
      { enabled: null, params: '{"z": 4}' },
    ]);
    expect(await q('SELECT target, details FROM audit_log ORDER BY id')).toEqual([
      { target: null, details: null },
      { target: 't', details: '{"x": 1}' },
    ]);
    // The identity continues after the copied ids.
    expect(await q(`INSERT INTO audit_log (ts, actor, action) VALUES (0, 'x', 'y') RETURNING id`)).toEqual([
      { id: 3 },
    ]);
  });

  it('commits nothing when a row cannot be copied, so the copy can be run again', async () => {
    deps = createTestDeps();
    seed(deps, 50);
    // Not JSON: SQLite keeps any text, a jsonb column refuses it (the last table copied fails).
    deps.sqlite.prepare(`UPDATE audit_log SET details = 'not json' WHERE action = 'b'`).run();
    target = await openPgStore(await cluster.createDatabase());
    await expect(copySqliteToPg(deps.sqlite, target.pool)).rejects.toThrow(
      /^copying table audit_log failed, so nothing was committed: invalid input syntax for type json \(Token "not" is invalid\)\.$/,
    );
    const counts = await target.pool.query(
      `SELECT (SELECT count(*) FROM keys) AS keys, (SELECT count(*) FROM usage_events) AS events`,
    );
    expect(counts.rows[0]).toEqual({ keys: 0, events: 0 });

    deps.sqlite.prepare(`UPDATE audit_log SET details = '{"fixed":true}' WHERE action = 'b'`).run();
    const report = await copySqliteToPg(deps.sqlite, target.pool);
    expect(report.tables.find((t) => t.name === 'usage_events')?.rows).toBe(50);
    // Now it holds data: a second copy is refused before writing anything.
    await expect(copySqliteToPg(deps.sqlite, target.pool)).rejects.toThrow(TargetNotEmptyError);
  });

  it('refuses to commit a copy whose counts do not match its source', async () => {
    deps = createTestDeps();
    seed(deps, 20);
    target = await openPgStore(await cluster.createDatabase());
    // A trigger that drops every other event on its way in stands for a copy that lost rows.
    await target.pool.query(`CREATE FUNCTION drop_odd() RETURNS trigger AS $$
      BEGIN IF right(NEW.event_id, 1) IN ('1','3','5','7','9') THEN RETURN NULL; END IF; RETURN NEW; END $$ LANGUAGE plpgsql`);
    await target.pool.query(
      'CREATE TRIGGER drop_odd BEFORE INSERT ON usage_events FOR EACH ROW EXECUTE FUNCTION drop_odd()',
    );
    const error = (await copySqliteToPg(deps.sqlite, target.pool).catch((e: unknown) => e)) as Error;
    expect(error).toBeInstanceOf(CopyMismatchError);
    expect(error.message).toMatch(
      /^the copy does not match its source, so nothing was committed: usage_events: 20 rows in SQLite, 10 in PostgreSQL; usage_events: [\d.]+ credits in SQLite/,
    );
    expect((await target.pool.query('SELECT count(*) AS n FROM keys')).rows[0]).toEqual({ n: 0 });
  });
});
