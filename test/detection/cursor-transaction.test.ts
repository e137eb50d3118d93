/**
 * The transaction that moves the detection cursor only writes: the incidents' columns, their
 * contributors (aggregates over the usage tables) included, are built before it opens. On SQLite
 * the write lock is database-wide, so a usage read inside it would make push and the gateway's
 * writer wait for it (issue 11: up to 227 ms in a first replay). Every statement run on a real
 * SQLite file is recorded with whether a transaction was open.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Sqlite } from '../../server/db/client.ts';
import { runDetection } from '../../server/detection/run-detection.ts';
import { END, seedHistory } from '../helpers/history.ts';
import { createTestDeps, selectRows, type TestDeps } from '../helpers/store.ts';

type Ran = { sql: string; inTransaction: boolean };

/** Records every statement prepared on this connection from now on, each time it runs. */
function recordStatements(sqlite: Sqlite): Ran[] {
  const seen: Ran[] = [];
  const prepare = sqlite.prepare.bind(sqlite);
  sqlite.prepare = ((source: string) => {
    const stmt = prepare(source);
    for (const method of ['all', 'get', 'run', 'iterate'] as const) {
      const original = stmt[method] as (...a: unknown[]) => unknown;
      Object.defineProperty(stmt, method, {
        value: (...args: unknown[]) => {
          seen.push({ sql: source.replace(/\s+/g, ' '), inTransaction: sqlite.inTransaction });
          return original.apply(stmt, args);
        },
      });
    }
    return stmt;
  }) as Sqlite['prepare'];
  return seen;
}

const USAGE = /\b(usage_events|usage_minute|usage_hour|usage_day|usage_month)\b/;

let deps: TestDeps;
beforeEach(() => {
  deps = createTestDeps();
});
afterEach(() => deps.cleanup());

describe('the transaction that moves the detection cursor', () => {
  it('reads no usage: incidents and their contributors are prepared before it', async () => {
    await seedHistory(deps);
    const ran = recordStatements(deps.sqlite);
    const r = await runDetection(deps, { until: END });
    expect(r.incidents_opened).toBeGreaterThan(0);
    // The incidents carry contributors, so they were read: outside every transaction.
    const found = await selectRows<{ details: string }>(deps, 'SELECT details FROM incidents');
    expect(found.some((i) => JSON.parse(i.details).contributors?.operations.length > 0)).toBe(true);
    const usageReads = ran.filter((s) => USAGE.test(s.sql));
    expect(usageReads.some((s) => /FROM usage_events/.test(s.sql))).toBe(true);
    expect(usageReads.filter((s) => s.inTransaction)).toEqual([]);
    // And the incidents were written inside one.
    expect(ran.some((s) => /^insert into "incidents"/i.test(s.sql) && s.inTransaction)).toBe(true);
  });
});
