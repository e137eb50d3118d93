/**
 * The pages lit up by the real endpoints: forecast chart and cards with runway from a balance
 * sample, source health, budgets, rules, backtest, deliveries and acknowledging an incident. What
 * the page shows is compared with what the API answers, and what it saves is read back.
 */
import { mkdirSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { whatToDo } from '../../server/incidents/what-to-do.ts';
import { storeSample } from '../../server/ingest/poll/balance.ts';
import { createTestApi } from '../helpers/api.ts';
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

const available = chromiumAvailable();
/** Set KW_SHOTS=1 to also save screenshots of the lit-up pages next to the others. */
const SHOTS = process.env.KW_SHOTS ? (process.env.KW_SHOTS_DIR ?? '/tmp/kw-shots') : null;
const BALANCE = 4_100_000;

describe.skipIf(!available)('pages lit up by the real endpoints', { timeout: 60_000 }, () => {
  let server: DemoServer;
  let api: ReturnType<typeof createTestApi>;
  let admin: string;
  let browser: Awaited<ReturnType<typeof launchBrowser>>;
  let page: Page;
  const errors: string[] = [];
  const shot = async (name: string) => {
    if (SHOTS) await page.screenshot({ path: `${SHOTS}/lit-${name}.png`, fullPage: true });
  };
  const get = async (path: string) => (await api.call('GET', path, admin)).json;

  beforeAll(async () => {
    if (SHOTS) mkdirSync(SHOTS, { recursive: true });
    server = await startDemoServer();
    api = createTestApi(server.deps);
    admin = await api.tokenFor('admin');
    await storeSample(server.deps, server.clock.now() - 60_000, BALANCE);
    const budget = await api.call('POST', '/api/v1/budgets', admin, {
      scope: 'total',
      target: null,
      monthly_credits: 3_000_000,
    });
    expect(budget.status).toBe(201);
    browser = await launchBrowser();
    page = await browser.context.newPage();
    page.on('pageerror', (e) => errors.push(e.message));
    await signIn(page, server.url, server.admin);
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await server?.stop();
  });

  it('draws the forecast with its band and fills the forecast, budget, runway and source cards', async () => {
    const forecast = await get('/api/v1/forecast');
    expect(forecast.balance).toBe(BALANCE);
    await page.goto(`${server.url}/`);
    await waitForChart(page, 'chart-forecast');
    const days = forecast.runway_days.toLocaleString('en-US', { maximumFractionDigits: 1 });
    await expect.poll(() => page.locator('#runway-value').textContent()).toBe(`${days} days`);
    expect(await page.locator('#runway-hint').textContent()).toContain('Balance 4,100,000 credits');
    expect(await page.locator('#forecast-value').textContent()).toMatch(/^[\d,]+ credits/);
    expect(await page.locator('#forecast-band').textContent()).toMatch(/^Likely [\d,]+–[\d,]+ credits/);
    expect(await page.locator('#budget-hint').textContent()).toMatch(/% of the 3,000,000-credit budget/);
    // A period-end forecast above the 3,000,000 budget is flagged in words, not left to be noticed.
    if (forecast.projected > 3_000_000)
      expect(await page.locator('#forecast-over').textContent()).toMatch(
        /^Over budget: [\d,]+ credits above/,
      );
    else expect(await page.locator('#forecast-over').count()).toBe(0);
    const sources = page.locator('#sources');
    await expect.poll(() => sources.textContent()).toContain('webhooks');
    expect(await sources.textContent()).toContain('Gateway queue: 0 of');
    await shot('overview');
  });

  it('lists budgets and rules, saves a rule and previews a backtest', async () => {
    await page.goto(`${server.url}/budgets`);
    await expect.poll(() => page.locator('#budgets').textContent()).toContain('Whole account');
    await expect.poll(() => page.locator('#rules').textContent()).toContain('Credit spike');
    await page.locator('#rules button', { hasText: 'Save' }).first().click();
    await expect.poll(() => page.locator('#rules output').first().textContent()).toBe('Saved.');
    const audit = await get('/api/v1/audit');
    expect(audit.entries.map((e: { action: string }) => e.action)).toContain('rule.update');

    await page.getByLabel('Days of history').fill('14');
    await page.getByRole('button', { name: 'Run backtest' }).click();
    const expected = (await api.call('POST', '/api/v1/backtest', admin, { kind: 'credit_spike', days: 14 }))
      .json;
    const n: number = expected.fired;
    await expect
      .poll(() => page.locator('#backtest-result').textContent())
      .toContain(`Would have fired ${n} time${n === 1 ? '' : 's'} in 14 days.`);
    await shot('budgets');
  });

  it('creates a budget that the API then lists', async () => {
    await page.locator('#budget-form select[name="scope"]').selectOption('environment');
    await page.locator('#budget-form [name="target"]').fill('production');
    await page.getByLabel('Credits per month').fill('250000');
    await page.getByRole('button', { name: 'Create budget' }).click();
    await expect.poll(() => page.locator('#budget-status').textContent()).toBe('Budget created.');
    const { budgets } = await get('/api/v1/budgets');
    expect(budgets.map((b: { monthly_credits: number }) => b.monthly_credits)).toContain(250_000);
  });

  it('queues a test email and shows it among the deliveries in settings', async () => {
    await page.goto(`${server.url}/settings`);
    await expect.poll(() => page.locator('#sources').textContent()).toContain('gateway');
    await page.locator('#test-email-form input[name="to"]').fill('oncall@example.com');
    await page.getByRole('button', { name: 'Send test email' }).click();
    await expect.poll(() => page.locator('#test-email-status').textContent()).toContain('queued');
    const { deliveries } = await get('/api/v1/alerts/deliveries');
    expect(deliveries.length).toBeGreaterThan(0);
    await page.reload();
    await expect.poll(() => page.locator('#deliveries').textContent()).toContain('[Keywatch]');
    await shot('settings');
  });

  it('acknowledges an incident, and the API reads it back acknowledged', async () => {
    const id = await insertIncident(server, 'prod-web', 'inc_lit');
    await page.goto(`${server.url}/incidents/${id}`);
    await waitForChart(page, 'chart-incident');
    await expect.poll(() => page.locator('#chart-incident').getAttribute('aria-label')).toContain('highest');
    await shot('incident');
    // The steps the page lists are the ones for the incident's kind and severity as the API tells them.
    const before = (await get(`/api/v1/incidents/${id}`)).incident;
    expect(await page.locator('#incident-todo li').allTextContents()).toEqual(
      whatToDo(before.kind, before.severity),
    );
    await page.getByLabel('Note (optional)').fill('looking into it');
    await page.getByRole('button', { name: 'Acknowledge' }).click();
    await expect.poll(() => page.locator('#incident-status').textContent()).toBe('Acknowledged.');
    expect(await page.locator('#incident-state').textContent()).toBe('acknowledged');
    const { incident } = await get(`/api/v1/incidents/${id}`);
    expect(incident).toMatchObject({ state: 'acknowledged', note: 'looking into it' });
    expect(incident.acknowledged_by).toContain('admin@keywatch.local');
    await page.goto(`${server.url}/capacity`);
    await waitForChart(page, 'chart-capacity-forecast');
    await shot('capacity');
    expect(errors).toEqual([]);
  });
});
