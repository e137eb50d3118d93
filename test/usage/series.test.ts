import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { DAY, HOUR, MINUTE } from '../../server/clock.ts';
import { keys } from '../../server/db/schema/index.ts';
import { toUsageEvent } from '../../server/ingest/push/push.ts';
import { listKeys } from '../../server/keys/keys.ts';
import { createRng } from '../../server/simulate/random.ts';
import { keyDirectory, rankGroups, sumsByKey } from '../../server/usage/rank-groups.ts';
import { GROUPS, groupedSeries, keySeries, totalSeries } from '../../server/usage/series.ts';
import { monthTotals } from '../../web/queries/month-totals.ts';
import { createTestApi } from '../helpers/api.ts';
import { type PgCluster, postgresAvailable, startPgCluster } from '../helpers/postgres.ts';
import { createPgTestDeps, createTestDeps, T0, type TestDeps } from '../helpers/store.ts';
import { recordUsage } from '../helpers/usage.ts';

type Ev = {
  id: string;
  key: string;
  ts: number;
  credits: number;
  status: number;
  operation: string;
  requests: number;
};
const events: Ev[] = [];
const FROM = T0 - 3 * DAY - 7 * HOUR - 13 * MINUTE;

{
  const rng = createRng(99);
  for (let i = 0; i < 3000; i++) {
    events.push({
      id: `e${i}`,
      key: rng.pick(['a', 'b', 'c']),
      ts: FROM + Math.floor(rng.next() * (T0 - FROM)),
      credits: rng.pick([0, 5, 24, 120, 2880]) + rng.next(),
      status: rng.weighted([
        [200, 9],
        [401, 1],
        [429, 1],
      ] as const),
      operation: rng.pick(['face-swap', 'ai-image-generator', '']),
      requests: rng.int(1, 3),
    });
  }
}

/**
 * The same usage on a store: key 'a' registered (with an environment), the events recorded through the store's own
 * writer as push would (push's own conversion, one batch); 'b' and 'c' are discovered.
 */
async function loadUsage(deps: TestDeps) {
  await deps.db.insert(keys).values({
    id: 'key_a',
    name: 'a',
    status: 'active',
    environment: 'production',
    createdAt: T0 - 30 * DAY,
    updatedAt: T0 - 30 * DAY,
  });
  const [result] = await recordUsage(
    deps,
    events.map((e) => toUsageEvent(e, T0, 'push')),
  );
  expect(result).toMatchObject({ accepted: 3000, duplicates: 0 });
}

const sum = (xs: { credits: number }[]) => xs.reduce((s, x) => s + x.credits, 0);

