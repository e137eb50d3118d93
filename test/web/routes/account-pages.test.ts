/** The account's plan and the period in use on the Overview and Settings pages (server-rendered). */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { saveAccountSnapshot } from '../../../server/account/snapshot.ts';
import { addUser } from '../../../server/auth/users.ts';
import { createTestApi } from '../../helpers/api.ts';
import { createTestDeps, T0, type TestDeps } from '../../helpers/store.ts';

let deps: TestDeps;
let api: ReturnType<typeof createTestApi>;
let cookie: string;
const ADMIN = { email: 'admin@example.com', password: 'correct-horse-battery' };

beforeEach(async () => {
  deps = createTestDeps();
  api = createTestApi(deps);
  await addUser(deps, { ...ADMIN, role: 'admin' }, 'test');
  const res = await api.app.request('/login', {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ ...ADMIN, next: '/' }).toString(),
  });
  cookie = `kw_session=${/kw_session=([^;]+)/.exec(res.headers.get('set-cookie') ?? '')?.[1]}`;
});
afterEach(() => deps.cleanup());

const page = async (path: string) => {
  const res = await api.app.request(path, { headers: { cookie } });
  expect(res.status).toBe(200);
  const html = await res.text();
  // Strict CSP: nothing inline.
  expect(html).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/);
  expect(html).not.toMatch(/\sstyle="/);
  return html;
};

describe('account plan on the pages', () => {
  it('shows plan, price after discount and renewal, and says the billing period is in use', async () => {
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
          discount: { amountOffCents: null, percentOff: 25 },
        },
      },
      T0,
    );
    const overview = await page('/');
    expect(overview).toContain('Creator · creator');
    expect(overview).toContain('$9.00 a month ($12.00 a month before 25% off) · Renews 2026-12-17');
    expect(overview).toContain('Credits this billing period');
    expect(overview).toContain('Period-end forecast');
    expect(overview).toContain('Billing period 2026-11-17 to 2026-12-17');

    const settings = await page('/settings');
    expect(settings).toContain('Account and billing period');
    expect(settings).toContain('Creator (active, billed monthly)');
    expect(settings).toContain('25% off');
    expect(settings).toContain('Renews 2026-12-17');
  });

  it('says when the account endpoint does not answer and calendar months are used', async () => {
    const overview = await page('/');
    expect(overview).toContain('Account endpoint not answering');
    expect(overview).toContain('Month-end forecast');
    expect(overview).toContain('Calendar month 2026-11 in UTC: the account endpoint has not answered.');
    const settings = await page('/settings');
    expect(settings).toContain('has not answered (set MAGICHOUR_ACCOUNT_KEY');

    await saveAccountSnapshot(deps.db, { tier: 'free', subscription: null }, T0);
    expect(await page('/')).toContain('Calendar month 2026-11 in UTC: the account has no subscription.');
  });
});
