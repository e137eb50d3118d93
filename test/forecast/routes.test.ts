import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DAY } from '../../server/clock.ts';
import { storeSample } from '../../server/ingest/poll/balance.ts';
import { createTestApi } from '../helpers/api.ts';
import { createTestDeps, type TestDeps } from '../helpers/store.ts';

let deps: TestDeps;
let api: ReturnType<typeof createTestApi>;
const NOW = Date.UTC(2026, 10, 16, 12, 0); // 16 Nov 2026, noon UTC

beforeEach(async () => {
  deps = createTestDeps();
  deps.clock.set(NOW);
  api = createTestApi(deps);
  const admin = await api.tokenFor('admin');
  await api.call('POST', '/api/v1/keys', admin, {
    name: 'web',
    environment: 'production',
    budget_credits: 40_000,
  });
  await api.call('POST', '/api/v1/keys', admin, { name: 'dev', environment: 'development' });
  // 1,000 credits a day on web and 100 on dev, every 6 hours, for 45 days.
  const events = [];
  for (let t = NOW - 45 * DAY; t < NOW; t += DAY / 4) {
    events.push(
      { id: `w${t}`, key: 'web', ts: t, credits: 250 },
      { id: `d${t}`, key: 'dev', ts: t, credits: 25 },
    );
  }
  expect((await api.call('POST', '/api/v1/usage', await api.tokenFor('ingest'), { events })).status).toBe(
    200,
  );
});
afterEach(() => deps.cleanup());

describe('GET /api/v1/forecast', () => {
  it('projects the month for the account, a key and an environment', async () => {
    const read = await api.tokenFor('read');
    const all = (await api.call('GET', '/api/v1/forecast', read)).json;
    expect(all.month).toBe('2026-11');
    expect(all.spent).toBe(15 * 1100 + 2 * 275);
    expect(all.projected).toBeCloseTo(30 * 1100, -2);
    expect(all.daily).toHaveLength(16);
    expect(all.daily.at(-1).cumulative).toBe(all.spent);
    expect(all.projection).toHaveLength(14);
    expect(all.balance).toBeNull();
    expect(all.runway_days).toBeNull();

    const web = (await api.call('GET', '/api/v1/forecast?key=web', read)).json;
    expect(web).toMatchObject({ key: 'web', budget: 40_000 });
    expect(web.projected).toBeCloseTo(30_000, -2);
    const dev = (await api.call('GET', '/api/v1/forecast?environment=development', read)).json;
    expect(dev.projected).toBeCloseTo(3_000, -1);
  });

  it('gives days of runway once the balance poller has stored a sample', async () => {
    await storeSample(deps, NOW - 60_000, 33_000);
    const all = (await api.call('GET', '/api/v1/forecast', await api.tokenFor('read'))).json;
    expect(all.balance).toBe(33_000);
    expect(all.runway_days).toBeCloseTo(33_000 / all.daily_rate, 5);
    expect(all.runway_days).toBeGreaterThan(25);
    expect(all.runway_days).toBeLessThan(35);
    // A key's forecast has no account balance to run down.
    const web = (await api.call('GET', '/api/v1/forecast?key=web', await api.tokenFor('read'))).json;
    expect(web.runway_days).toBeNull();
  });

  it('rejects unknown keys and needs credentials', async () => {
    expect((await api.call('GET', '/api/v1/forecast?key=nope', await api.tokenFor('read'))).status).toBe(404);
    expect((await api.call('GET', '/api/v1/forecast', null)).status).toBe(401);
  });
});
