/** The detection API: detect/run, incidents (list, filters, get), rules, backtest; adjustments and the listener. */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DAY } from '../../server/clock.ts';
import { incidents } from '../../server/db/schema/index.ts';
import { addDetectionAdjustment } from '../../server/detection/adjustments.ts';
import { runDetection } from '../../server/detection/run-detection.ts';
import type { IncidentChange } from '../../server/incidents/events.ts';
import { createTestApi } from '../helpers/api.ts';
import { END, SPIKE, START, seedHistory } from '../helpers/history.ts';
import { createTestDeps, type TestDeps } from '../helpers/store.ts';

let deps: TestDeps;
let api: ReturnType<typeof createTestApi>;
let admin: string;
let reader: string;

beforeEach(async () => {
  deps = createTestDeps();
  deps.clock.set(END);
  await seedHistory(deps);
  api = createTestApi(deps);
  admin = await api.tokenFor('admin');
  reader = await api.tokenFor('read');
});
afterEach(() => deps.cleanup());

const count = () => (deps.sqlite.prepare('SELECT count(*) AS n FROM incidents').get() as { n: number }).n;

describe('POST /api/v1/detect/run', () => {
  it('needs admin, evaluates up to until, and reports what it opened', async () => {
    expect((await api.call('POST', '/api/v1/detect/run', reader, {})).status).toBe(403);
    const r = await api.call('POST', '/api/v1/detect/run', admin, { until: new Date(END).toISOString() });
    expect(r.status).toBe(200);
    expect(r.json.evaluated_until).toBe(new Date(END).toISOString());
    expect(r.json.incidents_opened).toBe(count());
    expect(r.json.incidents_opened).toBeGreaterThan(0);
    const again = await api.call('POST', '/api/v1/detect/run', admin);
    expect(again.json.incidents_opened).toBe(0);
    expect((await api.call('POST', '/api/v1/detect/run', admin, { until: 'yesterday' })).status).toBe(400);
  });
});

describe('GET /api/v1/incidents', () => {
  beforeEach(() => runDetection(deps, { until: END }));

  it('shows every timestamp of an incident, its details included, as ISO-8601 with milliseconds', async () => {
    const all = await api.call('GET', '/api/v1/incidents', reader);
    const ISO = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;
    const bad: string[] = [];
    let seen = 0;
    const walk = (v: unknown, path: string): void => {
      if (v && typeof v === 'object') for (const [k, x] of Object.entries(v)) walk(x, `${path}.${k}`);
      else if (/(_at|_bucket)$/.test(path) && v !== null) {
        seen++;
        if (typeof v !== 'string' || !ISO.test(v)) bad.push(`${path}=${String(v)}`);
      }
    };
    walk(all.json.incidents, 'incidents');
    expect(all.json.incidents.some((i: { details: object }) => 'contributors_at' in i.details)).toBe(true);
    expect(seen).toBeGreaterThan(0);
    expect(bad).toEqual([]);
  });

  it('lists incidents as IncidentView with details, and filters them', async () => {
    const all = await api.call('GET', '/api/v1/incidents', reader);
    expect(all.status).toBe(200);
    const spike = all.json.incidents.find((i: { kind: string }) => i.kind === 'credit_spike');
    expect(spike).toMatchObject({ key: 'busy', state: 'resolved', severity: 'critical' });
    expect(Date.parse(spike.started_at)).toBeGreaterThanOrEqual(SPIKE);
    expect(Date.parse(spike.started_at)).toBeLessThan(SPIKE + 15 * 60_000);
    expect(spike.summary).toMatch(/busy.*credits/);
    expect(spike.details.baseline.expected).toBe(spike.expected);
    expect(spike.details.contributors.operations[0].name).toBe('video-to-video');
    expect(spike.details.contributors.ips.map((i: { value: string }) => i.value)).toContain('198.51.100.66');
    expect(spike.details.actions.join(' ')).toMatch(/Magic Hour Developer Hub/);
    for (const field of [
      'acknowledged_by',
      'snoozed_until',
      'feedback',
      'note',
      'impact_credits',
      'resolved_at',
    ])
      expect(spike).toHaveProperty(field);

    const byKind = await api.call(
      'GET',
      '/api/v1/incidents?kind=credit_spike&key=busy&state=resolved',
      reader,
    );
    expect(byKind.json.incidents.map((i: { id: string }) => i.id)).toEqual([spike.id]);
    expect(
      (await api.call('GET', '/api/v1/incidents?key=sparse', reader)).json.incidents.every(
        (i: { key: string }) => i.key === 'sparse',
      ),
    ).toBe(true);
    expect(
      (await api.call('GET', `/api/v1/incidents?to=${new Date(START + DAY).toISOString()}`, reader)).json
        .incidents,
    ).toEqual([]);
    expect((await api.call('GET', '/api/v1/incidents?limit=1', reader)).json.incidents).toHaveLength(1);
    expect((await api.call('GET', '/api/v1/incidents?state=bogus', reader)).status).toBe(400);
    const backwards = await api.call(
      'GET',
      `/api/v1/incidents?from=${new Date(START + DAY).toISOString()}&to=${new Date(START).toISOString()}`,
      reader,
    );
    expect(backwards.status).toBe(400);
    expect(backwards.json.error.issues).toEqual([{ path: 'from', message: 'must be before to' }]);
    expect((await api.call('GET', '/api/v1/incidents?key=nope', reader)).status).toBe(404);

    const one = await api.call('GET', `/api/v1/incidents/${spike.id}`, reader);
    expect(one.json.incident).toEqual(spike);
    expect((await api.call('GET', '/api/v1/incidents/inc_missing', reader)).status).toBe(404);
    expect((await api.call('GET', '/api/v1/incidents', null)).status).toBe(401);
  });
});

