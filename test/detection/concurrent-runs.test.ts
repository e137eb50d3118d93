/**
 * Detection started twice at once on one PostgreSQL database (two `keywatch serve` processes, or
 * the CLI beside the server): each runner has its own pool, and every incident is opened once. The
 * loser of the race waits for the winner's cursor transaction, sees the cursor moved, and fails
 * with a conflict (409); run again, it judges only what is left.
 *
 * PostgreSQL only: on SQLite two runners are two processes or threads, serialized by BEGIN
 * IMMEDIATE; two connections in one thread, as a test would have them, wait on each other's lock
 * synchronously and fail with "database is locked" rather than race.
 */
import { sql } from 'drizzle-orm';
import pg from 'pg';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { HOUR, MINUTE } from '../../server/clock.ts';
import { openPgStore } from '../../server/db/pg/client.ts';
import { rows } from '../../server/db/transaction.ts';
import { readCursor, runDetection } from '../../server/detection/run-detection.ts';
import { AppError } from '../../server/errors.ts';
import { END, SPIKE, seedHistory } from '../helpers/history.ts';
import { type PgCluster, postgresAvailable, startPgCluster } from '../helpers/postgres.ts';
import { createPgTestDeps, type TestDeps } from '../helpers/store.ts';

/** A second runner on the same database, with a pool of its own. */
async function secondRunner(deps: TestDeps) {
  const store = await openPgStore(deps.dbPath, { migrate: false });
  return { deps: { ...deps, db: store.db }, close: () => store.close() };
}

const incidentsBySubject = (deps: TestDeps) =>
  rows<{ subject: string; kind: string; started_at: number; n: number }>(
    deps.db,
    sql`SELECT subject, kind, started_at, count(*) AS n FROM incidents
       GROUP BY subject, kind, started_at ORDER BY started_at, kind, subject`,
  );
const countIncidents = async (deps: TestDeps) =>
  (await rows<{ n: number }>(deps.db, sql`SELECT count(*) AS n FROM incidents`))[0]!.n;

/** Waits until `n` sessions of this database wait for a lock (a table's or an advisory one). */
async function waitForLockWaiters(client: pg.Client, n: number) {
  for (let i = 0; i < 1200; i++) {
    const r = await client.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM pg_stat_activity
         WHERE datname = current_database() AND wait_event_type = 'Lock'`,
    );
    if (r.rows[0]!.n >= n) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`fewer than ${n} sessions ever waited for a lock`);
}

describe.skipIf(!postgresAvailable())('detection started twice at once on PostgreSQL', () => {
  let cluster: PgCluster | undefined;
  afterAll(async () => {
    await cluster?.stop();
  });
  const made: TestDeps[] = [];
  afterEach(() => {
    for (const d of made.splice(0)) d.cleanup();
  });

  it('opens each incident once: the loser waits for the cursor, sees it moved, and fails with a conflict', async () => {
    cluster ??= await startPgCluster();
    const a = await createPgTestDeps(cluster);
    made.push(a);
    await seedHistory(a);
    a.clock.set(END + MINUTE);
    await runDetection(a, { until: SPIKE - 10 * MINUTE });
    const before = await countIncidents(a);
    const b = await secondRunner(a);
    // A third session holds back writes to detector_state, so both runs are inside their cursor
    // transactions before either can commit: the race is forced, not left to timing.
    const locker = new pg.Client({ connectionString: a.dbPath });
    await locker.connect();
    try {
      await locker.query('BEGIN');
      await locker.query('LOCK TABLE detector_state IN SHARE ROW EXCLUSIVE MODE');
      const until = SPIKE + HOUR;
      const race = Promise.allSettled([runDetection(a, { until }), runDetection(b.deps, { until })]);
      await waitForLockWaiters(locker, 2);
      await locker.query('COMMIT');
      const results = await race;

      const won = results.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
      const lost = results.flatMap((r) => (r.status === 'rejected' ? [r.reason as Error] : []));
      expect(won).toHaveLength(1);
      expect(lost).toHaveLength(1);
      expect(lost[0]).toBeInstanceOf(AppError);
      expect((lost[0] as AppError).status).toBe(409);
      expect(won[0]!.incidents_opened).toBeGreaterThan(0);

      // The loser runs again and finds nothing left to judge; nothing is opened twice.
      const loser = results[0]!.status === 'rejected' ? a : b.deps;
      expect(await runDetection(loser, { until })).toEqual({ evaluated_until: until, incidents_opened: 0 });
      expect(await readCursor(a)).toBe(until);
      const found = await incidentsBySubject(a);
      expect(found.some((i) => i.kind === 'credit_spike')).toBe(true);
      for (const i of found) expect(i.n).toBe(1);
      expect(await countIncidents(a)).toBe(before + won[0]!.incidents_opened);
    } finally {
      await locker.end();
      await b.close();
    }
  }, 120_000);
});
