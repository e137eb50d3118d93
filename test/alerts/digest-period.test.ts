/** The digest's forecast section follows the billing period when the account has a subscription. */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { saveAccountSnapshot } from '../../server/account/snapshot.ts';
import { readDigestData } from '../../server/alerts/digest-data.ts';
import { renderDigest } from '../../server/alerts/render-digest.ts';
import { dayPeriod } from '../../server/time-zone.ts';
import { addToBuckets } from '../../server/usage/buckets.ts';
import { addKey } from '../helpers/incident-fixtures.ts';
import { createTestDeps, T0, type TestDeps } from '../helpers/store.ts';

let deps: TestDeps;
beforeEach(() => {
  deps = createTestDeps();
});
afterEach(() => deps.cleanup());

const digest = async () => {
  const data = await readDigestData(deps, 'daily', dayPeriod(T0, 'UTC', -1), dayPeriod(T0, 'UTC', -2));
  return { data, text: renderDigest(data, 'https://keywatch.example.com', 'UTC').text };
};

describe('digest forecast section', () => {
  it('counts the billing period that renews on the 17th', async () => {
    const prod = await addKey(deps, 'prod-web');
    const spend = (credits: number, ts: number) =>
      addToBuckets(deps.sqlite, [
        { keyId: prod, ts, operation: 'face-swap', credits, requests: 1, errors: 0, authFailures: 0 },
      ]);
    spend(7_000, Date.UTC(2026, 10, 10, 10)); // before the billing period
    spend(3_000, Date.UTC(2026, 10, 20, 10));
    expect((await digest()).data.month).toMatchObject({
      label: '2026-11',
      spent: 10_000,
      source: 'calendar',
    });
    expect((await digest()).text).toContain('Month-end forecast:\nSpent in 2026-11 so far: 10,000 credits.');

    await saveAccountSnapshot(
      deps.db,
      {
        tier: 'creator',
        subscription: {
          name: 'Creator',
          status: 'active',
          interval: 'month',
          currentPeriodEnd: Date.UTC(2026, 11, 17, 8),
          cancelAtPeriodEnd: false,
          priceCents: 1_200,
          currency: 'USD',
          discount: null,
        },
      },
      T0,
    );
    const { data, text } = await digest();
    expect(data.month).toMatchObject({ label: '2026-11-17', spent: 3_000, source: 'subscription' });
    expect(text).toContain(
      'Period-end forecast:\nSpent in the billing period from 2026-11-17 so far: 3,000 credits.',
    );
    expect(text).toMatch(/Projected by period end \(2026-12-17\): [\d,]+ credits\./);
  });
});
