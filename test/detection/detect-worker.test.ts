/**
 * The detection worker: the scheduled job and POST /detect/run run detection on its own thread
 * and connection, which writes the incidents and their outbox rows; failures are logged and
 * answered, and closing it stores its states.
 */
import { threadId } from 'node:worker_threads';
import { sql } from 'drizzle-orm';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { MINUTE } from '../../server/clock.ts';
import { rows } from '../../server/db/transaction.ts';
import { createDetectionWorker, type DetectionWorker } from '../../server/detection/detect-worker.ts';
import { readCursor } from '../../server/detection/run-detection.ts';
import { createDetectJob } from '../../server/jobs/detect.ts';
import { createLogger } from '../../server/log.ts';
import { createTestApi } from '../helpers/api.ts';
import { END, seedHistory } from '../helpers/history.ts';
import { type PgCluster, postgresAvailable, startPgCluster } from '../helpers/postgres.ts';
import { createPgTestDeps, createTestDeps, type TestDeps } from '../helpers/store.ts';

const count = (deps: TestDeps, table: string) =>
  (deps.sqlite.prepare(`SELECT count(*) AS n FROM ${table}`).get() as { n: number }).n;

describe('detection worker', () => {
  let deps: TestDeps;
  let worker: DetectionWorker;
  const lines: string[] = [];
  afterEach(async () => {
    await worker.close();
    deps.cleanup();
    lines.length = 0;
  });

  const setUp = async () => {
    deps = createTestDeps({ ALERT_SECURITY_TO: 'oncall@example.com' });
    deps.log = createLogger('debug', (l) => lines.push(l));
    await seedHistory(deps);
    worker = createDetectionWorker(deps);
  };

  it('runs the detect job on its own thread, which opens incidents and queues their alerts', async () => {
    await setUp();
    const job = createDetectJob(deps, worker);
    deps.clock.set(END + 30_000);
    // Off the serving thread, one tick catches up the whole history (in runs of ten days).
    await job.run();
    expect(await readCursor(deps)).toBe(END - MINUTE);
    expect(worker.lastThreadId()).not.toBeNull();
    expect(worker.lastThreadId()).not.toBe(threadId);
    expect(count(deps, 'incidents')).toBeGreaterThan(0);
    // The alert listener ran in the worker's transactions: the outbox job here only sends them.
    expect(count(deps, 'alert_outbox')).toBeGreaterThan(0);
    expect(lines.some((l) => l.includes('detection opened incidents'))).toBe(true);
  });

  it('answers POST /api/v1/detect/run with the worker result, same contract', async () => {
    await setUp();
    deps.clock.set(END);
    const api = createTestApi(deps);
    const app = (await import('../../server/app.ts')).createApp(deps, undefined, { detection: worker });
    const admin = await api.tokenFor('admin');
    const post = async (body: unknown) => {
      const res = await app.request('/api/v1/detect/run', {
        method: 'POST',
        headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
      return { status: res.status, json: await res.json() };
    };
    const r = await post({ until: new Date(END).toISOString() });
    expect(r.status).toBe(200);
    expect(r.json).toEqual({
      evaluated_until: new Date(END).toISOString(),
      incidents_opened: count(deps, 'incidents'),
    });
    expect(r.json.incidents_opened).toBeGreaterThan(0);
    expect(worker.lastThreadId()).not.toBe(threadId);
    expect((await post({})).json.incidents_opened).toBe(0);
    const bad = await post({ until: 'yesterday' });
    expect(bad.status).toBe(400);
    expect(bad.json.error.issues[0].path).toBe('until');
  });

  it('logs a failed run, answers it, and runs the next one', async () => {
    await setUp();
    deps.clock.set(END);
    await worker.run({ until: END - 60 * MINUTE });
    deps.sqlite.exec('ALTER TABLE late_usage RENAME TO late_usage_away');
    await expect(worker.run({ until: END - 30 * MINUTE })).rejects.toThrow(/late_usage/);
    expect(lines.some((l) => l.includes('detection run failed'))).toBe(true);
    deps.sqlite.exec('ALTER TABLE late_usage_away RENAME TO late_usage');
    await expect(worker.run({ until: END })).resolves.toMatchObject({ evaluated_until: END });
  });

  it('stores every held state at the cursor on close, and takes no run after it', async () => {
    await setUp();
    deps.clock.set(END);
    await worker.run({ until: END - 60 * MINUTE });
    for (let t = END - 59 * MINUTE; t <= END - 50 * MINUTE; t += MINUTE) await worker.run({ until: t });
    await worker.close();
    const behind = deps.sqlite
      .prepare('SELECT count(*) AS n FROM detector_state WHERE evaluated_until != ?')
      .get(END - 50 * MINUTE) as { n: number };
    expect(behind.n).toBe(0);
    expect(count(deps, 'detector_state')).toBeGreaterThan(1);
    await expect(worker.run({ until: END })).rejects.toMatchObject({ status: 503 });
  });
});

describe.skipIf(!postgresAvailable())('detection worker on PostgreSQL', () => {
  let cluster: PgCluster | undefined;
  afterAll(async () => {
    await cluster?.stop();
  });

  it('opens the store KEYWATCH_DB names, judges on its own thread, and stores its states on close', async () => {
    cluster ??= await startPgCluster();
    const deps = await createPgTestDeps(cluster);
    const worker = createDetectionWorker(deps);
    try {
      await seedHistory(deps);
      deps.clock.set(END + 30_000);
      const r = await worker.run({ until: END - 20 * MINUTE });
      expect(r.evaluated_until).toBe(END - 20 * MINUTE);
      expect(r.incidents_opened).toBeGreaterThan(0);
      expect(worker.lastThreadId()).not.toBe(threadId);
      const pg = (query: ReturnType<typeof sql>) => rows<{ n: number }>(deps.db, query);
      expect((await pg(sql`SELECT count(*) AS n FROM incidents`))[0]!.n).toBe(r.incidents_opened);
      await worker.run({ until: END - 5 * MINUTE });
      await worker.close();
      // Every key's state is stored at the cursor: the next runner need not catch any up.
      const behind = await pg(
        sql`SELECT count(*) AS n FROM detector_state WHERE evaluated_until <> ${END - 5 * MINUTE}`,
      );
      expect(behind[0]!.n).toBe(0);
      expect(await readCursor(deps)).toBe(END - 5 * MINUTE);
    } finally {
      await worker.close();
      deps.cleanup();
    }
  }, 120_000);
});
