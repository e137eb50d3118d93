import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type Subscription, saveAccountSnapshot } from '../../server/account/snapshot.ts';
import { DAY } from '../../server/clock.ts';
import { storeSample } from '../../server/ingest/poll/balance.ts';
import { createTestApi } from '../helpers/api.ts';
import { createTestDeps, type TestDeps } from '../helpers/store.ts';

let deps: TestDeps;
let api: ReturnType<typeof createTestApi>;
let read: string;
const NOW = Date.UTC(2026, 10, 26, 12); // 26 Nov 2026, noon UTC

const subscription = (over: Partial<Subscription> = {}): Subscription => ({
  name: 'Creator',
  status: 'active',
  interval: 'month',
  currentPeriodEnd: Date.UTC(2026, 11, 17, 8), // renews on the 17th at 08:00 UTC
  cancelAtPeriodEnd: false,
  priceCents: 1_200,
  currency: 'USD',
  discount: null,
  ...over,
});

beforeEach(async () => {
  deps = createTestDeps();
  deps.clock.set(NOW);
  api = createTestApi(deps);
  read = await api.tokenFor('read');
  const admin = await api.tokenFor('admin');
  await api.call('POST', '/api/v1/keys', admin, { name: 'web', environment: 'production' });
  // 1,000 credits a day, 250 every 6 hours (00, 06, 12, 18 UTC), for 45 days.
  const events = [];
  for (let t = NOW - 45 * DAY; t < NOW; t += DAY / 4)
    events.push({ id: `w${t}`, key: 'web', ts: t, credits: 250 });
  expect((await api.call('POST', '/api/v1/usage', await api.tokenFor('ingest'), { events })).status).toBe(
    200,
  );
});
afterEach(() => deps.cleanup());

const forecast = async () => (await api.call('GET', '/api/v1/forecast', read)).json;

describe('period-end forecast over a billing period', () => {
  it('runs from the 17th 08:00 to the next 17th 08:00, counting only spend inside the period', async () => {
    await saveAccountSnapshot(deps.db, { tier: 'creator', subscription: subscription() }, NOW);
    const f = await forecast();
    expect(f.month).toBe('2026-11-17');
    expect(f.period).toEqual({
      from: '2026-11-17T08:00:00.000Z',
      to: '2026-12-17T08:00:00.000Z',
      source: 'subscription',
    });
    // 17 Nov counts from 08:00 (the 12:00 and 18:00 events), then 8 full days, then 26 Nov's morning.
    expect(f.daily[0]).toEqual({ date: '2026-11-17', credits: 500, cumulative: 500 });
    expect(f.spent).toBe(500 + 8 * 1_000 + 500);
    expect(f.daily).toHaveLength(10);
    expect(f.projection.map((p: { date: string }) => p.date).at(-1)).toBe('2026-12-17');
    expect(f.projection).toHaveLength(21);
    // The rest of today, 20 full days, and the 8 hours of 17 Dec inside the period.
    expect(f.projected).toBeCloseTo(9_000 + 500 + 20_000 + 1_000 / 3, -1);
  });

  it('says when the balance runs out before the period ends', async () => {
    await saveAccountSnapshot(deps.db, { tier: 'creator', subscription: subscription() }, NOW);
    await storeSample(deps, NOW - 60_000, 5_000);
    const f = await forecast();
    expect(f.runway_days).toBeCloseTo(5, 0);
    expect(f.runway_past_period_end).toBe(false);
    await storeSample(deps, NOW, 50_000);
    expect((await forecast()).runway_past_period_end).toBe(true);
  });

  it('uses the calendar month when the account has no subscription or never answered', async () => {
    expect((await forecast()).period.source).toBe('calendar');
    await saveAccountSnapshot(deps.db, { tier: 'free', subscription: null }, NOW);
    const f = await forecast();
    expect(f).toMatchObject({
      month: '2026-11',
      period: { from: '2026-11-01T00:00:00.000Z', source: 'calendar' },
    });
    expect(f.projected).toBeCloseTo(30_000, -2);
  });
});
