import { afterEach, describe, expect, it } from 'vitest';
import { HOUR } from '../../server/clock.ts';
import { priceBands } from '../../server/invoice/pricing.ts';
import { createBalancePollJob } from '../../server/jobs/balance-poll.ts';
import { addToBuckets } from '../../server/usage/buckets.ts';
import { createTestApi } from '../helpers/api.ts';
import { type FakeMagicHour, fakeSubscription, startFakeMagicHour } from '../helpers/fake-magichour.ts';
import { addKey } from '../helpers/incident-fixtures.ts';
import { createTestDeps, T0, type TestDeps } from '../helpers/store.ts';

const ACCOUNT_KEY = 'mhk_live_account_key_0001';
let deps: TestDeps;
let api: ReturnType<typeof createTestApi>;
let fake: FakeMagicHour | undefined;

async function setup(env: Record<string, string> = {}, subscription?: ReturnType<typeof fakeSubscription>) {
  if (subscription) {
    fake = await startFakeMagicHour();
    fake.keys.add(ACCOUNT_KEY);
    fake.account = { balance: 1_000_000, subscription };
    env = { ...env, MAGICHOUR_BASE_URL: fake.url, MAGICHOUR_ACCOUNT_KEY: ACCOUNT_KEY };
  }
  deps = createTestDeps(env);
  api = createTestApi(deps);
  if (subscription) await createBalancePollJob(deps).run();
  const web = await addKey(deps, 'prod-web', { environment: 'production' });
  const batch = await addKey(deps, 'batch', { environment: 'production', last4: 'b4b4' });
  const dev = await addKey(deps, 'dev', { environment: 'development', last4: 'd3d3' });
  return { web, batch, dev };
}
afterEach(async () => {
  deps?.cleanup();
  await fake?.close();
  fake = undefined;
});

const spend = (keyId: string, credits: number, ts: number) =>
  addToBuckets(deps.sqlite, [
    { keyId, ts, operation: 'face-swap', credits, requests: 1, errors: 0, authFailures: 0 },
  ]);
const estimate = async (query = '') =>
  api.call('GET', `/api/v1/invoice/estimate${query}`, await api.tokenFor('read'));
const TIERED = {
  currency: 'usd',
  bands: [
    { from_credits: 0, to_credits: 100_000, price_per_credit: 0.002 },
    { from_credits: 100_000, to_credits: null, price_per_credit: 0.0015 },
  ],
};

describe('pricing', () => {
  it('prices credits band by band', () => {
    const bands = [
      { fromCredits: 0, toCredits: 100_000, pricePerCredit: 0.002 },
      { fromCredits: 100_000, toCredits: null, pricePerCredit: 0.0015 },
    ];
    expect(priceBands(150_000, bands).amount).toBe(275);
    expect(priceBands(80_000, bands).lines.map((l) => l.credits)).toEqual([80_000, 0]);
  });
});