describe('rules', () => {
  it('lists defaults, validates and stores global and per-key overrides', async () => {
    const list = await api.call('GET', '/api/v1/rules', reader);
    const spike = list.json.rules.find((r: { kind: string }) => r.kind === 'credit_spike');
    expect(spike).toMatchObject({
      enabled: true,
      params: { alpha: 1e-6, floor_credits: 250 },
      defaults: { floor_credits: 250 },
    });
    const put = await api.call('PUT', '/api/v1/rules/credit_spike', admin, {
      params: { floor_credits: 1000 },
    });
    expect(put.status).toBe(200);
    expect(put.json.rule.params.floor_credits).toBe(1000);
    const perKey = await api.call('PUT', '/api/v1/rules/new_source', admin, { enabled: false, key: 'busy' });
    expect(perKey.json.rule.overrides).toEqual([expect.objectContaining({ key: 'busy', enabled: false })]);
    expect((await api.call('PUT', '/api/v1/rules/credit_spike', admin, { params: { nope: 1 } })).status).toBe(
      400,
    );
    expect(
      (await api.call('PUT', '/api/v1/rules/credit_spike', admin, { params: { alpha: 2 } })).status,
    ).toBe(400);
    expect((await api.call('PUT', '/api/v1/rules/bogus', admin, {})).status).toBe(404);
    expect((await api.call('PUT', '/api/v1/rules/credit_spike', reader, {})).status).toBe(403);

    await runDetection(deps, { until: END });
    const kinds = deps.sqlite
      .prepare(`SELECT i.kind FROM incidents i JOIN keys k ON k.id = i.key_id WHERE k.name = 'busy'`)
      .all() as { kind: string }[];
    expect(kinds.map((k) => k.kind)).not.toContain('new_source');
  });
});

