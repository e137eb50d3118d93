import { sql } from 'drizzle-orm';
import { afterEach, describe, expect, it } from 'vitest';
import { DAY, HOUR } from '../../server/clock.ts';
import { execute } from '../../server/db/transaction.ts';
import { keyRuns } from '../../server/usage/series.ts';
import { eachBucket, mergeRuns, parseRun, pointsOf, runOf } from '../../server/usage/series-runs.ts';
import { forEachStore, T0, type TestDeps } from '../helpers/store.ts';

/** Doubles whose shortest texts are long, tiny, huge or integral: each must come back as itself. */
const TODAY = Math.floor(T0 / DAY) * DAY;
const AWKWARD = [0.1 + 0.2, 1 / 3, 2880.123456789012, 1e21, 5e-324, 123456789.5, 120, 0];

forEachStore((kind, open) => {
  let deps: TestDeps;
  afterEach(() => deps.cleanup());

  it(`${kind}: a key's days come back as one run, in bucket order, every double exactly`, async () => {
    deps = await open();
    // Bucket rows belong to stored keys: a read over every key starts from the keys table.
    for (const id of ['k1', 'k2'])
      await execute(
        deps.db,
        sql`INSERT INTO keys (id, name, created_at, updated_at) VALUES (${id}, ${id}, ${T0}, ${T0})`,
      );
    const days = AWKWARD.map((credits, d) => ({
      bucket: TODAY - (AWKWARD.length - d) * DAY,
      requests: d + 1,
      credits,
    }));
    // Written newest first, so the store's own order is not the buckets'.
    for (const { bucket, requests, credits } of [...days].reverse()) {
      await execute(
        deps.db,
        sql`INSERT INTO usage_key_day (key_id, bucket, credits, requests, errors, auth_failures)
            VALUES ('k1', ${bucket}, ${credits}, ${requests}, 1, 0)`,
      );
    }
    await execute(
      deps.db,
      sql`INSERT INTO usage_key_day (key_id, bucket, credits, requests, errors, auth_failures)
          VALUES ('k2', ${TODAY - DAY}, 7, 1, 0, 0)`,
    );
    const range = { from: T0 - 30 * DAY, to: T0, step: 'day' as const };
    const runs = await keyRuns(deps.db, range, ['k1']);
    expect([...runs.keys()]).toEqual(['k1']);
    expect(runs.get('k1')).toEqual(days.flatMap((d) => [d.bucket, d.credits, d.requests, 1, 0]));
    expect([...(await keyRuns(deps.db, range, null)).keys()]).toEqual(['k1', 'k2']);
  });

  it(`${kind}: a row off the range's grid comes back between two buckets, and is drawn as none`, async () => {
    deps = await open();
    await execute(
      deps.db,
      sql`INSERT INTO keys (id, name, created_at, updated_at) VALUES ('k1', 'k1', ${T0}, ${T0})`,
    );
    // Buckets are written on the grid (runText writes them as their place on it); one that is not
    // comes back as a fraction of a step, never as the bucket before or after it.
    const onGrid = TODAY - 3 * DAY;
    for (const [bucket, credits] of [
      [onGrid, 5],
      [onGrid + DAY + 1, 9],
    ])
      await execute(
        deps.db,
        sql`INSERT INTO usage_key_day (key_id, bucket, credits, requests, errors, auth_failures)
            VALUES ('k1', ${bucket}, ${credits}, 1, 0, 0)`,
      );
    const range = { from: T0 - 30 * DAY, to: T0, step: 'day' as const };
    const run = (await keyRuns(deps.db, range, ['k1'])).get('k1')!;
    expect(run.slice(0, 5)).toEqual([onGrid, 5, 1, 0, 0]);
    expect(run[5]).toBeCloseTo(onGrid + DAY + 1, 2);
    expect(run.slice(6)).toEqual([9, 1, 0, 0]);
    const credits = pointsOf(range, run).map((p) => p.credits);
    expect(credits.filter((c) => c !== 0)).toEqual([5]);
  });
});

describe('runs', () => {
  const range = { from: T0 - 4 * HOUR - 1, to: T0, step: 'hour' as const };
  const first = T0 - 5 * HOUR;

  it('are sorted when the store grouped out of order', () => {
    expect(parseRun(`${T0},1,1,0,0,${T0 - HOUR},2,2,0,0`)).toEqual([T0 - HOUR, 2, 2, 0, 0, T0, 1, 1, 0, 0]);
    expect(parseRun(null)).toEqual([]);
  });

  it('zero-fill every bucket of the range and skip rows off its grid', () => {
    const run = [first + 1, 9, 9, 9, 9, first + 2 * HOUR, 3, 2, 1, 0];
    const points = pointsOf(range, run);
    expect(points.map((p) => p.ts)).toEqual([
      first,
      first + HOUR,
      first + 2 * HOUR,
      first + 3 * HOUR,
      first + 4 * HOUR,
    ]);
    expect(points.map((p) => p.credits)).toEqual([0, 0, 3, 0, 0]);
    expect(runOf(points)).toHaveLength(5 * 5);
    const visits: number[] = [];
    eachBucket(range, run, (_ts, i) => visits.push(i));
    expect(visits).toEqual([-1, -1, 5, -1, -1]);
  });

  it('merge bucket by bucket, adding the values of a bucket in both', () => {
    const a = [first, 1, 1, 0, 0, first + 2 * HOUR, 2, 2, 1, 0];
    const b = [first + HOUR, 5, 1, 0, 0, first + 2 * HOUR, 0.5, 1, 0, 1];
    expect(mergeRuns(a, b)).toEqual([
      ...[first, 1, 1, 0, 0],
      ...[first + HOUR, 5, 1, 0, 0],
      ...[first + 2 * HOUR, 2.5, 3, 1, 1],
    ]);
    expect(mergeRuns([], b)).toEqual(b);
  });
});