describe('GET /api/v1/invoice/estimate', () => {
  it('prices the first 100k at one price and the rest at another, by key and by environment', async () => {
    const { web, batch, dev } = await setup();
    spend(web, 100_000, Date.UTC(2026, 10, 3, 10));
    spend(batch, 20_000, Date.UTC(2026, 10, 10, 10));
    spend(dev, 30_000, Date.UTC(2026, 10, 20, 10));
    spend(web, 99_999, Date.UTC(2026, 9, 31, 10)); // October: another period
    const put = await api.call('PUT', '/api/v1/invoice/plan', await api.tokenFor('admin'), TIERED);
    expect(put.status).toBe(200);
    expect(put.json.plan.currency).toBe('USD');

    const res = await estimate();
    expect(res.status).toBe(200);
    const { forecast, ...rest } = res.json;
    expect(rest).toEqual({
      period: { from: '2026-11-01T00:00:00.000Z', to: '2026-12-01T00:00:00.000Z', source: 'calendar' },
      currency: 'USD',
      price_source: 'plan',
      credits: 150_000,
      amount: 275,
      bands: [
        { from_credits: 0, to_credits: 100_000, price_per_credit: 0.002, credits: 100_000, amount: 200 },
        { from_credits: 100_000, to_credits: null, price_per_credit: 0.0015, credits: 50_000, amount: 75 },
      ],
      by_key: [
        { key_id: web, key: 'prod-web', environment: 'production', credits: 100_000, amount: 183.33 },
        { key_id: dev, key: 'dev', environment: 'development', credits: 30_000, amount: 55 },
        { key_id: batch, key: 'batch', environment: 'production', credits: 20_000, amount: 36.67 },
      ],
      by_environment: [
        { environment: 'production', credits: 120_000, amount: 220 },
        { environment: 'development', credits: 30_000, amount: 55 },
      ],
    });
    expect(forecast.credits).toBeGreaterThanOrEqual(150_000);
    expect(forecast.low).toBeLessThanOrEqual(forecast.amount);
    expect(forecast.high).toBeGreaterThanOrEqual(forecast.amount);

    const october = (await estimate('?period=2026-10')).json;
    expect(october).toMatchObject({
      period: { from: '2026-10-01T00:00:00.000Z', to: '2026-11-01T00:00:00.000Z', source: 'calendar' },
      credits: 99_999,
      amount: 200, // 99,999 x 0.002 = 199.998, to the cent
      forecast: { credits: 99_999, amount: 200, low: 200, high: 200 },
    });
    expect((await estimate('?period=previous')).json.credits).toBe(99_999);
    const audit = deps.sqlite
      .prepare("SELECT actor, action FROM audit_log WHERE action LIKE 'invoice.%'")
      .all();
    expect(audit).toEqual([{ actor: expect.stringContaining('test-admin'), action: 'invoice.plan.update' }]);
  });

  it('follows the billing period and prices with the subscription when no plan is set', async () => {
    const { web } = await setup(
      { KEYWATCH_CREDIT_PRICE: '0.002' },
      fakeSubscription('2026-12-17T08:00:00Z', {
        price: { amount: 9_900, currency: 'usd' },
        discount: { amount_off: 900, percent_off: null },
      }),
    );
    spend(web, 1_000, Date.UTC(2026, 10, 17, 7)); // before the period began at 08:00
    spend(web, 4_000, Date.UTC(2026, 10, 17, 8));
    const current = (await estimate()).json;
    expect(current).toMatchObject({
      period: { from: '2026-11-17T08:00:00.000Z', to: '2026-12-17T08:00:00.000Z', source: 'subscription' },
      currency: 'USD',
      price_source: 'subscription',
      credits: 4_000,
      amount: 90,
      bands: [],
      forecast: { amount: 90, low: 90, high: 90 },
      by_key: [{ key: 'prod-web', credits: 4_000, amount: 90 }],
    });
    const previous = (await estimate('?period=previous')).json;
    expect(previous).toMatchObject({
      period: { from: '2026-10-17T08:00:00.000Z', to: '2026-11-17T08:00:00.000Z', source: 'subscription' },
      credits: 1_000,
      amount: 90,
    });
    // A calendar month pays its share of the monthly price (November: all of it).
    expect((await estimate('?period=2026-11')).json).toMatchObject({
      period: { source: 'calendar' },
      credits: 5_000,
      amount: 90,
    });

    // The plan setting wins over the subscription.
    await api.call('PUT', '/api/v1/invoice/plan', await api.tokenFor('admin'), TIERED);
    expect((await estimate()).json).toMatchObject({
      price_source: 'plan',
      amount: 8,
      bands: [{ credits: 4_000 }, { credits: 0 }],
    });
  });

  it('yearly plans: the estimate covers the billing year', async () => {
    const { web } = await setup(
      {},
      fakeSubscription('2027-03-17T08:00:00Z', {
        billing_interval: 'year',
        price: { amount: 120_000, currency: 'eur' },
      }),
    );
    spend(web, 500, T0 - HOUR);
    expect((await estimate()).json).toMatchObject({
      period: { from: '2026-03-17T08:00:00.000Z', to: '2027-03-17T08:00:00.000Z', source: 'subscription' },
      currency: 'EUR',
      price_source: 'subscription',
      amount: 1_200,
    });
    // A calendar month of a yearly plan pays its share of the year: 30 of 365 days.
    expect((await estimate('?period=2026-11')).json).toMatchObject({
      price_source: 'subscription',
      amount: 98.63,
    });
  });

  it('falls back to KEYWATCH_CREDIT_PRICE, and to no price at all', async () => {
    const { web } = await setup({ KEYWATCH_CREDIT_PRICE: '0.0025' });
    spend(web, 2_000, T0 - HOUR);
    expect((await estimate()).json).toMatchObject({
      price_source: 'credit_price',
      currency: 'USD',
      amount: 5,
      bands: [{ from_credits: 0, to_credits: null, price_per_credit: 0.0025, credits: 2_000, amount: 5 }],
    });
    deps.cleanup();
    const again = await setup();
    spend(again.web, 2_000, T0 - HOUR);
    expect((await estimate()).json).toMatchObject({
      price_source: 'none',
      currency: null,
      amount: null,
      credits: 2_000,
      bands: [],
      forecast: { amount: null, low: null, high: null },
      by_key: [{ credits: 2_000, amount: null }],
    });
  });
});