describe('POST /api/v1/backtest', () => {
  it('replays history with the given params and writes nothing', async () => {
    const r = await api.call('POST', '/api/v1/backtest', reader, { kind: 'credit_spike', days: 30 });
    expect(r.status).toBe(200);
    expect(r.json.fired).toBeGreaterThanOrEqual(1);
    expect(r.json.incidents[0]).toMatchObject({ key: 'busy', kind: 'credit_spike', severity: 'critical' });
    expect(count()).toBe(0);
    const strict = await api.call('POST', '/api/v1/backtest', reader, {
      kind: 'credit_spike',
      params: { floor_credits: 1e9 },
    });
    expect(strict.json.fired).toBe(0);
    expect((await api.call('POST', '/api/v1/backtest', reader, { kind: 'nope' })).status).toBe(400);
  });

  it('replays on its worker thread, not on the serving connection', async () => {
    // A TEMP table shadows the real one on this connection only: here, there is no history.
    deps.sqlite.exec('CREATE TEMP TABLE usage_minute AS SELECT * FROM main.usage_minute WHERE 0');
    const r = await api.call('POST', '/api/v1/backtest', reader, { kind: 'credit_spike', days: 30 });
    expect(r.json.fired).toBeGreaterThanOrEqual(1);
    deps.sqlite.exec('DROP TABLE temp.usage_minute');
  });

  it('runs one backtest at a time per caller: a second one gets 429 with Retry-After', async () => {
    const other = await api.tokenFor('read');
    const body = JSON.stringify({ kind: 'credit_spike', days: 30 });
    const post = (token: string) =>
      api.app.request('/api/v1/backtest', {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body,
      });
    const [first, second, theirs] = await Promise.all([post(reader), post(reader), post(other)]);
    expect([first.status, second.status].sort()).toEqual([200, 429]);
    const refused = first.status === 429 ? first : second;
    expect(refused.headers.get('retry-after')).toMatch(/^\d+$/);
    expect(await refused.json()).toMatchObject({
      error: { code: 'rate_limited', message: expect.any(String) },
    });
    // Another token is not refused; and once the first is done, the same caller may run again.
    expect(theirs.status).toBe(200);
    expect((await post(reader)).status).toBe(200);
  });

  it('refuses a parameter exactly as PUT /rules does', async () => {
    const body = { params: { floor_credits: 10, made_up: 3 } };
    const put = await api.call('PUT', '/api/v1/rules/credit_spike', await api.tokenFor('admin'), body);
    const preview = await api.call('POST', '/api/v1/backtest', reader, { kind: 'credit_spike', ...body });
    expect(put.status).toBe(400);
    expect(preview.status).toBe(400);
    expect(preview.json.error.issues).toEqual(put.json.error.issues);
    expect(preview.json.error.issues[0].path).toBe('params.made_up');
  });
});

describe('adjustments and the listener', () => {
  it('suppress hides a kind; desensitize needs a factor', async () => {
    await addDetectionAdjustment(deps, {
      keyId: null,
      kind: 'credit_spike',
      type: 'suppress',
      from: START,
      until: END,
      createdBy: 'test',
    });
    await expect(
      addDetectionAdjustment(deps, { type: 'desensitize', from: START, createdBy: 'test' }),
    ).rejects.toThrow(/invalid/);
    await runDetection(deps, { until: END });
    expect(
      deps.sqlite.prepare(`SELECT count(*) AS n FROM incidents WHERE kind = 'credit_spike'`).get(),
    ).toEqual({ n: 0 });
  });

  it.each([
    { type: 'rebaseline' as const, kind: 'credit_spike', from: SPIKE - 3_600_000 },
    { type: 'desensitize' as const, kind: 'new_source', from: START, factor: 50 },
  ])('$type stops $kind from paging', async ({ type, kind, from, factor }) => {
    const key = deps.sqlite.prepare(`SELECT id FROM keys WHERE name = 'busy'`).get() as { id: string };
    // A signal of that kind on any incident: new sources join the key's episode as signals.
    const count = () =>
      deps.sqlite
        .prepare(
          `SELECT count(*) AS n FROM incidents, json_each(incidents.signals) s
           WHERE json_extract(s.value, '$.kind') = ?`,
        )
        .get(kind);
    await runDetection(deps, { until: END });
    expect(count()).toEqual({ n: 1 });
    deps.sqlite.exec('DELETE FROM incidents; DELETE FROM detector_state;');
    const adjustKind = type === 'rebaseline' ? null : 'new_source';
    await addDetectionAdjustment(deps, {
      keyId: key.id,
      kind: adjustKind,
      type,
      from,
      factor,
      createdBy: 'test',
    });
    await runDetection(deps, { until: END });
    expect(count()).toEqual({ n: 0 });
  });

  it('calls the listener inside the transaction for every opened, updated and resolved incident', async () => {
    const seen: IncidentChange['type'][] = [];
    await runDetection(deps, {
      until: END,
      listener: async (tx, change) => {
        seen.push(change.type);
        expect(deps.sqlite.inTransaction).toBe(true);
        expect((await tx.select().from(incidents)).map((r) => r.id)).toContain(change.incident.id);
        if (change.type !== 'opened') expect(change.previous?.id).toBe(change.incident.id);
      },
    });
    expect(seen.filter((t) => t === 'opened')).toHaveLength(count());
    expect(seen).toContain('updated');
    expect(seen).toContain('resolved');
  });
});
