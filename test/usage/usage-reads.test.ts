/** GET /api/v1/usage is read and written on its reads worker, not on the serving thread. */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DAY } from '../../server/clock.ts';
import { parseRangeQuery } from '../../server/usage/range.ts';
import { writeUsageAnswer } from '../../server/usage/usage-reads.ts';
import { createTestApi } from '../helpers/api.ts';
import { hideUsageFromServingThread } from '../helpers/serving-thread.ts';
import { createTestDeps, T0, type TestDeps } from '../helpers/store.ts';
import { mixedUsage, recordUsage } from '../helpers/usage.ts';

let deps: TestDeps;
let api: ReturnType<typeof createTestApi>;
let read: string;

beforeEach(async () => {
  deps = createTestDeps();
  api = createTestApi(deps);
  read = await api.tokenFor('read');
  await recordUsage(deps, mixedUsage(['web', 'batch', 'cron'], 200, T0));
});
afterEach(() => deps.cleanup());

describe('GET /api/v1/usage on the reads worker', () => {
  const paths = [
    `/api/v1/usage?step=day&from=${T0 - 30 * DAY}&to=${T0}`,
    `/api/v1/usage?step=day&group=key&from=${T0 - 30 * DAY}&to=${T0}`,
    `/api/v1/usage?step=hour&group=operation&limit=1`,
  ];

  it('answers from the worker what the serving thread can no longer see', async () => {
    const before = [];
    for (const p of paths) before.push(await api.call('GET', p, read));
    expect(before.map((r) => r.status)).toEqual([200, 200, 200]);
    expect(before[1]!.json.groups).toHaveLength(3);

    hideUsageFromServingThread(deps);
    // The same read in this thread now sees nothing: the check below could fail.
    const query = Object.fromEntries(new URL(paths[1]!, 'http://x').searchParams);
    const here = JSON.parse(
      new TextDecoder().decode(await writeUsageAnswer(deps, parseRangeQuery(query, T0))),
    );
    expect(here.groups).toEqual([]);

    for (const [i, p] of paths.entries()) {
      const after = await api.call('GET', p, read);
      expect(after.status).toBe(200);
      expect(after.json).toEqual(before[i]!.json);
    }
  });

  it('refuses a bad query with the same 400, and a read over the point cap from the worker', async () => {
    const bad = await api.call('GET', '/api/v1/usage?step=week', read);
    expect(bad.status).toBe(400);
    expect(bad.json.error.issues[0].path).toBe('step');
    // Too many points only shows once the groups are counted: the worker's AppError comes back whole.
    const tooMany = await api.call(
      'GET',
      `/api/v1/usage?step=minute&group=key&from=${T0 - 28 * DAY}&to=${T0}`,
      read,
    );
    expect(tooMany.status).toBe(400);
    expect(tooMany.json.error.code).toBe('range_too_large');
  });
});