describe('validation', () => {
  it('answers 400 naming the field, and a rejected plan changes nothing', async () => {
    await setup();
    const admin = await api.tokenFor('admin');
    for (const [query, message] of [
      ['?period=2026-13', /current, previous or a month/],
      ['?period=last', /current, previous or a month/],
      ['?period=2027-01', /still to come/],
    ] as const) {
      const res = await estimate(query);
      expect(res.status).toBe(400);
      expect(res.json.error.issues).toEqual([{ path: 'period', message: expect.stringMatching(message) }]);
    }
    expect((await api.call('PUT', '/api/v1/invoice/plan', admin, TIERED)).status).toBe(200);
    const bad = async (body: unknown) => {
      const res = await api.call('PUT', '/api/v1/invoice/plan', admin, body);
      expect(res.status).toBe(400);
      return res.json.error.issues.map((i: { path: string }) => i.path);
    };
    expect(
      await bad({
        currency: 'usd',
        bands: [
          { from_credits: 0, to_credits: 100, price_per_credit: 0.002 },
          { from_credits: 200, to_credits: 150, price_per_credit: 0.001 },
        ],
      }),
    ).toEqual(['bands.1.from_credits', 'bands.1.to_credits']);
    expect(await bad({ currency: 'dollars', bands: TIERED.bands })).toEqual(['currency']);
    // A capped last band would leave the credits past it unpriced.
    expect(
      await bad({
        currency: 'USD',
        bands: [{ from_credits: 0, to_credits: 1_000, price_per_credit: 0.002 }],
      }),
    ).toEqual(['bands.0.to_credits']);
    expect(
      await bad({ currency: 'USD', bands: [{ from_credits: 5, to_credits: null, price_per_credit: -1 }] }),
    ).toEqual(['bands.0.price_per_credit', 'bands.0.from_credits']);
    expect(await bad({ currency: 'USD', bands: [] })).toEqual(['bands']);
    expect(await bad({ ...TIERED, extra: 1 })).toEqual(['extra']);
    expect((await api.call('PUT', '/api/v1/invoice/plan', admin, 'not json')).status).toBe(400);
    expect((await api.call('PUT', '/api/v1/invoice/plan', await api.tokenFor('read'), TIERED)).status).toBe(
      403,
    );

    const plan = (await api.call('GET', '/api/v1/invoice/plan', await api.tokenFor('read'))).json.plan;
    expect(plan).toEqual({ ...TIERED, currency: 'USD' });
    const audits = deps.sqlite
      .prepare("SELECT count(*) AS n FROM audit_log WHERE action = 'invoice.plan.update'")
      .get();
    expect(audits).toEqual({ n: 1 });
  });
});
