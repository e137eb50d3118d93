/**
 * No read of the usage tables walks a whole table: every statement the product's usage reads,
 * detection chunks, budgets, digests, metrics, the balance check and retention prepare is explained
 * (EXPLAIN QUERY PLAN, with the arguments it runs with) as it runs, on a real migrated SQLite file
 * without planner statistics, and none may SCAN a big table. The minute and hour tables keep no
 * index on bucket alone (migration 0012), so a range over every key that forgot to seek key by key
 * would show here as `SCAN usage_hour`.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { readDigestData } from '../../server/alerts/digest-data.ts';
import { spendBetween } from '../../server/budgets/spend.ts';
import { DAY, HOUR, MINUTE } from '../../server/clock.ts';
import type { Sqlite } from '../../server/db/client.ts';
import { findContributors } from '../../server/detection/contributors.ts';
import { earliestData, loadChunk } from '../../server/detection/load-chunk.ts';
import { loadForecastInput } from '../../server/forecast/query.ts';
import { storeSample } from '../../server/ingest/poll/balance.ts';
import { applyRetention } from '../../server/jobs/retention.ts';
import { clientsOfKey, lastUseOfKey } from '../../server/keys/rotation-clients.ts';
import { collectMetrics } from '../../server/ops/metrics.ts';
import { findProject } from '../../server/usage/projects.ts';
import { rankGroups } from '../../server/usage/rank-groups.ts';
import { recordEvents, type UsageEvent } from '../../server/usage/record-events.ts';
import { GROUPS, groupedSeries, keySeries, totalSeries } from '../../server/usage/series.ts';
import { createTestDeps, T0, type TestDeps } from '../helpers/store.ts';

/** Tables that grow with every event or bucket: a full scan of one is a slow page on a big install. */
const BIG = /\bSCAN (usage_minute|usage_hour|usage_day|usage_month|usage_events|projects)\b/;

type Explained = { sql: string; plan: string };

/**
 * Records the plan of every statement prepared on this connection from now on, each time it runs,
 * with its own arguments (the statement itself then runs unchanged).
 */
function explainEverything(sqlite: Sqlite): Explained[] {
  const seen: Explained[] = [];
  const prepare = sqlite.prepare.bind(sqlite);
  sqlite.prepare = ((source: string) => {
    const stmt = prepare(source);
    if (!/^\s*(SELECT|WITH|DELETE|UPDATE)/i.test(source)) return stmt;
    const explain = prepare(`EXPLAIN QUERY PLAN ${source}`);
    for (const method of ['all', 'get', 'run', 'iterate'] as const) {
      const original = stmt[method] as (...a: unknown[]) => unknown;
      Object.defineProperty(stmt, method, {
        value: (...args: unknown[]) => {
          const plan = (explain.all(...args) as { detail: string }[]).map((r) => r.detail).join('\n');
          seen.push({ sql: source.replace(/\s+/g, ' '), plan });
          return original.apply(stmt, args);
        },
      });
    }
    return stmt;
  }) as Sqlite['prepare'];
  return seen;
}

let deps: TestDeps;
beforeEach(() => {
  deps = createTestDeps({ KEYWATCH_RETENTION_MINUTE_DAYS: '30', KEYWATCH_RETENTION_PROJECT_DAYS: '7' });
});
afterEach(() => deps.cleanup());

