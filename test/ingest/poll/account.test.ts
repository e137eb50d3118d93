import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseAccount } from '../../../server/ingest/providers/magichour-account.ts';
import { createBalancePollJob } from '../../../server/jobs/balance-poll.ts';
import { createTestApi } from '../../helpers/api.ts';
import { type FakeMagicHour, fakeSubscription, startFakeMagicHour } from '../../helpers/fake-magichour.ts';
import { createTestDeps, type TestDeps } from '../../helpers/store.ts';

const ACCOUNT_KEY = 'mhk_live_account_key_0001';
let fake: FakeMagicHour;
let deps: TestDeps;
let api: ReturnType<typeof createTestApi>;
let read: string;

beforeEach(async () => {
  fake = await startFakeMagicHour();
  fake.keys.add(ACCOUNT_KEY);
  deps = createTestDeps({ MAGICHOUR_BASE_URL: fake.url, MAGICHOUR_ACCOUNT_KEY: ACCOUNT_KEY });
  deps.clock.set(Date.UTC(2026, 10, 26, 12));
  api = createTestApi(deps);
  read = await api.tokenFor('read');
});
afterEach(async () => {
  await fake.close();
  deps.cleanup();
});

const account = async () => (await api.call('GET', '/api/v1/account', read)).json.account;

describe('account snapshot from the balance poller', () => {
  it('stores the plan and makes the subscription period the one budgets and forecasts count in', async () => {
    fake.account = {
      balance: 50_000,
      subscription: fakeSubscription('2026-12-17T08:00:00Z', {
        discount: { amount_off: null, percent_off: 25 },
      }),
    };
    await createBalancePollJob(deps).run();
    expect(await account()).toEqual({
      answered: true,
      fetched_at: '2026-11-26T12:00:00.000Z',
      tier: 'creator',
      subscription: {
        name: 'Creator',
        status: 'active',
        billing_interval: 'month',
        current_period_end: '2026-12-17T08:00:00.000Z',
        cancel_at_period_end: false,
        price: { amount: 1_200, currency: 'USD' },
        discount: { amount_off: null, percent_off: 25 },
        price_after_discount: 900,
      },
      billing_period: {
        from: '2026-11-17T08:00:00.000Z',
        to: '2026-12-17T08:00:00.000Z',
        source: 'subscription',
        label: '2026-11-17',
      },
      budget_period: {
        from: '2026-11-17T08:00:00.000Z',
        to: '2026-12-17T08:00:00.000Z',
        source: 'subscription',
        label: '2026-11-17',
      },
      period_note:
        "Billing period 2026-11-17 to 2026-12-17, from the account's subscription (renews 2026-12-17).",
    });
    const forecast = (await api.call('GET', '/api/v1/forecast', read)).json;
    expect(forecast).toMatchObject({
      month: '2026-11-17',
      period: { from: '2026-11-17T08:00:00.000Z', to: '2026-12-17T08:00:00.000Z', source: 'subscription' },
    });
    const sources = (await api.call('GET', '/api/v1/sources', read)).json.sources;
    expect(sources.find((s: { name: string }) => s.name === 'balance').detail).toMatch(
      /Plan Creator \(monthly\), period ends 2026-12-17T08:00:00.000Z/,
    );
  });

  it('falls back to the calendar month without a subscription, and when the endpoint stops answering', async () => {
    fake.account = { balance: 50_000, subscription: null };
    const job = createBalancePollJob(deps);
    await job.run();
    let got = await account();
    expect(got).toMatchObject({ answered: true, tier: 'free', subscription: null });
    expect(got.billing_period).toMatchObject({
      source: 'calendar',
      label: '2026-11',
      fallback_reason: 'no_subscription',
    });

    fake.account = { balance: 50_000, subscription: fakeSubscription('2026-12-17T08:00:00Z') };
    await job.run();
    expect((await account()).billing_period.source).toBe('subscription');
    fake.account = { status: 404 };
    deps.clock.advance(5 * 60_000);
    await job.run();
    got = await account();
    expect(got).toMatchObject({ answered: false, subscription: null });
    expect(got.period_note).toBe('Calendar month 2026-11 in UTC: the account endpoint has not answered.');
    expect((await api.call('GET', '/api/v1/forecast', read)).json.period.source).toBe('calendar');
  });
});

describe('parseAccount', () => {
  it('reads yearly plans, unix-second period ends, and refuses to guess an unknown interval', () => {
    const yearly = parseAccount({
      credits: 10,
      tier: 'business',
      subscription: {
        ...fakeSubscription('x'),
        billing_interval: 'yearly',
        current_period_end: 1_805_270_400,
      },
    });
    expect(yearly?.subscription).toMatchObject({ interval: 'year', currentPeriodEnd: 1_805_270_400_000 });
    const odd = parseAccount({
      tier: 'x',
      subscription: { ...fakeSubscription('2026-12-17'), billing_interval: 'weekly' },
    });
    expect(odd).toEqual({ tier: 'x', subscription: null });
    expect(
      parseAccount({ subscription: { billing_interval: 'month', current_period_end: 'soon' } })?.subscription,
    ).toBeNull();
    expect(parseAccount({ tier: 42 })).toBeNull();
    expect(parseAccount('nope')).toBeNull();
  });
});
