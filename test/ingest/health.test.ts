import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { HOUR } from '../../server/clock.ts';
import { openStore } from '../../server/db/client.ts';
import { createClientIpResolver } from '../../server/http/client-ip.ts';
import { balanceState, listSourceHealth } from '../../server/ingest/health.ts';
import { operationFromPath, parseBalance, responseKind } from '../../server/ingest/providers/magichour.ts';
import { startServer } from '../../server/serve.ts';
import { recordEvents, type UsageEvent } from '../../server/usage/record-events.ts';
import { createTestApi } from '../helpers/api.ts';
import { startFakeMagicHour } from '../helpers/fake-magichour.ts';
import { createTestDeps, forEachStore, T0, type TestDeps, testConfig } from '../helpers/store.ts';
import { recordUsage } from '../helpers/usage.ts';

let deps: TestDeps;
let api: ReturnType<typeof createTestApi>;
beforeEach(() => {
  deps = createTestDeps();
  api = createTestApi(deps);
});
afterEach(() => deps.cleanup());

const event = (source: string, id: string, ts: number, status = 200): UsageEvent => ({
  source,
  eventId: id,
  key: { by: 'ref', value: 'k' },
  ts,
  credits: 1,
  requests: 1,
  status,
  operation: 'face-swap',
});

describe('GET /api/v1/sources', () => {
  it('reports per source the last event, the last hour and a status', async () => {
    recordEvents(deps, [
      event('push', 'p1', T0 - 10 * 60_000),
      event('push', 'p2', T0 - 5 * 60_000, 429),
      event('push', 'p3', T0 - 2 * HOUR),
      event('csv', 'c1', T0 - 40 * 24 * HOUR),
      event('simulate', 's1', T0 - 30 * HOUR),
    ]);
    const res = await api.call('GET', '/api/v1/sources', await api.tokenFor('read'));
    expect(res.status).toBe(200);
    const byName = Object.fromEntries(res.json.sources.map((s: { name: string }) => [s.name, s]));
    expect(res.json.sources.map((s: { name: string }) => s.name)).toEqual([
      'gateway',
      'push',
      'webhooks',
      'balance',
      'csv',
      'simulate',
    ]);
    expect(byName.push).toEqual({
      name: 'push',
      status: 'ok',
      last_event_at: new Date(T0 - 5 * 60_000).toISOString(),
      events_last_hour: 2,
      errors_last_hour: 1,
      detail: expect.any(String),
    });
    expect(byName.gateway).toMatchObject({ status: 'never', last_event_at: null, events_last_hour: 0 });
    expect(byName.webhooks.status).toBe('disabled');
    expect(byName.balance.status).toBe('disabled');
    // History is never stale; a live source quiet for a day is.
    expect(byName.csv.status).toBe('ok');
    expect(byName.simulate.status).toBe('ok');
    deps.clock.advance(25 * HOUR);
    const later = await api.call('GET', '/api/v1/sources', await api.tokenFor('read'));
    expect(later.json.sources.find((s: { name: string }) => s.name === 'push').status).toBe('stale');
    expect(res.json.gateway_queue).toEqual({
      size: 0,
      capacity: 50_000,
      dropped: 0,
      journaled: 0,
      journal_error: null,
    });
  });

  it('needs credentials', async () => {
    expect((await api.call('GET', '/api/v1/sources', null)).status).toBe(401);
    expect((await api.call('GET', '/api/v1/balance', null)).status).toBe(401);
  });
});

describe('client IP', () => {
  it('uses the socket peer unless it is a trusted proxy, and walks trusted hops', () => {
    const none = createClientIpResolver([]);
    expect(none('::ffff:10.0.0.5', '203.0.113.1')).toBe('10.0.0.5');
    const trusted = createClientIpResolver(['10.0.0.0/8', '::1']);
    expect(trusted('10.1.2.3', '203.0.113.1, 10.9.9.9')).toBe('203.0.113.1');
    expect(trusted('::1', '198.51.100.7')).toBe('198.51.100.7');
    expect(trusted('192.0.2.1', '203.0.113.1')).toBe('192.0.2.1');
    expect(trusted('10.1.2.3', 'garbage')).toBe('10.1.2.3');
  });
});