describe('usage reads never scan a big table', () => {
  it('series, rankings, detection, budgets, digests, metrics, balance and retention seek their rows', async () => {
    // 40 keys over 60 days, two events a day each.
    const events: UsageEvent[] = [];
    for (let k = 0; k < 40; k++) {
      for (let i = 0; i < 120; i++) {
        events.push({
          source: 'test',
          eventId: `k${k}-${i}`,
          key: { by: 'ref', value: `key-${k}` },
          ts: T0 - 60 * DAY + i * 12 * HOUR + k * MINUTE,
          credits: 5,
          requests: 1,
          status: i % 10 === 0 ? 401 : 200,
          operation: i % 2 ? 'face-swap' : 'image-gen',
          sourceIp: `198.51.100.${k}`,
          projectId: `p${k}-${i}`,
        });
      }
    }
    // No ANALYZE: with statistics SQLite may skip-scan a range over every key on its own, but a
    // fresh install has none (and PostgreSQL never skip-scans): the seek must be in the query.
    recordEvents(deps, events);
    const seen = explainEverything(deps.sqlite);

    const db = deps.db;
    const keyId =
      (deps.sqlite.prepare(`SELECT id FROM keys WHERE name = 'key-3'`).pluck().get() as string) ?? '';
    expect(keyId).not.toBe('');
    for (const [step, days] of [
      ['minute', 1],
      ['hour', 7],
      ['day', 60],
    ] as const) {
      const range = { from: T0 - days * DAY, to: T0, step };
      for (const group of GROUPS) {
        await groupedSeries(db, range, group);
        await groupedSeries(db, range, group, { top: 5 });
        await groupedSeries(db, range, group, { limit: 5 });
        await rankGroups(db, range, group);
      }
      await keySeries(db, keyId, range);
      await totalSeries(db, range);
    }
    // A range whose edges are hours and days around whole months (the tiles of a long ranking).
    await rankGroups(db, { from: T0 - 59 * DAY - 5 * HOUR, to: T0 - 3 * HOUR, step: 'hour' }, 'key');
    await rankGroups(db, { from: T0 - 59 * DAY - 5 * HOUR, to: T0 - 3 * HOUR, step: 'hour' }, 'operation');
    await loadChunk(db, T0 - 2 * DAY, T0 - 2 * DAY + HOUR);
    await loadChunk(db, T0 - 2 * DAY, T0 - 2 * DAY + HOUR, keyId);
    await earliestData(db);
    await findContributors(db, keyId, T0 - DAY, T0);
    await clientsOfKey(db, keyId, T0 - 7 * DAY, T0);
    await lastUseOfKey(db, keyId, T0);
    await lastUseOfKey(db, 'no-such-key', T0);
    for (const filter of [{}, { keyId }, { environment: 'production' }]) {
      await loadForecastInput(db, T0, 'Asia/Kolkata', filter);
    }
    for (const scope of [
      { scope: 'total' as const, target: '' },
      { scope: 'key' as const, target: keyId },
      { scope: 'environment' as const, target: 'production' },
    ]) {
      await spendBetween(db, scope, T0 - 30 * DAY, T0);
    }
    const period = { label: 'week', start: T0 - 7 * DAY, end: T0 };
    await readDigestData(deps, 'weekly', period, {
      label: 'before',
      start: T0 - 14 * DAY,
      end: T0 - 7 * DAY,
    });
    await collectMetrics(deps, {});
    await storeSample(deps, T0 - HOUR, 1000);
    await storeSample(deps, T0, 900);
    await findProject(db, 'p3-100');
    await applyRetention(deps);

    const tables = ['usage_minute', 'usage_hour', 'usage_key_day', 'usage_events', 'projects'];
    for (const table of tables) {
      // Each big table was read: the guard below saw the statements that matter.
      expect(
        seen.some((s) => s.sql.includes(table)),
        table,
      ).toBe(true);
    }
    const scans = seen.filter((s) => BIG.test(s.plan)).map((s) => `${s.sql}\n  ${s.plan}`);
    expect([...new Set(scans)]).toEqual([]);
    // One key's raw events (detection's one-key chunk, contributors, rotation clients, last use) are
    // a time range through the ts index, filtered by key: there is no (key_id, ts) index to take.
    const byKey = seen.filter((s) =>
      /FROM usage_events WHERE ts >= \? AND ts < \? AND key_id = \?/.test(s.sql),
    );
    expect(byKey.length).toBeGreaterThanOrEqual(4);
    for (const s of byKey)
      expect(s.plan, s.sql).toMatch(
        /SEARCH usage_events USING INDEX usage_events_ts_idx \(ts>\? AND ts<\?\)/,
      );
    // The rotation's clients: the minutes the key was used (its day's minute buckets), each a
    // range of the ts index.
    const clients = seen.filter((s) => s.sql.includes('JOIN usage_events e ON e.ts >= m.bucket'));
    expect(clients.length).toBeGreaterThanOrEqual(1);
    for (const s of clients) {
      expect(s.plan, s.sql).toMatch(/SEARCH e USING INDEX usage_events_ts_idx \(ts>\? AND ts<\?\)/);
      expect(s.plan, s.sql).toMatch(
        /SEARCH usage_minute USING PRIMARY KEY \(key_id=\? AND bucket>\? AND bucket<\?\)/,
      );
    }
  });
});
