import { sql } from 'drizzle-orm';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { rows } from '../../../server/db/transaction.ts';
import { createBalancePollJob } from '../../../server/jobs/balance-poll.ts';
import { recordEvents } from '../../../server/usage/record-events.ts';
import { createTestApi } from '../../helpers/api.ts';
import { type FakeMagicHour, startFakeMagicHour } from '../../helpers/fake-magichour.ts';
import { recordUsage } from '../../helpers/history.ts';
import { createTestDeps, forEachStore, T0, type TestDeps } from '../../helpers/store.ts';

const ACCOUNT_KEY = 'mhk_live_account_key_0001';
let fake: FakeMagicHour;
let deps: TestDeps;
let api: ReturnType<typeof createTestApi>;
let read: string;

beforeEach(async () => {
  fake = await startFakeMagicHour();
  fake.keys.add(ACCOUNT_KEY);
  deps = createTestDeps({ MAGICHOUR_BASE_URL: fake.url, MAGICHOUR_ACCOUNT_KEY: ACCOUNT_KEY });
  api = createTestApi(deps);
  read = await api.tokenFor('read');
});
afterEach(async () => {
  await fake.close();
  deps.cleanup();
});

const spend = (id: string, ts: number, credits: number) =>
  recordEvents(deps, [
    {
      source: 'push',
      eventId: id,
      key: { by: 'ref', value: 'prod' },
      ts,
      credits,
      requests: 1,
      status: 200,
      operation: 'face-swap',
    },
  ]);
const unattributed = () =>
  deps.sqlite.prepare('SELECT ts, until, source, credits FROM unattributed_spend ORDER BY id').all();
const balanceSource = async () =>
  (await api.call('GET', '/api/v1/sources', read)).json.sources.find(
    (s: { name: string }) => s.name === 'balance',
  );

describe('balance poller', () => {
  it('stores the balance series and flags the drop attributed usage does not explain', async () => {
    const job = createBalancePollJob(deps);
    fake.account = { balance: 10_000 };
    await job.run();
    deps.clock.advance(5 * 60_000);
    spend('a', T0 + 60_000, 100);
    fake.account = { balance: 9_700 };
    await job.run();
    expect(fake.received.every((r) => r.headers.authorization === `Bearer ${ACCOUNT_KEY}`)).toBe(true);
    expect(unattributed()).toEqual([{ ts: T0, until: T0 + 5 * 60_000, source: 'balance', credits: 200 }]);

    const res = await api.call('GET', '/api/v1/balance', read);
    expect(res.status).toBe(200);
    expect(res.json).toEqual({
      available: true,
      status: 'ok',
      balance: 9_700,
      as_of: new Date(T0 + 5 * 60_000).toISOString(),
      // One point per hour for the chart: the last sample of the hour.
      series: [{ ts: new Date(T0 + 5 * 60_000).toISOString(), balance: 9_700 }],
      unattributed_credits_30d: 200,
    });
    expect(await balanceSource()).toMatchObject({ status: 'ok', events_last_hour: 2, errors_last_hour: 0 });
  });

  it('does not flag a drop that attributed usage explains, within tolerance, or a top-up', async () => {
    const job = createBalancePollJob(deps);
    fake.account = { balance: 10_000 };
    await job.run();
    deps.clock.advance(5 * 60_000);
    spend('a', T0 + 60_000, 495);
    fake.account = { balance: 9_500 };
    await job.run();
    deps.clock.advance(5 * 60_000);
    fake.account = { balance: 50_000 };
    await job.run();
    expect(unattributed()).toEqual([]);
  });

  it('turns itself off on 404 with a clear status instead of failing every run', async () => {
    const job = createBalancePollJob(deps);
    fake.account = { status: 404 };
    await job.run();
    expect(job.disabled()).toBe(true);
    const requests = fake.received.length;
    await job.run();
    await job.run();
    expect(fake.received.length).toBe(requests);

    const res = await api.call('GET', '/api/v1/balance', read);
    expect(res.json).toMatchObject({
      available: false,
      status: 'disabled',
      balance: null,
      as_of: null,
      series: [],
    });
    const source = await balanceSource();
    expect(source.status).toBe('disabled');
    expect(source.detail).toMatch(/404/);
  });

  it('reports errors but keeps polling after a 500 or an unreachable upstream', async () => {
    const job = createBalancePollJob(deps);
    fake.troubleNext({ kind: 'status', status: 500 });
    await job.run();
    expect(job.disabled()).toBe(false);
    expect(await balanceSource()).toMatchObject({ status: 'error', errors_last_hour: 1 });
    await job.run();
    expect(await balanceSource()).toMatchObject({ status: 'ok' });
    await fake.close();
    await job.run();
    expect(await balanceSource()).toMatchObject({ status: 'error' });
    expect(job.disabled()).toBe(false);
    fake = await startFakeMagicHour();
  });

  it('is disabled when no account key is configured', async () => {
    const bare = createTestDeps({ MAGICHOUR_BASE_URL: fake.url });
    const job = createBalancePollJob(bare);
    await job.run();
    expect(job.disabled()).toBe(true);
    expect(fake.received).toHaveLength(0);
    const bareApi = createTestApi(bare);
    const res = await bareApi.call('GET', '/api/v1/balance', await bareApi.tokenFor('read'));
    expect(res.json).toMatchObject({ available: false, status: 'disabled' });
    bare.cleanup();
  });
});

/** The poller's writes, on each store (the readers behind GET /api/v1/balance are SQLite's yet). */
describe('balance poller storage', () =>
  forEachStore((_kind, open) => {
    let store: TestDeps;
    beforeEach(async () => {
      store = await open({ MAGICHOUR_BASE_URL: fake.url, MAGICHOUR_ACCOUNT_KEY: ACCOUNT_KEY });
    });
    afterEach(() => store.cleanup());
    const stored = async () => ({
      samples: await rows(store.db, sql`SELECT ts, balance FROM balance_samples ORDER BY ts`),
      unattributed: await rows(
        store.db,
        sql`SELECT ts, until, source, credits FROM unattributed_spend ORDER BY id`,
      ),
      source: await rows(store.db, sql`SELECT name, status FROM source_state ORDER BY name`),
    });

    it('stores samples, the unexplained drop only, and its own state; a sample stored twice counts once', async () => {
      const job = createBalancePollJob(store);
      fake.account = { balance: 10_000 };
      await job.run();
      store.clock.advance(5 * 60_000);
      await recordUsage(store, [
        {
          source: 'push',
          eventId: 'a',
          key: { by: 'ref', value: 'prod' },
          ts: T0 + 60_000,
          credits: 100,
          requests: 1,
          status: 200,
          operation: 'face-swap',
        },
      ]);
      fake.account = { balance: 9_700 };
      await job.run();
      await job.run();
      store.clock.advance(5 * 60_000);
      fake.account = { balance: 50_000 };
      await job.run();
      expect(await stored()).toEqual({
        samples: [
          { ts: T0, balance: 10_000 },
          { ts: T0 + 5 * 60_000, balance: 9_700 },
          { ts: T0 + 10 * 60_000, balance: 50_000 },
        ],
        unattributed: [{ ts: T0, until: T0 + 5 * 60_000, source: 'balance', credits: 200 }],
        source: [{ name: 'balance', status: 'ok' }],
      });
      fake.account = { status: 404 };
      await job.run();
      expect((await stored()).source).toEqual([{ name: 'balance', status: 'disabled' }]);
    });
  }));
