import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createAlertListener } from '../../server/alerts/notify.ts';
import { evaluateBudgets } from '../../server/budgets/evaluate.ts';
import { HOUR, MINUTE } from '../../server/clock.ts';
import { addToBuckets } from '../../server/usage/buckets.ts';
import { createTestApi } from '../helpers/api.ts';
import { addKey, alertEnv, BILLING_TO, markOutboxSent, outboxRows } from '../helpers/incident-fixtures.ts';
import { createTestDeps, type TestDeps } from '../helpers/store.ts';

let deps: TestDeps;
let api: ReturnType<typeof createTestApi>;
let admin: string;
let prod: string;

async function setup(env: Record<string, string> = {}) {
  deps = createTestDeps({ ...alertEnv(), ...env });
  api = createTestApi(deps);
  admin = await api.tokenFor('admin');
  prod = await addKey(deps, 'prod-web');
}
afterEach(() => deps.cleanup());

const spend = (keyId: string, credits: number, ts = deps.clock.now() - MINUTE) =>
  addToBuckets(deps.sqlite, [
    { keyId, ts, operation: 'face-swap', credits, requests: 1, errors: 0, authFailures: 0 },
  ]);
const evaluate = () => evaluateBudgets(deps, createAlertListener(deps));
const budgetIncidents = () =>
  deps.sqlite
    .prepare(
      "SELECT kind, severity, state, key_id FROM incidents WHERE kind LIKE 'budget_%' ORDER BY created_at, rowid",
    )
    .all();
const subjects = async () => (await outboxRows(deps)).map((r) => r.subject);

describe('budget evaluation', () => {
  beforeEach(() => setup());

  it('fires each threshold once per month, through the listener and the outbox', async () => {
    const created = await api.call('POST', '/api/v1/budgets', admin, {
      scope: 'environment',
      target: 'production',
      monthly_credits: 50_000,
      notify_forecast: false,
    });
    expect(created.status).toBe(201);
    spend(prod, 40_000, Date.UTC(2026, 10, 2));

    expect(await evaluate()).toEqual({ fired: 2, resolved: 0 });
    expect(await evaluate()).toEqual({ fired: 0, resolved: 0 });
    expect(budgetIncidents()).toEqual([
      { kind: 'budget_threshold', severity: 'warning', state: 'open', key_id: null },
    ]);
    expect(await subjects()).toEqual([
      '[Keywatch] WARNING production environment budget: 80% of 50,000 credits used (40,000)',
    ]);
    expect((await outboxRows(deps))[0]!.recipients).toBe(BILLING_TO);
    expect((await outboxRows(deps))[0]!.text).toContain('Check the top keys');
    await markOutboxSent(deps);

    spend(prod, 10_000);
    expect((await evaluate()).fired).toBe(1);
    deps.clock.advance(HOUR);
    expect((await evaluate()).fired).toBe(0);
    expect(budgetIncidents()).toEqual([
      { kind: 'budget_threshold', severity: 'critical', state: 'open', key_id: null },
    ]);
    expect(await subjects()).toHaveLength(2);
    expect((await subjects())[1]).toBe(
      '[Keywatch] CRITICAL production environment budget: 100% of 50,000 credits used (50,000)',
    );

    await markOutboxSent(deps);
    // December: November's findings close; the thresholds may fire again for the new month.
    deps.clock.set(Date.UTC(2026, 11, 1, 0, 30));
    expect(await evaluate()).toEqual({ fired: 0, resolved: 1 });
    expect((await subjects())[2]).toMatch(/^\[Keywatch\] RESOLVED production environment budget/);
    spend(prod, 26_000);
    expect((await evaluate()).fired).toBe(1);
    expect((await evaluate()).fired).toBe(0);
    expect(budgetIncidents()).toHaveLength(2);
    expect(await subjects()).toHaveLength(4);
  });

  it("warns once when the month is forecast to exceed, and treats a key's budget_credits as its budget", async () => {
    const staging = await addKey(deps, 'staging-api', {
      environment: 'staging',
      last4: 'c3d4',
      budgetCredits: 1_000,
    });
    await api.call('POST', '/api/v1/budgets', admin, { scope: 'total', monthly_credits: 100_000 });
    deps.clock.set(Date.UTC(2026, 11, 5, 12));
    spend(prod, 20_000);
    spend(staging, 600);
    // The first spend ever, at noon: today's pace (2x so far a day) carries the rest of the month.
    expect((await evaluate()).fired).toBe(3);
    expect((await evaluate()).fired).toBe(0);
    expect(budgetIncidents()).toEqual([
      { kind: 'budget_forecast', severity: 'warning', state: 'open', key_id: null },
      { kind: 'budget_threshold', severity: 'info', state: 'open', key_id: staging },
      { kind: 'budget_forecast', severity: 'warning', state: 'open', key_id: staging },
    ]);
    expect(await subjects()).toEqual([
      '[Keywatch] WARNING Total budget: 1,112% of 100,000 credits forecast (1,112,400)',
      '[Keywatch] INFO staging-api (…c3d4): 60% of 1,000 credits used (600)',
      '[Keywatch] WARNING staging-api (…c3d4): 3,240% of 1,000 credits forecast (32,400)',
    ]);
    const list = await api.call('GET', '/api/v1/budgets', admin);
    expect(list.json.budgets).toEqual([
      expect.objectContaining({
        scope: 'total',
        target: null,
        spent: 20_600,
        projected: 1_112_400,
        state: 'at_risk',
        thresholds: [0.5, 0.8, 1],
        notify_forecast: true,
      }),
      expect.objectContaining({
        id: `key:${staging}`,
        scope: 'key',
        target: staging,
        monthly_credits: 1_000,
        spent: 600,
        source: 'key',
      }),
    ]);
  });
});

