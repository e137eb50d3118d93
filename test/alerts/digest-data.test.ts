/** What a digest reports, read from storage on both stores: spend per key against the previous period. */
import { afterEach, beforeEach, expect, it } from 'vitest';
import { readDigestData } from '../../server/alerts/digest-data.ts';
import { DAY } from '../../server/clock.ts';
import { budgets, keys } from '../../server/db/schema/index.ts';
import { forEachStore, T0, type TestDeps } from '../helpers/store.ts';
import { pushedEvent, recordUsage } from '../helpers/usage.ts';

const use = (id: string, key: string, ts: number, credits: number) => pushedEvent(key, id, ts, credits);

forEachStore((_kind, open) => {
  let deps: TestDeps;
  beforeEach(async () => {
    deps = await open();
  });
  afterEach(() => deps.cleanup());

  it('sums each key over the period and the one before, largest first, with the month budget', async () => {
    await deps.db.insert(keys).values({
      id: 'k_web',
      name: 'web',
      status: 'active',
      environment: 'production',
      createdAt: 0,
      updatedAt: 0,
    });
    await deps.db.insert(budgets).values({
      id: 'bud_total',
      scope: 'total',
      target: '',
      monthlyCredits: 5000,
      thresholds: '[1]',
      notifyForecast: false,
      createdAt: 0,
      updatedAt: 0,
    });
    const day = Math.floor(T0 / DAY) * DAY;
    await recordUsage(deps, [
      use('1', 'web', day - 2 * 3_600_000, 100),
      use('2', 'web', day - DAY - 3_600_000, 40),
      use('3', 'batch', day - 5 * 3_600_000, 300),
      use('4', 'batch', day - 3 * DAY, 999),
    ]);
    const period = { start: day - DAY, end: day, label: 'yesterday' };
    const previous = { start: day - 2 * DAY, end: day - DAY, label: 'the day before' };
    const data = await readDigestData(deps, 'daily', period, previous);
    expect(data.keys).toEqual([
      { name: 'batch', environment: null, credits: 300, previous: 0 },
      { name: 'web', environment: 'production', credits: 100, previous: 40 },
    ]);
    expect([data.total, data.previousTotal]).toEqual([400, 40]);
    expect(data.month).toMatchObject({ spent: 100 + 40 + 300 + 999, budget: 5000 });
    expect(data.month.projected).toBeGreaterThanOrEqual(data.month.spent);
    expect(data.unpaged).toEqual({ tooOld: 0, belowFloor: 0 });
    expect(data.openIncidents).toEqual([]);
  });
});
