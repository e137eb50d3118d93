/**
 * What billing owners and capacity planners open on Mondays, in Chromium on the real API: one
 * "last 7 days", the calendar month by key, budgets in words, a key added from the UI, capacity
 * ranges and growth, rule fields that show their errors, dark mode, the favicon, the phone layout,
 * and the rotation assistant from pairing to "safe to revoke" and after.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DAY } from '../../server/clock.ts';
import { createTestApi } from '../helpers/api.ts';
import {
  chromiumAvailable,
  type DemoServer,
  launchBrowser,
  type Page,
  signIn,
  startDemoServer,
  waitForChart,
} from '../helpers/e2e.ts';

const available = chromiumAvailable();
const PAGES = ['/', '/keys', '/incidents', '/budgets', '/capacity', '/invoice', '/settings'];
const digits = (text: string | null) => Number((text ?? '').replace(/[^\d.]/g, ''));

describe.skipIf(!available)('the Monday dashboard in Chromium', { timeout: 90_000 }, () => {
  let server: DemoServer;
  let api: ReturnType<typeof createTestApi>;
  let admin: string;
  let browser: Awaited<ReturnType<typeof launchBrowser>>;
  let page: Page;
  const errors: string[] = [];
  const get = async (path: string) => (await api.call('GET', path, admin)).json;
  const keyId = async (name: string) =>
    (await get('/api/v1/keys')).keys.find((k: { name: string }) => k.name === name).id as string;

  beforeAll(async () => {
    server = await startDemoServer();
    api = createTestApi(server.deps);
    admin = await api.tokenFor('admin');
    browser = await launchBrowser();
    page = await browser.context.newPage();
    page.on('pageerror', (e) => errors.push(e.message));
    await signIn(page, server.url, server.admin);
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await server?.stop();
  });

  it('shows one "last 7 days": the Overview and Keys agree, and each says what it counts', async () => {
    await page.goto(`${server.url}/`);
    const overview = await page
      .locator('#top-keys-h ~ .table-wrap tr', { hasText: 'prod-web' })
      .locator('td.num')
      .first()
      .textContent();
    expect(await page.locator('#top-keys-h + .window-note').textContent()).toContain(
      'today so far and the 6 days before it',
    );
    // Data freshness shows every column at 1280 px (it used to be clipped).
    const sources = page.locator('#sources .table-wrap');
    await expect.poll(() => sources.count()).toBe(1);
    expect(await sources.evaluate((el) => el.scrollWidth <= el.clientWidth + 1)).toBe(true);
    await page.goto(`${server.url}/keys`);
    const keys = await page
      .locator('#keys-table tbody tr', { hasText: 'prod-web' })
      .locator('.spark-cell .small')
      .textContent();
    expect(digits(overview)).toBeGreaterThan(0);
    // The overview shows money beside credits: compare the credit figures only.
    expect(digits((overview ?? '').split(' credits')[0] ?? '')).toBe(digits(keys));
    expect(await page.locator('.window-note').first().textContent()).toContain('6 days before it');
  });

  it('lists credits by key per calendar month, the current month to date, totals matching the API', async () => {
    await page.goto(`${server.url}/`);
    const heads = await page.locator('#month-by-key thead th').allTextContents();
    // The key column, then the months from the first with usage (the demo starts in October).
    expect(heads.slice(1).map((h) => h.replace(/ \(to date\)/, ''))).toEqual([
      'October 2026',
      'November 2026',
    ]);
    expect(heads.at(-1)).toMatch(/November 2026 \(to date\)/);
    const rows = await page.locator('#month-by-key tbody tr').count();
    expect(rows).toBeGreaterThan(3);
    // The footer's current month equals the usage API's total from the start of the month to now.
    const start = Date.UTC(2026, 10, 1);
    const usage = await get(`/api/v1/usage?step=hour&from=${start}&to=${server.clock.now() + 1}`);
    const total = usage.points.reduce((s: number, p: { credits: number }) => s + p.credits, 0);
    const footer = await page.locator('#month-by-key tfoot td').last().textContent();
    expect(digits((footer ?? '').split(' credits')[0] ?? '')).toBe(Math.round(total));
  });

  it('adds a key from the Keys page, with Status and Hygiene in view at 1280 px', async () => {
    await page.goto(`${server.url}/keys`);
    const wrap = page.locator('#keys-table').locator('xpath=..');
    const clipped = await wrap.evaluate((el) => el.scrollWidth > el.clientWidth + 1);
    expect(clipped).toBe(false);
    for (const name of ['Status', 'Hygiene']) {
      const box = await page.locator('#keys-table thead th', { hasText: name }).boundingBox();
      expect(box && box.x + box.width).toBeLessThanOrEqual(1280);
    }
    await page.locator('#add-key summary').click();
    await page.locator('#key-add [name="name"]').fill('prod-web-2026');
    await page.locator('#key-add [name="environment"]').fill('production');
    await page.locator('#key-add [name="secret"]').fill('mhk_live_NEWkey000000000000wxyz');
    await Promise.all([
      page.waitForURL(/\/keys\/key_/),
      page.getByRole('button', { name: 'Add key' }).click(),
    ]);
    expect(await page.locator('h1').textContent()).toBe('Key prod-web-2026');
    const created = (await get('/api/v1/keys')).keys.find(
      (k: { name: string }) => k.name === 'prod-web-2026',
    );
    expect(created).toMatchObject({ environment: 'production', last4: 'wxyz', status: 'active' });
    // A bad name is refused with the API's message naming the field.
    await page.goto(`${server.url}/keys`);
    await page.locator('#add-key summary').click();
    await page.locator('#key-add [name="name"]').fill('prod-web-2026');
    await page.getByRole('button', { name: 'Add key' }).click();
    await expect
      .poll(() => page.locator('#key-add-status').textContent())
      .toMatch(/Not added: .*already exists/);
  });

  it('names budgets by key, says their state in words, separates thousands and flags a forecast over budget', async () => {
    const id = await keyId('prod-web');
    const made = await api.call('POST', '/api/v1/budgets', admin, {
      scope: 'key',
      target: id,
      monthly_credits: 1000,
    });
    expect(made.status).toBe(201);
    await api.call('POST', '/api/v1/budgets', admin, {
      scope: 'total',
      target: null,
      monthly_credits: 3_000_000,
    });
    await page.goto(`${server.url}/budgets`);
    const table = page.locator('#budgets');
    await expect.poll(() => table.textContent()).toContain('Key prod-web');
    const text = (await table.textContent()) ?? '';
    expect(text).not.toContain(id);
    expect(text).not.toMatch(/at_risk|exceeded|\b3000000\b/);
    expect(text).toMatch(/Over budget/);
    expect(text).toContain('3,000,000');
    const forecast = await get('/api/v1/forecast');
    await page.goto(`${server.url}/`);
    await waitForChart(page, 'chart-forecast');
    const flag = page.locator('#forecast-over');
    if (forecast.budget && forecast.projected > forecast.budget) {
      await expect.poll(() => flag.textContent()).toContain('Over budget');
    } else expect(await flag.count()).toBe(0);
    // Every chart has its numbers as a table for screen readers.
    expect(await page.locator('#chart-daily-table table tbody tr').count()).toBe(30);
  });

  it('edits rule parameters in fields, and the backtest refuses what PUT /rules refuses, beside the field', async () => {
    await page.goto(`${server.url}/budgets`);
    const field = page.locator('#rule-credit_spike-floor_credits');
    await field.fill('-5');
    await page
      .locator('#rules tr', { hasText: 'Credit spike' })
      .getByRole('button', { name: 'Save' })
      .click();
    await expect
      .poll(() => page.locator('#rule-credit_spike-floor_credits-error').textContent())
      .not.toBe('');
    expect(await field.getAttribute('aria-invalid')).toBe('true');
    await field.fill('400');
    await page
      .locator('#rules tr', { hasText: 'Credit spike' })
      .getByRole('button', { name: 'Save' })
      .click();
    await expect
      .poll(() => page.locator('#rules tr', { hasText: 'Credit spike' }).locator('output').textContent())
      .toBe('Saved.');
    const rules = await get('/api/v1/rules');
    expect(rules.rules.find((r: { kind: string }) => r.kind === 'credit_spike').params.floor_credits).toBe(
      400,
    );

    await page.locator('#backtest-form select[name="kind"]').selectOption('credit_spike');
    await page.locator('#bt-alpha').fill('2');
    await page.getByRole('button', { name: 'Run backtest' }).click();
    await expect.poll(() => page.locator('#bt-alpha-error').textContent()).toBe('must be between 0 and 1');
    await expect
      .poll(() => page.locator('#backtest-result').textContent(), { timeout: 10_000 })
      .toContain('Backtest refused');
  });

  it('plans capacity over a year with months of KEYWATCH_TZ, growth and the partial month marked', async () => {
    await page.goto(`${server.url}/capacity`);
    await waitForChart(page, 'chart-monthly');
    expect(await page.locator('#capacity-days option').allTextContents()).toEqual([
      '30 days',
      '90 days',
      '180 days',
      '365 days',
    ]);
    await page.locator('#capacity-days').selectOption('365');
    await waitForChart(page, 'chart-stacked');
    const growth = page.locator('#capacity-growth tbody tr');
    await expect.poll(() => growth.count()).toBeGreaterThan(1);
    expect(await growth.first().textContent()).toMatch(/\(to date\).*on pace for/);
    const monthly = await page.locator('#csv-monthly').getAttribute('href');
    const csv = (await api.call('GET', monthly ?? '', await api.tokenFor('read'))).json as string;
    const lines = csv.trim().split('\r\n');
    expect(lines[0]).toBe('key,month,partial,credits,requests,errors,auth_failures');
    // It starts where the data does: the first month of every key is not a row of zeros for all.
    const firstMonth = lines[1]?.split(',')[1];
    const firstRows = lines.slice(1).filter((l) => l.split(',')[1] === firstMonth);
    expect(firstRows.some((l) => Number(l.split(',')[3]) > 0)).toBe(true);
    expect(lines.at(-1)).toMatch(/,2026-11,yes,/);
  });

  it('edits alert routing in Settings, with an environment override, and shows a bad address beside its field', async () => {
    await page.goto(`${server.url}/settings`);
    const form = page.locator('#routing-form');
    await form.locator('[name="security_to"]').fill('oncall@example.com, sre@example.com');
    await form.locator('[name="min_severity"]').selectOption('warning');
    await page.getByRole('button', { name: 'Add environment override' }).click();
    await form.locator('[name="environments.0.environment"]').fill('staging');
    await form.locator('[name="environments.0.security_to"]').fill('none');
    await page.getByRole('button', { name: 'Save routing' }).click();
    await expect.poll(() => page.locator('#routing-status').textContent()).toBe('Routing saved.');
    expect((await get('/api/v1/alerts/routing')).routing).toMatchObject({
      security_to: ['oncall@example.com', 'sre@example.com'],
      min_severity: 'warning',
      environments: [{ environment: 'staging', security_to: [] }],
    });
    await form.locator('[name="billing_to"]').fill('not-an-address');
    await page.getByRole('button', { name: 'Save routing' }).click();
    await expect.poll(() => page.locator('#billing_to-error').textContent()).not.toBe('');
    expect(await form.locator('[name="billing_to"]').getAttribute('aria-invalid')).toBe('true');
    expect((await get('/api/v1/alerts/routing')).routing.billing_to).not.toContain('not-an-address');
  });

  it('estimates the invoice in money by key and environment, says its price source, and saves a banded plan', async () => {
    await page.goto(`${server.url}/invoice`);
    // The demo server has KEYWATCH_CREDIT_PRICE=0.0015 and no plan yet.
    await expect.poll(() => page.locator('#invoice-source').textContent()).toContain('KEYWATCH_CREDIT_PRICE');
    const before = await get('/api/v1/invoice/estimate?period=current');
    expect(before.price_source).toBe('credit_price');
    const shown = await page.locator('#invoice-amount').textContent();
    expect(shown).toBe(
      new Intl.NumberFormat('en-US', { style: 'currency', currency: 'USD' }).format(before.amount),
    );
    expect(await page.locator('#invoice-by-key tbody tr').count()).toBe(before.by_key.length);
    expect(await page.locator('#invoice-by-env tbody tr').count()).toBe(before.by_environment.length);

    // A plan with a gap between bands is refused beside the field; a contiguous one is saved.
    const form = page.locator('#plan-form');
    await form.locator('[name="currency"]').fill('eur');
    await form.locator('input[name$=".to_credits"]').first().fill('1000000');
    await page.getByRole('button', { name: 'Add band' }).click();
    const from2 = form.locator('fieldset.band').nth(1).locator('input[name$=".from_credits"]');
    await from2.fill('900000');
    await form.locator('fieldset.band').nth(1).locator('input[name$=".price_per_credit"]').fill('0.001');
    await page.getByRole('button', { name: 'Save plan' }).click();
    await expect.poll(() => from2.getAttribute('aria-invalid')).toBe('true');
    await from2.fill('1000000');
    await page.getByRole('button', { name: 'Save plan' }).click();
    await expect.poll(() => page.locator('#plan-status').textContent()).toBe('Plan saved.');
    expect((await get('/api/v1/invoice/plan')).plan).toMatchObject({
      currency: 'EUR',
      bands: [
        { from_credits: 0, to_credits: 1_000_000, price_per_credit: 0.0015 },
        { from_credits: 1_000_000, to_credits: null, price_per_credit: 0.001 },
      ],
    });
    await expect.poll(() => page.locator('#invoice-source').textContent()).toContain('plan set on this page');
    const after = await get('/api/v1/invoice/estimate?period=current');
    expect(await page.locator('#invoice-forecast').textContent()).toBe(
      new Intl.NumberFormat('en-US', { style: 'currency', currency: 'EUR' }).format(after.forecast.amount),
    );
    await page.locator('#invoice-period').selectOption('previous');
    await expect.poll(() => page.locator('#invoice-period-note').textContent()).toContain('Oct');
  });

  it('serves a favicon and follows the dark colour scheme', async () => {
    const icon = await fetch(`${server.url}/favicon.ico`);
    expect(icon.status).toBe(200);
    expect(icon.headers.get('content-type')).toBe('image/svg+xml');
    await page.emulateMedia({ colorScheme: 'dark' });
    await page.goto(`${server.url}/`);
    const bg = await page.evaluate(
      () => getComputedStyle(document.body.parentElement as Element).backgroundColor,
    );
    expect(bg).toBe('rgb(17, 21, 28)');
    await page.emulateMedia({ colorScheme: 'light' });
  });

  it('fits a 390 px phone: no sideways scroll on any page, every nav item in sight', async () => {
    const phone = await launchBrowser({ width: 390, height: 844 });
    try {
      const p = await phone.context.newPage();
      await signIn(p, server.url, server.admin);
      const id = await keyId('prod-web');
      for (const path of [...PAGES, `/keys/${id}`]) {
        await p.goto(`${server.url}${path}`, { waitUntil: 'networkidle' });
        const width = await p.evaluate(() => document.documentElement.scrollWidth);
        expect({ path, width }).toEqual({ path, width: 390 });
        for (const link of await p.locator('.top nav a').all()) {
          const box = await link.boundingBox();
          expect(box && box.x >= 0 && box.x + box.width <= 390).toBe(true);
        }
      }
      // The keys table keeps Status, Hygiene and the 7-day figure inside its frame: nothing to scroll to.
      await p.goto(`${server.url}/keys`, { waitUntil: 'networkidle' });
      const table = await p.evaluate(() => {
        const t = document.querySelector('#keys-table') as HTMLElement;
        return { scroll: t.scrollWidth, frame: t.parentElement!.clientWidth };
      });
      expect(table.scroll).toBeLessThanOrEqual(table.frame);
    } finally {
      await phone.close();
    }
  });

  it('rotates a key: pair, watch its clients, safe after the quiet time, revoke; later use still alerts', async () => {
    const oldId = await keyId('prod-mobile');
    const made = await api.call('POST', '/api/v1/keys', admin, {
      name: 'prod-mobile-2026',
      environment: 'production',
    });
    expect(made.status).toBe(201);
    await page.goto(`${server.url}/keys/${oldId}`);
    await expect.poll(() => page.locator('#rotation-status').textContent()).toContain('Not being rotated');
    await page
      .locator('#rotation-form select[name="new_key_id"]')
      .selectOption({ label: 'prod-mobile-2026' });
    await page.locator('#rotation-form [name="quiet_minutes"]').fill('120');
    await page.getByRole('button', { name: 'Start rotation' }).click();
    await expect
      .poll(() => page.locator('#rotation-summary').textContent())
      .toContain('Moving to prod-mobile-2026');
    const api1 = await get(`/api/v1/keys/${oldId}/rotation`);
    expect(api1.quiet_minutes).toBe(120);
    const rows = page.locator('#rotation-status tbody tr');
    expect(await rows.count()).toBe(api1.remaining_clients.length);
    expect(api1.remaining_clients.length).toBeGreaterThan(0);
    if (!api1.safe_to_revoke)
      expect(await page.locator('#rotation-summary').textContent()).toContain('Not yet safe');

    // Nothing used the old key for a day: safe; revoke it from the assistant.
    server.clock.advance(DAY);
    await page.reload();
    await expect.poll(() => page.locator('#rotation-summary').textContent()).toContain('Safe to revoke');
    page.once('dialog', (d) => void d.accept());
    await Promise.all([page.waitForEvent('load'), page.locator('#rotation-revoke').click()]);
    expect((await get(`/api/v1/keys/${oldId}`)).key.status).toBe('revoked');
    await expect.poll(() => page.locator('#rotation-summary').textContent()).toContain('rotation done');

    // Use after revocation is still an incident, rotation or not: a call 30 minutes after revoking.
    server.clock.advance(60 * 60_000);
    const at = server.clock.now() - 30 * 60_000;
    const events = [{ id: 'after-revoke', key: 'prod-mobile', ts: at, credits: 50, operation: 'face-swap' }];
    expect((await api.call('POST', '/api/v1/usage', await api.tokenFor('ingest'), { events })).status).toBe(
      200,
    );
    expect((await api.call('POST', '/api/v1/detect/run', admin, {})).status).toBe(200);
    const incidents = (await get(`/api/v1/incidents?key=${oldId}&from=${at - DAY}`)).incidents;
    expect(incidents.map((i: { kind: string }) => i.kind)).toContain('revoked_use');
    expect(errors).toEqual([]);
  });
});
