/**
 * The pages with the other branches' endpoints present (stand-ins answering the agreed shapes):
 * forecast chart and cards, source health, budgets, rules, backtest, deliveries, acknowledge.
 */
import { mkdirSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  chromiumAvailable,
  type DemoServer,
  insertIncident,
  launchBrowser,
  type Page,
  signIn,
  startDemoServer,
  waitForChart,
} from '../helpers/e2e.ts';
import { serveWithAgreedEndpoints } from './agreed-endpoints.ts';

const available = chromiumAvailable();
/** Set KW_SHOTS=1 to also save screenshots of the lit-up pages next to the others. */
const SHOTS = process.env.KW_SHOTS ? (process.env.KW_SHOTS_DIR ?? '/tmp/kw-shots') : null;

describe.skipIf(!available)('pages with the agreed endpoints present', { timeout: 60_000 }, () => {
  let server: DemoServer;
  let front: Awaited<ReturnType<typeof serveWithAgreedEndpoints>>;
  let browser: Awaited<ReturnType<typeof launchBrowser>>;
  let page: Page;
  const errors: string[] = [];
  const shot = async (name: string) => {
    if (SHOTS) await page.screenshot({ path: `${SHOTS}/lit-${name}.png`, fullPage: true });
  };

  beforeAll(async () => {
    if (SHOTS) mkdirSync(SHOTS, { recursive: true });
    server = await startDemoServer();
    front = await serveWithAgreedEndpoints(server.deps);
    browser = await launchBrowser();
    page = await browser.context.newPage();
    page.on('pageerror', (e) => errors.push(e.message));
    await signIn(page, front.url, server.admin);
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await front?.close();
    await server?.stop();
  });

  it('draws the forecast with its band and fills the forecast, budget, runway and source cards', async () => {
    await page.goto(`${front.url}/`);
    await waitForChart(page, 'chart-forecast');
    await expect.poll(() => page.locator('#runway-value').textContent()).toBe('41 days');
    expect(await page.locator('#forecast-value').textContent()).toMatch(/^[\d,]+ credits/);
    expect(await page.locator('#forecast-band').textContent()).toMatch(/^Likely [\d,]+–[\d,]+ credits/);
    expect(await page.locator('#budget-hint').textContent()).toMatch(/% of the 3,000,000-credit budget/);
    const sources = page.locator('#sources');
    await expect.poll(() => sources.textContent()).toContain('webhooks');
    expect(await sources.textContent()).toContain('stale');
    expect(await sources.textContent()).toContain('Gateway queue: 0 of 10,000');
    await shot('overview');
  });

  it('lists budgets and rules, saves a rule and previews a backtest', async () => {
    await page.goto(`${front.url}/budgets`);
    await expect.poll(() => page.locator('#budgets').textContent()).toContain('whole account');
    expect(await page.locator('#budgets').textContent()).toContain('forecast_exceeded');
    await expect.poll(() => page.locator('#rules').textContent()).toContain('credit spike');
    await page.locator('#rules button', { hasText: 'Save' }).first().click();
    await expect.poll(() => page.locator('#rules output').first().textContent()).toBe('Saved.');
    await page.getByLabel('Days of history').fill('14');
    await page.getByRole('button', { name: 'Run backtest' }).click();
    await expect
      .poll(() => page.locator('#backtest-result').textContent())
      .toContain('Would have fired 2 times in 14 days.');
    expect(await page.locator('#backtest-result tbody tr').count()).toBe(2);
    const put = front.recorded.find((r) => r.method === 'PUT');
    expect(put).toMatchObject({
      path: '/api/v1/rules/credit_spike',
      body: { enabled: true, params: { min_credits: 500, threshold: 6 } },
    });
    expect(front.recorded.find((r) => r.path === '/api/v1/backtest')?.body).toEqual({
      kind: 'credit_spike',
      days: 14,
    });
    await shot('budgets');
  });

  it('creates a budget with the agreed body', async () => {
    await page.getByLabel('Credits per month').fill('250000');
    await page.getByRole('button', { name: 'Create budget' }).click();
    await expect.poll(() => page.locator('#budget-status').textContent()).toBe('Budget created.');
    const post = front.recorded.find((r) => r.method === 'POST' && r.path === '/api/v1/budgets');
    expect(post?.body).toEqual({
      scope: 'total',
      target: null,
      monthly_credits: 250000,
      thresholds: [0.5, 0.8, 1],
      notify_forecast: true,
    });
  });

  it('shows deliveries and source health in settings', async () => {
    await page.goto(`${front.url}/settings`);
    await expect
      .poll(() => page.locator('#deliveries').textContent())
      .toContain('[Keywatch] Credit spike on prod-web');
    await expect.poll(() => page.locator('#sources').textContent()).toContain('gateway');
    await page.getByRole('button', { name: 'Send test email' }).click();
    await expect.poll(() => page.locator('#test-email-status').textContent()).toContain('queued');
    await shot('settings');
  });

  it('acknowledges an incident and shows the new state', async () => {
    const id = insertIncident(server, 'prod-web', 'inc_lit');
    await page.goto(`${front.url}/incidents/${id}`);
    await page.getByLabel('Note (optional)').fill('looking into it');
    await page.getByRole('button', { name: 'Acknowledge' }).click();
    await expect.poll(() => page.locator('#incident-status').textContent()).toBe('Acknowledged.');
    expect(await page.locator('#incident-state').textContent()).toBe('acknowledged');
    expect(await page.locator('#incident-ack').textContent()).toContain('user:admin@keywatch.local');
    expect(front.recorded.find((r) => r.path === `/api/v1/incidents/${id}/ack`)?.body).toEqual({
      note: 'looking into it',
    });
    await page.goto(`${front.url}/capacity`);
    await waitForChart(page, 'chart-capacity-forecast');
    await shot('capacity');
    expect(errors).toEqual([]);
  });
});