// Through the API on SQLite (the app's ingest services do not open on PostgreSQL yet); the reads
// behind it are compared across the stores below.
describe('on SQLite', () => {
  let deps: TestDeps;
  let api: ReturnType<typeof createTestApi>;
  let read: string;
  beforeEach(async () => {
    deps = createTestDeps();
    await loadUsage(deps);
    api = createTestApi(deps);
    read = await api.tokenFor('read');
  });
  afterEach(() => deps.cleanup());

  describe('usage series', () => {
    for (const step of ['minute', 'hour', 'day'] as const) {
      it(`per key, ${step} points add up to the ingested credits, requests and errors`, async () => {
        for (const key of ['a', 'b', 'c']) {
          const mine = events.filter((e) => e.key === key);
          const res = await api.call(
            'GET',
            `/api/v1/keys/${key}/usage?step=${step}&from=${FROM}&to=${T0}`,
            read,
          );
          expect(res.status).toBe(200);
          expect(res.json.step).toBe(step);
          const points = res.json.points as {
            ts: string;
            credits: number;
            requests: number;
            errors: number;
          }[];
          expect(sum(points)).toBeCloseTo(sum(mine), 6);
          expect(points.reduce((s, p) => s + p.requests, 0)).toBe(mine.reduce((s, e) => s + e.requests, 0));
          expect(points.reduce((s, p) => s + p.errors, 0)).toBe(
            mine.filter((e) => e.status >= 400).reduce((s, e) => s + e.requests, 0),
          );
          // Every bucket holds exactly the events that fall in it.
          const size = { minute: MINUTE, hour: HOUR, day: DAY }[step];
          const probe = points.find((p) => p.credits > 0)!;
          const start = Date.parse(probe.ts);
          expect(probe.credits).toBeCloseTo(sum(mine.filter((e) => e.ts >= start && e.ts < start + size)), 6);
        }
      });
    }

    it('groups totals by key, environment and operation, each adding up to the whole', async () => {
      const total = sum(events);
      for (const group of ['key', 'environment', 'operation']) {
        const res = await api.call(
          'GET',
          `/api/v1/usage?step=day&group=${group}&from=${FROM}&to=${T0}`,
          read,
        );
        expect(res.status).toBe(200);
        expect(sum(res.json.groups)).toBeCloseTo(total, 6);
        expect(sum(res.json.points)).toBeCloseTo(total, 6);
      }
      const byEnv = await api.call(
        'GET',
        `/api/v1/usage?step=hour&group=environment&from=${FROM}&to=${T0}`,
        read,
      );
      const names = byEnv.json.groups.map((g: { group: string }) => g.group).sort();
      expect(names).toEqual(['(none)', 'production']);
    });

    it('rejects a bad range with a clear error', async () => {
      const bad = await api.call('GET', `/api/v1/usage?step=week`, read);
      expect(bad.status).toBe(400);
      expect(bad.json.error.issues[0].path).toBe('step');
      const reversed = await api.call('GET', `/api/v1/usage?from=${T0}&to=${FROM}`, read);
      expect(reversed.json.error.issues[0].path).toBe('from');
      const huge = await api.call('GET', `/api/v1/usage?step=minute&from=0&to=${T0}`, read);
      expect(huge.status).toBe(400);
      expect(huge.json.error.code).toBe('range_too_large');
      expect(huge.json.error.message).toMatch(/ask for step=hour/);
    });

    it('counts the point cap across groups, not per group', async () => {
      // 3 keys with data x 40,000 minute buckets is over the cap; the ungrouped total is not.
      const range = `from=${T0 - 40_000 * 60_000}&to=${T0}&step=minute`;
      expect((await api.call('GET', `/api/v1/usage?${range}`, read)).status).toBe(200);
      const grouped = await api.call('GET', `/api/v1/usage?${range}&group=key`, read);
      expect(grouped.status).toBe(400);
      expect(grouped.json.error.code).toBe('range_too_large');
      expect(grouped.json.error.issues[0]).toMatchObject({ path: 'step' });
    });

    it('pages groups with limit and cursor: every group once, largest spender first', async () => {
      const all = await api.call('GET', `/api/v1/usage?step=hour&group=key&from=${FROM}&to=${T0}`, read);
      expect(all.json.total_groups).toBe(3);
      expect(all.json.next_cursor).toBeNull();
      const seen: { group: string; credits: number; points: { credits: number }[] }[] = [];
      let cursor: string | null = null;
      do {
        const page: Awaited<ReturnType<typeof api.call>> = await api.call(
          'GET',
          `/api/v1/usage?step=hour&group=key&from=${FROM}&to=${T0}&limit=2${cursor ? `&cursor=${cursor}` : ''}`,
          read,
        );
        expect(page.status).toBe(200);
        expect(page.json.groups.length).toBeLessThanOrEqual(2);
        seen.push(...page.json.groups);
        cursor = page.json.next_cursor;
      } while (cursor);
      expect(seen.map((g) => g.group)).toEqual(all.json.groups.map((g: { group: string }) => g.group));
      const credits = seen.map((g) => g.credits);
      expect(credits).toEqual([...credits].sort((a, b) => b - a));
      for (const g of seen) expect(sum(g.points)).toBeCloseTo(g.credits, 6);
    });

    it('top N draws the largest groups and the rest as one "(other)" series that adds up', async () => {
      const q = `step=day&from=${FROM}&to=${T0}`;
      const total = await api.call('GET', `/api/v1/usage?${q}`, read);
      for (const group of ['key', 'operation']) {
        const all = await api.call('GET', `/api/v1/usage?${q}&group=${group}`, read);
        const top = await api.call('GET', `/api/v1/usage?${q}&group=${group}&top=1`, read);
        expect(top.status).toBe(200);
        expect(top.json.groups.map((g: { group: string }) => g.group)).toEqual([
          all.json.groups[0].group,
          '(other)',
        ]);
        expect(top.json.total_groups).toBe(all.json.groups.length);
        // Bucket by bucket, the top group and "(other)" add up to the total.
        top.json.points.forEach((_: unknown, i: number) => {
          const drawn = top.json.groups.reduce(
            (s: number, g: { points: { credits: number }[] }) => s + g.points[i]!.credits,
            0,
          );
          expect(drawn).toBeCloseTo(total.json.points[i].credits, 6);
        });
      }
    });

    it('refuses paging it cannot honour, naming the field', async () => {
      const cases = [
        ['group=key&cursor=abc', 'cursor'],
        ['group=key&limit=0', 'limit'],
        ['group=key&top=2&limit=2', 'top'],
        ['limit=2', 'group'],
      ] as const;
      for (const [query, path] of cases) {
        const res = await api.call('GET', `/api/v1/usage?${query}`, read);
        expect(res.status).toBe(400);
        expect(res.json.error.issues[0].path).toBe(path);
      }
    });

    it('month CSV (local calendar months, from the tiling rollups) adds up to the day series, per key and in total', async () => {
      const q = `from=${FROM}&to=${T0}`;
      const days = await api.call('GET', `/api/v1/usage?step=day&group=key&${q}`, read);
      const byKey = await api.call('GET', `/export/usage.csv?step=month&group=key&${q}`, read);
      expect(byKey.status).toBe(200);
      const lines = (byKey.json as string).trim().split('\r\n');
      expect(lines[0]).toBe('key,month,partial,credits,requests,errors,auth_failures');
      const rows = lines.slice(1).map((l) => l.split(','));
      // Largest spender first, every month of the range for each key.
      expect([...new Set(rows.map((r) => r[0]))]).toEqual(
        days.json.groups.map((g: { group: string }) => g.group),
      );
      for (const g of days.json.groups as { group: string; credits: number; requests: number }[]) {
        const mine = rows.filter((r) => r[0] === g.group);
        expect(mine.reduce((s, r) => s + Number(r[3]), 0)).toBeCloseTo(g.credits, 6);
        expect(mine.reduce((s, r) => s + Number(r[4]), 0)).toBe(g.requests);
      }
      const total = await api.call('GET', `/export/usage.csv?step=month&${q}`, read);
      const totalRows = (total.json as string).trim().split('\r\n').slice(1);
      expect(totalRows.reduce((s, l) => s + Number(l.split(',')[2]), 0)).toBeCloseTo(sum(events), 6);
    });
  });
});

