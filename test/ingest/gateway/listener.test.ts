import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createApp } from '../../../server/app.ts';
import { createNodeServer } from '../../../server/http/node-server.ts';
import { createGatewayListener, createNodeListener } from '../../../server/ingest/gateway/listener.ts';
import { createSourceServices, type SourceServices } from '../../../server/ingest/services.ts';
import { createLogger } from '../../../server/log.ts';
import { type FakeMagicHour, startFakeMagicHour } from '../../helpers/fake-magichour.ts';
import { send } from '../../helpers/slow-client.ts';
import { createTestDeps, type TestDeps } from '../../helpers/store.ts';

const KEY = 'mhk_live_listenertest_ef56';
let fake: FakeMagicHour;
let deps: TestDeps;
let sources: SourceServices;
let servers: Server[];
/** The main port (dashboard, API and gateway) and the gateway's own port. */
let main: string;
let gatewayOnly: string;
/** Every log line, at info level. */
let lines: string[];

async function listen(server: Server) {
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

beforeEach(async () => {
  fake = await startFakeMagicHour();
  fake.keys.add(KEY);
  // What a hostile or careless upstream might send to a browser.
  fake.extraHeaders = {
    'set-cookie': 'mh_session=upstream; Path=/',
    'clear-site-data': '"cookies"',
    'content-security-policy': "default-src *; script-src 'unsafe-inline'",
  };
  deps = createTestDeps({ MAGICHOUR_BASE_URL: fake.url });
  lines = [];
  deps.log = createLogger('info', (l) => lines.push(l));
  sources = createSourceServices(deps);
  servers = [];
  main = await listen(
    createNodeServer(
      createNodeListener(createApp(deps, sources).fetch, sources.gateway, deps.log),
      deps.config.http,
    ),
  );
  gatewayOnly = await listen(
    createNodeServer(createGatewayListener(sources.gateway, deps.log), deps.config.http),
  );
});

afterEach(async () => {
  for (const s of servers) {
    s.closeAllConnections();
    await new Promise<void>((r) => s.close(() => r()));
  }
  await sources.stop();
  await fake.close();
  deps.cleanup();
});

const create = (base: string) =>
  send(`${base}/gw/magichour/v1/ai-image-generator`, {
    headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' },
    body: '{"image_count":1}',
  });

describe('main port (the dashboard origin)', () => {
  it('makes proxied answers inert: nosniff, a sandbox CSP, no cookies', async () => {
    const answer = await create(main);
    expect(answer.status).toBe(200);
    expect(JSON.parse(answer.body)).toMatchObject({ credits_charged: 5 });
    expect(answer.headers['x-fake']).toBe('magichour');
    expect(answer.headers['x-content-type-options']).toBe('nosniff');
    expect(answer.headers['content-security-policy']).toBe('sandbox');
    expect(answer.headers['set-cookie']).toBeUndefined();
    expect(answer.headers['clear-site-data']).toBeUndefined();
  });

  it('still serves the dashboard and the API', async () => {
    expect((await fetch(`${main}/healthz`)).status).toBe(200);
  });
});

describe('gateway port (KEYWATCH_GATEWAY_PORT)', () => {
  it('passes the answer through unchanged', async () => {
    const answer = await create(gatewayOnly);
    expect(answer.status).toBe(200);
    expect(JSON.parse(answer.body)).toMatchObject({ credits_charged: 5 });
    expect(answer.headers['set-cookie']).toEqual(['mh_session=upstream; Path=/']);
    expect(answer.headers['clear-site-data']).toBe('"cookies"');
    expect(answer.headers['content-security-policy']).toBe("default-src *; script-src 'unsafe-inline'");
    expect(answer.headers['x-content-type-options']).toBeUndefined();
    sources.gateway.queue.flush();
    expect(deps.sqlite.prepare('SELECT count(*) AS n FROM usage_events').get()).toEqual({ n: 1 });
  });

  it('forwards the bare prefix with a query as /?query', async () => {
    const answer = await send(`${gatewayOnly}/gw/magichour?x=1`, {
      method: 'GET',
      headers: { authorization: `Bearer ${KEY}` },
    });
    expect(answer.headers['x-fake']).toBe('magichour');
    expect(fake.received.map((r) => r.path)).toEqual(['/?x=1']);
  });

  it.each([
    ['GET', '/healthz'],
    ['GET', '/'],
    ['GET', '/login'],
    ['POST', '/api/v1/usage'],
    ['GET', '/gw/magichourx/v1/face-swap'],
  ])('answers %s %s with a JSON 404 and nothing else', async (method, path) => {
    const answer = await send(`${gatewayOnly}${path}`, {
      method,
      headers: { authorization: `Bearer ${KEY}` },
    });
    expect(answer.status).toBe(404);
    expect(answer.headers['content-type']).toBe('application/json');
    expect(answer.headers['set-cookie']).toBeUndefined();
    expect(JSON.parse(answer.body)).toEqual({
      error: { code: 'not_found', message: 'This port serves only the gateway, at /gw/magichour/.' },
    });
    expect(fake.received).toEqual([]);
  });
});

describe('access log of gateway traffic', () => {
  // biome-ignore lint/suspicious/noExplicitAny: log lines are arbitrary JSON
  const accessLines = (): any[] => lines.map((l) => JSON.parse(l)).filter((e) => e.msg === 'http request');
  /** The line is written when the connection's response closes, just after the client has it. */
  async function waitForLines(n: number) {
    for (let i = 0; i < 100 && accessLines().length < n; i++) await new Promise((r) => setTimeout(r, 10));
    return accessLines();
  }

  it('logs one line per request on both listeners, with the request id and never the token', async () => {
    const headers = {
      authorization: `Bearer ${KEY}`,
      'content-type': 'application/json',
      'x-request-id': 'client-req.42',
    };
    const url = (base: string) => `${base}/gw/magichour/v1/ai-image-generator?api_key=secret-in-query`;
    expect((await send(url(main), { headers, body: '{}' })).status).toBe(200);
    expect((await send(url(gatewayOnly), { headers, body: '{}' })).status).toBe(200);
    expect((await send(`${gatewayOnly}/login?token=secret-in-query`, { method: 'GET' })).status).toBe(404);
    const [onMain, onGateway, notFound] = await waitForLines(3);
    for (const [entry, listener] of [
      [onMain, 'main'],
      [onGateway, 'gateway'],
    ] as const) {
      expect(entry).toMatchObject({
        level: 'info',
        request_id: 'client-req.42',
        method: 'POST',
        route: '/gw/magichour/*',
        listener,
        status: 200,
      });
      expect(typeof entry.duration_ms).toBe('number');
      expect(entry.aborted).toBeUndefined();
    }
    expect(notFound).toMatchObject({ method: 'GET', route: '/login', listener: 'gateway', status: 404 });
    expect(notFound.request_id).toMatch(/^[0-9a-f-]{36}$/);
    const text = lines.join('\n');
    for (const secret of [KEY, KEY.slice(0, -4), 'secret-in-query', '?']) expect(text).not.toContain(secret);
  });
});