describe('budgets API', () => {
  it('counts the month in the configured time zone', async () => {
    await setup({ KEYWATCH_TZ: 'America/New_York' });
    const res = await api.call('POST', '/api/v1/budgets', admin, {
      scope: 'key',
      target: 'prod-web',
      monthly_credits: 1_000,
    });
    expect(res.json.budget).toMatchObject({ scope: 'key', target: prod });
    // 02:00 UTC on 1 December is still 30 November in New York.
    deps.clock.set(Date.UTC(2026, 11, 1, 3));
    spend(prod, 700, Date.UTC(2026, 11, 1, 2));
    const got = await api.call('GET', `/api/v1/budgets/${res.json.budget.id}`, admin);
    expect(got.json.budget).toMatchObject({ month: '2026-11', spent: 700 });
  });

  it('validates, edits, refuses duplicates and deletes', async () => {
    await setup();
    const bad = await api.call('POST', '/api/v1/budgets', admin, {
      scope: 'key',
      target: 'nope',
      monthly_credits: -1,
    });
    expect(bad.status).toBe(400);
    expect(bad.json.error.issues.map((i: { path: string }) => i.path)).toEqual(['monthly_credits']);
    const noKey = await api.call('POST', '/api/v1/budgets', admin, {
      scope: 'key',
      target: 'nope',
      monthly_credits: 5,
    });
    expect(noKey.json.error.issues[0].path).toBe('target');
    const made = await api.call('POST', '/api/v1/budgets', admin, {
      scope: 'total',
      monthly_credits: 500,
      thresholds: [1, 0.9],
    });
    expect(made.json.budget.thresholds).toEqual([0.9, 1]);
    expect(
      (await api.call('POST', '/api/v1/budgets', admin, { scope: 'total', monthly_credits: 9 })).status,
    ).toBe(409);
    const id = made.json.budget.id;
    const patched = await api.call('PATCH', `/api/v1/budgets/${id}`, admin, { monthly_credits: 800 });
    expect(patched.json.budget.monthly_credits).toBe(800);
    expect(
      (await api.call('PATCH', `/api/v1/budgets/key:${prod}`, admin, { monthly_credits: 1 })).status,
    ).toBe(409);
    expect((await api.call('DELETE', `/api/v1/budgets/${id}`, admin)).status).toBe(204);
    expect((await api.call('DELETE', `/api/v1/budgets/${id}`, admin)).status).toBe(404);
    const actions = deps.sqlite
      .prepare("SELECT action FROM audit_log WHERE action LIKE 'budget.%' ORDER BY id")
      .all();
    expect(actions.map((a) => (a as { action: string }).action)).toEqual([
      'budget.create',
      'budget.update',
      'budget.delete',
    ]);
  });
});
