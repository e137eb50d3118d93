/**
 * End to end: a request with an Origin through the real gateway (real HTTP on 127.0.0.1, the fake
 * Magic Hour upstream), a detection run, and the incident the API shows: kind client_exposure,
 * the origin and browser in its signal's evidence, and the key's secret nowhere in it.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createApiToken } from '../../server/auth/tokens.ts';
import { addUser } from '../../server/auth/users.ts';
import { type FakeMagicHour, startFakeMagicHour } from '../helpers/fake-magichour.ts';
import { type RunningApp, startApp } from '../helpers/sources.ts';
import { createTestDeps, type TestDeps } from '../helpers/store.ts';

const KEY = 'mhk_live_exposedinpage_9f3c';
const CHROME =
  'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36';
let fake: FakeMagicHour;
let deps: TestDeps;
let app: RunningApp;
let admin: string;

beforeEach(async () => {
  fake = await startFakeMagicHour();
  fake.keys.add(KEY);
  deps = createTestDeps({ MAGICHOUR_BASE_URL: fake.url });
  app = await startApp(deps);
  admin = (await createApiToken(deps, { name: 'admin', scopes: ['admin'], actor: 'test' })).token;
});
afterEach(async () => {
  await app.close();
  await fake.close();
  deps.cleanup();
});

const api = async (method: string, path: string, body?: unknown) => {
  const res = await fetch(`${app.url}${path}`, {
    method,
    headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/json' },
    ...(body !== undefined && { body: JSON.stringify(body) }),
  });
  return { status: res.status, text: await res.text() };
};

describe('client_exposure end to end', () => {
  it('a key called from a web page through the gateway raises a critical incident with the origin as evidence', async () => {
    const created = await api('POST', '/api/v1/keys', { name: 'shop-frontend', secret: KEY });
    expect(created.status).toBe(201);
    for (let i = 0; i < 3; i++) {
      const res = await fetch(`${app.url}/gw/magichour/v1/ai-image-generator`, {
        method: 'POST',
        headers: {
          authorization: `Bearer ${KEY}`,
          'content-type': 'application/json',
          'user-agent': CHROME,
          origin: 'https://shop.example.com',
          referer: `https://shop.example.com/checkout?key=${KEY}`,
        },
        body: JSON.stringify({ image_count: 1, orientation: 'square', style: { prompt: 'a fox' } }),
      });
      expect(res.status).toBe(200);
      await res.arrayBuffer();
    }
    await app.flush();

    deps.clock.advance(3 * 60_000);
    const run = await api('POST', '/api/v1/detect/run', {});
    expect(run.status).toBe(200);
    const list = await api('GET', '/api/v1/incidents');
    expect(list.status).toBe(200);
    // The secret (and the Referer's query holding it) is stored nowhere the API reads.
    expect(list.text).not.toContain(KEY);
    expect(list.text).not.toContain('checkout');
    const incidents = JSON.parse(list.text).incidents as {
      id: string;
      kind: string;
      key: string;
      severity: string;
      summary: string;
      details: { actions: string[]; pages: boolean };
      signals: { kind: string; evidence?: Record<string, unknown> }[];
    }[];
    const incident = incidents.find((i) => i.kind === 'client_exposure');
    expect(incident).toMatchObject({ key: 'shop-frontend', severity: 'critical' });
    expect(incident!.summary).toContain('Origin https://shop.example.com');
    expect(incident!.summary).toContain('Chrome 131 on macOS');
    expect(incident!.details.actions.join(' ')).toMatch(/server-side/);
    // It costs no credits yet, but a key in a web page pages on-call regardless of the credit floor.
    expect(incident!.details.pages).toBe(true);
    const signal = incident!.signals.find((s) => s.kind === 'client_exposure')!;
    expect(signal.evidence).toMatchObject({
      origins: ['https://shop.example.com'],
      origin_requests: 3,
      browsers: ['Chrome 131 on macOS'],
      user_agents: [CHROME],
    });
    const raw = JSON.stringify(deps.sqlite.prepare('SELECT * FROM incidents').all());
    expect(raw).not.toContain(KEY);

    // The incident page shows the evidence too.
    const viewer = { email: 'viewer@example.com', password: 'viewer-password-123' };
    await addUser(deps, { ...viewer, role: 'viewer' }, 'test');
    const login = await fetch(`${app.url}/login`, {
      method: 'POST',
      redirect: 'manual',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ ...viewer, next: '/' }).toString(),
    });
    const cookie = `kw_session=${/kw_session=([^;]+)/.exec(login.headers.get('set-cookie') ?? '')?.[1]}`;
    const page = await fetch(`${app.url}/incidents/${incident!.id}`, { headers: { cookie } });
    expect(page.status).toBe(200);
    const html = await page.text();
    const evidence = /<dl class="facts" id="incident-evidence">(.*?)<\/dl>/s.exec(html)?.[1] ?? '';
    expect(evidence).toContain('https://shop.example.com');
    expect(evidence).toContain('Chrome 131 on macOS');
    expect(html).not.toContain(KEY);
  });

  it('a server SDK key through the gateway raises no client_exposure', async () => {
    await api('POST', '/api/v1/keys', { name: 'backend', secret: KEY });
    const res = await fetch(`${app.url}/gw/magichour/v1/ai-image-generator`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${KEY}`,
        'content-type': 'application/json',
        'user-agent': 'magic-hour-node/0.43.1',
      },
      body: '{}',
    });
    await res.arrayBuffer();
    await app.flush();
    deps.clock.advance(3 * 60_000);
    expect((await api('POST', '/api/v1/detect/run', {})).status).toBe(200);
    const list = JSON.parse((await api('GET', '/api/v1/incidents')).text) as {
      incidents: { kind: string }[];
    };
    expect(list.incidents.filter((i) => i.kind === 'client_exposure')).toEqual([]);
  });
});
