import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createAlertListener } from '../../server/alerts/notify.ts';
import { evaluateBudgets } from '../../server/budgets/evaluate.ts';
import { createBalancePollJob } from '../../server/jobs/balance-poll.ts';
import { addToBuckets } from '../../server/usage/buckets.ts';
import { createTestApi } from '../helpers/api.ts';
import { type FakeMagicHour, fakeSubscription, startFakeMagicHour } from '../helpers/fake-magichour.ts';
import { addKey, alertEnv, outboxRows } from '../helpers/incident-fixtures.ts';
import { createTestDeps, type TestDeps } from '../helpers/store.ts';

const ACCOUNT_KEY = 'mhk_live_account_key_0001';
let fake: FakeMagicHour;
let deps: TestDeps;
let api: ReturnType<typeof createTestApi>;
let admin: string;
let prod: string;

beforeEach(async () => {
  fake = await startFakeMagicHour();
  fake.keys.add(ACCOUNT_KEY);
  deps = createTestDeps({ ...alertEnv(), MAGICHOUR_BASE_URL: fake.url, MAGICHOUR_ACCOUNT_KEY: ACCOUNT_KEY });
  api = createTestApi(deps);
  admin = await api.tokenFor('admin');
  prod = await addKey(deps, 'prod-web');
});
afterEach(async () => {
  await fake.close();
  deps.cleanup();
});

const at = (m: number, d: number, h = 12) => Date.UTC(2026, m - 1, d, h);
const spend = (credits: number, ts: number) =>
  addToBuckets(deps.sqlite, [
    { keyId: prod, ts, operation: 'face-swap', credits, requests: 1, errors: 0, authFailures: 0 },
  ]);
/** Moves the clock and polls the account, as the scheduler would every five minutes. */
async function pollAt(ms: number, periodEnd: string | null) {
  deps.clock.set(ms);
  fake.account = { balance: 1_000_000, subscription: periodEnd ? fakeSubscription(periodEnd) : null };
  await createBalancePollJob(deps).run();
}
const evaluate = () => evaluateBudgets(deps, createAlertListener(deps));
const budgetView = async () => (await api.call('GET', '/api/v1/budgets', admin)).json.budgets[0];

describe('budgets over a billing period that renews on the 17th', () => {
  it('fires each threshold once per billing period, not per calendar month', async () => {
    await api.call('POST', '/api/v1/budgets', admin, {
      scope: 'total',
      monthly_credits: 10_000,
      notify_forecast: false,
    });
    spend(9_000, at(11, 16)); // the previous billing period: not counted
    await pollAt(at(11, 20), '2026-12-17T08:00:00Z');
    spend(6_000, at(11, 18));
    expect(await evaluate()).toEqual({ fired: 1, resolved: 0 });
    expect((await evaluate()).fired).toBe(0);
    expect(await budgetView()).toMatchObject({
      month: '2026-11-17',
      period: { from: '2026-11-17T08:00:00.000Z', to: '2026-12-17T08:00:00.000Z', source: 'subscription' },
      spent: 6_000,
    });
    expect((await outboxRows(deps))[0]!.subject).toBe(
      '[Keywatch] INFO Total budget: 60% of 10,000 credits used (6,000)',
    );

    // A new calendar month is not a new billing period: nothing resolves, nothing fires again.
    await pollAt(at(12, 1, 0) + 30 * 60_000, '2026-12-17T08:00:00Z');
    spend(2_500, at(11, 30));
    expect(await evaluate()).toEqual({ fired: 1, resolved: 0 });
    expect((await budgetView()).spent).toBe(8_500);

    // 17 December 09:00: the plan renewed; last period's finding closes and thresholds start afresh.
    await pollAt(at(12, 17, 9), '2027-01-17T08:00:00Z');
    expect(await evaluate()).toEqual({ fired: 0, resolved: 1 });
    spend(5_500, at(12, 17, 8));
    expect(await evaluate()).toEqual({ fired: 1, resolved: 0 });
    expect(await budgetView()).toMatchObject({ month: '2026-12-17', spent: 5_500 });
    const details = deps.sqlite
      .prepare("SELECT details FROM incidents WHERE kind = 'budget_threshold' ORDER BY created_at")
      .all()
      .map((r) => JSON.parse((r as { details: string }).details));
    expect(details.map((d) => [d.period, d.period_source, d.period_end])).toEqual([
      ['2026-11-17', 'subscription', '2026-12-17T08:00:00.000Z'],
      ['2026-12-17', 'subscription', '2027-01-17T08:00:00.000Z'],
    ]);
  });

  it('counts the calendar month when the account has no subscription', async () => {
    await api.call('POST', '/api/v1/budgets', admin, { scope: 'total', monthly_credits: 10_000 });
    await pollAt(at(11, 20), null);
    spend(6_000, at(11, 16));
    expect(await budgetView()).toMatchObject({
      month: '2026-11',
      spent: 6_000,
      period: { source: 'calendar' },
    });
  });
});
