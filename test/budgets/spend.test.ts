/**
 * A budget's spend, its forecast inputs and the /metrics values, read from storage on both stores:
 * each equal to the events recorded, summed here.
 */
import { afterEach, beforeEach, expect, it } from 'vitest';
import { spendBetween } from '../../server/budgets/spend.ts';
import { DAY, HOUR } from '../../server/clock.ts';
import { budgets, keys } from '../../server/db/schema/index.ts';
import { loadForecastInput } from '../../server/forecast/query.ts';
import { collectMetrics } from '../../server/ops/metrics.ts';
import { createRng } from '../../server/simulate/random.ts';
import type { UsageEvent } from '../../server/usage/record-events.ts';
import { forEachStore, T0, type TestDeps } from '../helpers/store.ts';
import { recordUsage } from '../helpers/usage.ts';

const rng = createRng(5);
const events: UsageEvent[] = Array.from({ length: 1200 }, (_, i) => ({
  source: 'push',
  eventId: `e${i}`,
  key: { by: 'ref', value: rng.pick(['a', 'b', 'c']) },
  ts: T0 - Math.floor(rng.next() * 50 * DAY),
  credits: rng.pick([1, 5, 24, 120]),
  requests: rng.int(1, 3),
  status: 200,
  operation: rng.pick(['face-swap', '']),
}));
const keyOf = (e: UsageEvent) => (e.key as { value: string }).value;
const sumOf = (pick: (e: UsageEvent) => boolean) => events.filter(pick).reduce((s, e) => s + e.credits, 0);

forEachStore((_kind, open) => {
  let deps: TestDeps;
  beforeEach(async () => {
    deps = await open();
    await deps.db.insert(keys).values([
      { id: 'a', name: 'a', status: 'active', environment: 'production', createdAt: 0, updatedAt: 0 },
      { id: 'b', name: 'b', status: 'active', environment: 'staging', createdAt: 0, updatedAt: 0 },
    ]);
    await recordUsage(deps, events, 400);
  });
  afterEach(() => deps.cleanup());

  it("a budget's spend over a range, for the account, a key and an environment", async () => {
    const from = Math.floor((T0 - 20 * DAY) / HOUR) * HOUR;
    const to = T0 + HOUR;
    const inside = (e: UsageEvent) => e.ts >= from && e.ts < to;
    expect(await spendBetween(deps.db, { scope: 'total', target: '' }, from, to)).toBe(sumOf(inside));
    expect(await spendBetween(deps.db, { scope: 'key', target: 'c' }, from, to)).toBe(0);
    const c = (await deps.db.select().from(keys)).find((k) => k.name === 'c')!;
    expect(await spendBetween(deps.db, { scope: 'key', target: c.id }, from, to)).toBe(
      sumOf((e) => inside(e) && keyOf(e) === 'c'),
    );
    expect(await spendBetween(deps.db, { scope: 'environment', target: 'staging' }, from, to)).toBe(
      sumOf((e) => inside(e) && keyOf(e) === 'b'),
    );
    expect(await spendBetween(deps.db, { scope: 'total', target: '' }, T0 + DAY, T0 + 2 * DAY)).toBe(0);
  });

  it("the forecast's daily totals, for the account, a key and an environment", async () => {
    for (const [filter, pick] of [
      [{}, () => true],
      [{ keyId: 'a' }, (e: UsageEvent) => keyOf(e) === 'a'],
      [{ environment: 'staging' }, (e: UsageEvent) => keyOf(e) === 'b'],
    ] as const) {
      const { input } = await loadForecastInput(deps.db, T0, 'UTC', filter);
      const days = [...input.history, ...input.monthToDate];
      expect(days.length).toBeGreaterThan(20);
      for (const d of days) {
        expect(d.credits, `${JSON.stringify(filter)} ${d.date}`).toBe(
          sumOf((e) => pick(e) && new Date(e.ts).toISOString().slice(0, 10) === d.date),
        );
      }
    }
  });

  it('/metrics: all-time credits per key and the share of each budget spent', async () => {
    await deps.db.insert(budgets).values({
      id: 'bud_total',
      scope: 'total',
      target: '',
      monthlyCredits: 1000,
      thresholds: '[0.5,0.8,1]',
      notifyForecast: false,
      createdAt: 0,
      updatedAt: 0,
    });
    const families = await collectMetrics(deps, { residentMemory: () => 1 });
    type Sample = { labels?: Record<string, string>; value: number };
    const family = (name: string) =>
      families.find((f) => f.name === name) as unknown as { samples: Sample[] };
    const credits = family('keywatch_key_credits_total').samples;
    expect(credits.map((s) => s.labels!.key)).toEqual(['a', 'b', 'c']);
    for (const s of credits) expect(s.value).toBe(sumOf((e) => keyOf(e) === s.labels!.key));
    expect(credits.map((s) => s.labels!.environment)).toEqual(['production', 'staging', '']);
    const month = Date.UTC(2026, 10, 1);
    expect(family('keywatch_budget_used_ratio').samples).toEqual([
      { labels: { budget: 'bud_total' }, value: sumOf((e) => e.ts >= month) / 1000 },
    ]);
    expect(family('keywatch_open_incidents').samples.every((s) => s.value === 0)).toBe(true);
    expect(family('keywatch_outbox_backlog').samples).toEqual([]);
  });
});