/** Every read behind the usage API, pages and exports, on the same usage in both stores: equal. */
describe.skipIf(!postgresAvailable())('the same usage on SQLite and PostgreSQL', () => {
  let cluster: PgCluster;
  let sqlite: TestDeps;
  let pg: TestDeps;
  beforeAll(async () => {
    cluster = await startPgCluster();
  });
  afterAll(async () => {
    await cluster.stop();
  });
  beforeEach(async () => {
    sqlite = createTestDeps();
    pg = await createPgTestDeps(cluster);
  });
  afterEach(() => {
    sqlite.cleanup();
    pg.cleanup();
  });

  /** Everything the usage reads answer, with key ids (random per store) written as key names. */
  async function answers(deps: TestDeps) {
    const out: Record<string, unknown> = {};
    const ranges = [
      { from: FROM, to: T0, step: 'minute' },
      { from: FROM, to: T0, step: 'hour' },
      { from: FROM, to: T0, step: 'day' },
      // Long enough to be tiled from months and days.
      { from: T0 - 400 * DAY, to: T0 + DAY, step: 'day' },
    ] as const;
    const ids = new Map((await listKeys(deps)).map((k) => [k.id, k.name]));
    for (const range of ranges) {
      const at = `${range.step} ${range.from}`;
      out[`total ${at}`] = await totalSeries(deps.db, range);
      for (const [id, name] of ids) out[`key ${name} ${at}`] = await keySeries(deps.db, id, range);
      for (const group of GROUPS) {
        out[`${group} ${at}`] = await groupedSeries(deps.db, range, group);
        out[`${group} top ${at}`] = await groupedSeries(deps.db, range, group, { top: 1 });
        out[`${group} page ${at}`] = await groupedSeries(deps.db, range, group, { limit: 1, cursor: 1 });
        out[`${group} ranked ${at}`] = await rankGroups(deps.db, range, group);
      }
      out[`sums ${at}`] = (await sumsByKey(deps.db, range.from, range.to, range.step)).sort((x, y) =>
        ids.get(x.key_id)!.localeCompare(ids.get(y.key_id)!),
      );
    }
    for (const timeZone of ['UTC', 'America/New_York']) {
      out[`months ${timeZone}`] = await monthTotals(deps.db, { now: T0, timeZone, count: 3 });
      for (const group of GROUPS) {
        out[`months ${group} ${timeZone}`] = await monthTotals(deps.db, {
          now: T0,
          timeZone,
          count: 3,
          group,
        });
      }
    }
    out.directory = [...(await keyDirectory(deps.db)).values()].sort((x, y) => x.name.localeCompare(y.name));
    return JSON.parse(JSON.stringify(out, (k, v) => (k === 'key_id' || k === 'id' ? ids.get(v) : v)));
  }

  it('answers every series, grouping, page, top N, ranking and month table identically', async () => {
    await loadUsage(sqlite);
    await loadUsage(pg);
    const [a, b] = [await answers(sqlite), await answers(pg)];
    expect(Object.keys(a)).toHaveLength(4 * (1 + 3 + 3 * 4 + 1) + 2 * 4 + 1);
    for (const name of Object.keys(a)) expect(b[name], name).toEqual(a[name]);
  });
});