describe('Magic Hour provider', () => {
  it('names operations and knows which answers carry credits', () => {
    expect(operationFromPath('/v1/face-swap')).toBe('face-swap');
    expect(operationFromPath('/v1/video-projects/clx1')).toBe('video-projects');
    expect(operationFromPath('/v2/strange')).toBe('other');
    expect(responseKind('POST', '/v1/ai-image-generator')).toBe('create');
    expect(responseKind('POST', '/v1/files/upload-urls')).toBeNull();
    expect(responseKind('GET', '/v1/image-projects/clx1')).toBe('project');
    expect(responseKind('DELETE', '/v1/image-projects/clx1')).toBeNull();
    expect(parseBalance({ credits: 1200 })).toBe(1200);
    expect(parseBalance({ nothing: 1 })).toBeNull();
  });
});

describe('server shutdown', () => {
  it('writes the queued gateway events before closing the database', async () => {
    const fake = await startFakeMagicHour();
    fake.keys.add('mhk_live_shutdown_0042');
    const config = {
      ...testConfig(deps.dir, { MAGICHOUR_BASE_URL: fake.url, KEYWATCH_DB: `${deps.dir}/shutdown.db` }),
      demo: false,
    };
    const running = await startServer(config, deps.log, { announce: () => {} });
    const res = await fetch(`${running.url}/gw/magichour/v1/face-swap`, {
      method: 'POST',
      headers: { authorization: 'Bearer mhk_live_shutdown_0042', 'content-type': 'application/json' },
      body: '{}',
    });
    expect(res.status).toBe(200);
    await running.stop();
    await fake.close();
    const store = openStore(config.dbPath);
    expect(
      store.sqlite.prepare(`SELECT count(*) AS n FROM usage_events WHERE source = 'gateway'`).get(),
    ).toEqual({
      n: 1,
    });
    store.close();
  });
});

/** The reads behind /api/v1/sources, straight from storage, on both stores (the route needs the app). */
forEachStore((_kind, open) => {
  let store: TestDeps;
  beforeEach(async () => {
    store = await open();
  });
  afterEach(() => store.cleanup());

  it('source health: last event, last hour, errors and status per source', async () => {
    await recordUsage(store, [
      event('push', 'p1', T0 - 10 * 60_000),
      event('push', 'p2', T0 - 5 * 60_000, 429),
      event('push', 'p3', T0 - 2 * HOUR),
      event('csv', 'c1', T0 - 40 * 24 * HOUR),
    ]);
    const inputs = {
      queue: {
        size: 0,
        capacity: 10,
        dropped: 0,
        last_error: null,
        last_error_at: null,
        last_flush_at: null,
        slowest_flush_ms: 0,
        journal: null,
      },
      webhookSecretSet: true,
      accountKeySet: true,
      webhookRejectsLastHour: 0,
    };
    const byName = Object.fromEntries((await listSourceHealth(store, inputs)).map((s) => [s.name, s]));
    expect(byName.push).toMatchObject({
      status: 'ok',
      last_event_at: new Date(T0 - 5 * 60_000).toISOString(),
      events_last_hour: 2,
      errors_last_hour: 1,
    });
    expect(byName.csv).toMatchObject({ status: 'ok', events_last_hour: 0 });
    expect(byName.webhooks).toMatchObject({ status: 'never', last_event_at: null, events_last_hour: 0 });
    expect(byName.balance).toMatchObject({ status: 'never', last_event_at: null });
    expect(await balanceState(store, false)).toMatchObject({ status: 'disabled', latest: null });
  });
});
