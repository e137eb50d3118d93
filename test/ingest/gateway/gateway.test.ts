import { existsSync, readFileSync } from 'node:fs';
import { request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gunzipSync } from 'node:zlib';
import { serve } from '@hono/node-server';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createApp } from '../../../server/app.ts';
import { fingerprintKey } from '../../../server/auth/secrets.ts';
import { createSourceServices } from '../../../server/ingest/services.ts';
import { createTestApi } from '../../helpers/api.ts';
import { type FakeMagicHour, startFakeMagicHour } from '../../helpers/fake-magichour.ts';
import { send, stalledUpload, until } from '../../helpers/slow-client.ts';
import { type RunningApp, rows, startApp } from '../../helpers/sources.ts';
import { createTestDeps, T0, TEST_SECRET, type TestDeps } from '../../helpers/store.ts';

const KEY = 'mhk_live_gatewaytest_ab12';
let fake: FakeMagicHour;
let deps: TestDeps;
let app: RunningApp;

async function setup(env: Record<string, string> = {}, timeoutMs = 2_000) {
  fake = await startFakeMagicHour();
  fake.keys.add(KEY);
  deps = createTestDeps({ MAGICHOUR_BASE_URL: fake.url, ...env });
  app = await startApp(deps, { timeoutMs });
}

beforeEach(async () => setup());
afterEach(async () => {
  await app.close();
  await fake.close();
  deps.cleanup();
});

const gw = (path: string, init: RequestInit = {}, key: string | null = KEY) =>
  fetch(`${app.url}/gw/magichour${path}`, {
    ...init,
    headers: {
      ...(key && { authorization: `Bearer ${key}` }),
      'content-type': 'application/json',
      'user-agent': 'magic-hour-node/test',
      ...(init.headers as Record<string, string>),
    },
  });

type EventRow = {
  key_id: string;
  credits: number;
  status: number;
  operation: string;
  project_id: string | null;
  source_ip: string;
  user_agent: string;
  latency_ms: number;
};
const events = () =>
  rows<EventRow>(deps, `SELECT * FROM usage_events WHERE source = 'gateway' ORDER BY rowid`);
const minuteTotals = () =>
  rows<{ credits: number; requests: number; errors: number; auth_failures: number }>(
    deps,
    'SELECT sum(credits) AS credits, sum(requests) AS requests, sum(errors) AS errors, sum(auth_failures) AS auth_failures FROM usage_minute',
  )[0]!;

/** A real SQLite write failure (as a full disk or a read-only file would give); reads keep working. */
const failWrites = () =>
  deps.sqlite.exec(
    `CREATE TRIGGER fail_writes BEFORE INSERT ON usage_events BEGIN SELECT RAISE(ABORT, 'storage unavailable'); END`,
  );
const recoverWrites = () => deps.sqlite.exec('DROP TRIGGER fail_writes');

describe('gateway /gw/magichour/*', () => {
  it('forwards a create unchanged and records the key, operation, credits and project', async () => {
    const body = JSON.stringify({ image_count: 3, orientation: 'square', style: { prompt: 'a fox' } });
    const res = await gw('/v1/ai-image-generator?trace=1', {
      method: 'POST',
      body,
      headers: { 'x-custom': 'yes', cookie: 'kw_session=dashboard-session-secret' },
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('x-fake')).toBe('magichour');
    const answer = (await res.json()) as { id: string; credits_charged: number };
    expect(answer.credits_charged).toBe(15);

    const seen = fake.received[0]!;
    expect(seen.path).toBe('/v1/ai-image-generator?trace=1');
    expect(seen.body.toString()).toBe(body);
    expect(seen.headers['x-custom']).toBe('yes');
    expect(seen.headers.cookie).toBeUndefined();
    expect(seen.headers.authorization).toBe(`Bearer ${KEY}`);
    expect(seen.headers.host).toBe(new URL(fake.url).host);

    await app.flush();
    const [e] = events();
    expect(e).toMatchObject({
      credits: 15,
      status: 200,
      operation: 'ai-image-generator',
      project_id: answer.id,
      source_ip: '127.0.0.1',
      user_agent: 'magic-hour-node/test',
    });
    expect(e!.latency_ms).toBeGreaterThan(0);
    const key = rows<{ id: string; name: string; status: string; last4: string; fingerprint: string }>(
      deps,
      'SELECT * FROM keys',
    )[0]!;
    expect(key).toMatchObject({ name: 'discovered-ab12', status: 'discovered', last4: 'ab12' });
    expect(key.fingerprint).toBe(fingerprintKey(TEST_SECRET, KEY));
    expect(rows(deps, 'SELECT key_id, estimated_credits FROM projects WHERE id = ?', answer.id)).toEqual([
      { key_id: key.id, estimated_credits: 15 },
    ]);
  });

  it('records only the origin of an Origin or Referer header, never its path or query', async () => {
    await gw('/v1/ai-image-generator', {
      method: 'POST',
      body: '{}',
      headers: { origin: 'https://Shop.Example.com' },
    });
    await gw('/v1/ai-image-generator', {
      method: 'POST',
      body: '{}',
      headers: { referer: 'http://localhost:5173/checkout?token=secret-in-query#frag' },
    });
    await gw('/v1/ai-image-generator', { method: 'POST', body: '{}' });
    await app.flush();
    expect(
      rows<{ client_origin: string | null }>(deps, 'SELECT client_origin FROM usage_events ORDER BY rowid'),
    ).toEqual([
      { client_origin: 'https://shop.example.com' },
      { client_origin: 'http://localhost:5173' },
      { client_origin: null },
    ]);
    expect(JSON.stringify(rows(deps, 'SELECT * FROM usage_events'))).not.toContain('secret-in-query');
  });

  it('forwards a query on the bare prefix with an origin-form target', async () => {
    const res = await gw('?x=1');
    expect(res.status).toBe(404);
    expect(res.headers.get('x-fake')).toBe('magichour');
    expect(fake.received.map((r) => r.path)).toEqual(['/?x=1']);
  });

  it('passes 401, 402, 422 and 429 through unchanged and records them as errors without credits', async () => {
    const unauthorized = await gw('/v1/face-swap', { method: 'POST', body: '{}' }, 'mhk_live_wrong_zz99');
    expect(unauthorized.status).toBe(401);
    expect(await unauthorized.json()).toEqual({ message: 'Unauthorized' });
    for (const status of [402, 422, 429] as const) {
      fake.troubleNext({ kind: 'status', status });
      const res = await gw('/v1/face-swap', { method: 'POST', body: '{}' });
      expect(res.status).toBe(status);
      expect(((await res.json()) as { message: string }).message).toMatch(/\w/);
    }
    await app.flush();
    expect(events().map((e) => [e.status, e.credits])).toEqual([
      [401, 0],
      [402, 0],
      [422, 0],
      [429, 0],
    ]);
    expect(minuteTotals()).toMatchObject({ requests: 4, errors: 4, auth_failures: 1 });
    expect(rows(deps, 'SELECT name FROM keys ORDER BY name')).toEqual([
      { name: 'discovered-ab12' },
      { name: 'discovered-zz99' },
    ]);
  });

  it('keeps nothing of a key of 8 characters or fewer but its fingerprint', async () => {
    // Letters outside 0-9a-f, so no part of them can hide in a hex fingerprint or name.
    const short4 = 'zqxw';
    const short8 = 'vutsrqpo';
    const long9 = 'mnlkjihgz';
    for (const key of [short4, short8, long9]) await gw('/v1/face-swap', { method: 'POST', body: '{}' }, key);
    await app.flush();
    const keys = rows<{ name: string; last4: string | null; fingerprint: string }>(
      deps,
      'SELECT name, last4, fingerprint FROM keys',
    );
    const byFingerprint = (key: string) =>
      keys.find((k) => k.fingerprint === fingerprintKey(TEST_SECRET, key));
    for (const key of [short4, short8]) {
      expect(byFingerprint(key)?.last4).toBeNull();
      expect(byFingerprint(key)?.name).toMatch(/^discovered-[0-9a-f]{8}$/);
    }
    expect(byFingerprint(long9)).toMatchObject({ last4: 'ihgz', name: 'discovered-ihgz' });
    deps.sqlite.pragma('wal_checkpoint(TRUNCATE)');
    const stored = Buffer.concat(
      [deps.dbPath, `${deps.dbPath}-wal`].flatMap((f) => (existsSync(f) ? [readFileSync(f)] : [])),
    );
    for (const piece of [short4, short8, short8.slice(-4), short8.slice(0, 4)])
      expect(stored.includes(Buffer.from(piece))).toBe(false);
  });

  it('answers 502 with a JSON error when the upstream is slow, drops the connection or is down', async () => {
    await app.close();
    app = await startApp(deps, { timeoutMs: 150 });
    fake.troubleNext({ kind: 'slow', ms: 600 });
    const slow = await gw('/v1/face-swap', { method: 'POST', body: '{}' });
    expect(slow.status).toBe(502);
    expect(((await slow.json()) as { error: { code: string } }).error.code).toBe('upstream_timeout');

    fake.troubleNext({ kind: 'drop' });
    const dropped = await gw('/v1/face-swap', { method: 'POST', body: '{}' });
    expect(dropped.status).toBe(502);
    expect(((await dropped.json()) as { error: { code: string } }).error.code).toBe('upstream_unavailable');

    fake.troubleNext({ kind: 'drop-mid-body' });
    const cut = await gw('/v1/face-swap', { method: 'POST', body: '{}' });
    await expect(cut.text()).rejects.toThrow();

    await fake.close();
    const down = await gw('/v1/face-swap', { method: 'POST', body: '{}' });
    expect(down.status).toBe(502);
    await app.flush();
    expect(events().map((e) => e.status)).toEqual([502, 502, 200, 502]);
    expect(events().every((e) => e.credits === 0)).toBe(true);
    fake = await startFakeMagicHour();
  });

  it('still meters a create whose client went away before the answer', async () => {
    fake.troubleNext({ kind: 'slow', ms: 300 });
    const abort = new AbortController();
    const pending = gw('/v1/ai-image-generator', {
      method: 'POST',
      body: JSON.stringify({ image_count: 4 }),
      signal: abort.signal,
    });
    setTimeout(() => abort.abort(), 50);
    await expect(pending).rejects.toThrow();
    // The provider charged for it, so the event must carry the real answer once it arrives.
    for (let i = 0; i < 100 && app.sources.gateway.queue.stats().size === 0; i++) {
      await new Promise((r) => setTimeout(r, 20));
    }
    await app.flush();
    expect(events().map((e) => [e.status, e.credits])).toEqual([[200, 20]]);
    expect((await gw('/v1/face-swap', { method: 'POST', body: '{}' })).status).toBe(200);
  });

  it('streams large bodies both ways without reading them', async () => {
    const big = Buffer.alloc(3 * 1024 * 1024, 'a');
    const res = await gw('/v1/files/upload-urls', { method: 'POST', body: big });
    expect(res.status).toBe(404);
    expect(fake.received[0]!.body.length).toBe(big.length);
  });

  it('reads credits from a gzip answer while the client gets the original bytes', async () => {
    fake.gzip = true;
    const raw = await rawPost(
      `${app.url}/gw/magichour/v1/ai-image-generator`,
      JSON.stringify({ image_count: 2 }),
    );
    expect(raw.headers['content-encoding']).toBe('gzip');
    expect(JSON.parse(gunzipSync(raw.body).toString())).toMatchObject({ credits_charged: 10 });
    await app.flush();
    expect(events()[0]!.credits).toBe(10);
  });

  it('trusts X-Forwarded-For only from configured proxies', async () => {
    await gw('/v1/face-swap', { method: 'POST', body: '{}', headers: { 'x-forwarded-for': '203.0.113.9' } });
    await app.flush();
    expect(events()[0]!.source_ip).toBe('127.0.0.1');

    await app.close();
    await fake.close();
    deps.cleanup();
    await setup({ KEYWATCH_TRUSTED_PROXIES: '127.0.0.1' });
    await gw('/v1/face-swap', {
      method: 'POST',
      body: '{}',
      headers: { 'x-forwarded-for': '198.51.100.1, 203.0.113.9' },
    });
    await app.flush();
    expect(events()[0]!.source_ip).toBe('203.0.113.9');
  });

  it('keeps serving while storage fails and writes the events once it recovers', async () => {
    const api = createTestApi(deps);
    const read = await api.tokenFor('read');
    failWrites();
    const res = await gw('/v1/ai-image-generator', {
      method: 'POST',
      body: JSON.stringify({ image_count: 1 }),
    });
    expect(res.status).toBe(200);
    await app.flush();
    const stats = app.sources.gateway.queue.stats();
    expect(stats.size).toBe(1);
    expect(stats.last_error).toMatch(/storage unavailable/);

    const health = await fetch(`${app.url}/api/v1/sources`, { headers: { authorization: `Bearer ${read}` } });
    const body = (await health.json()) as {
      sources: { name: string; status: string }[];
      gateway_queue: unknown;
    };
    expect(body.gateway_queue).toEqual({
      size: 1,
      capacity: 50_000,
      dropped: 0,
      journaled: 1,
      journal_error: null,
    });
    expect(body.sources.find((s) => s.name === 'gateway')?.status).toBe('error');

    recoverWrites();
    expect(app.sources.gateway.queue.flush()).toBe(true);
    expect(events()).toHaveLength(1);
    expect(events()[0]!.credits).toBe(5);
    expect(app.sources.gateway.queue.stats()).toMatchObject({ size: 0, last_error: null });
  });

  it('drops and counts events beyond the queue capacity instead of growing without bound', async () => {
    await app.close();
    app = await startApp(deps, { queue: { capacity: 2 } });
    failWrites();
    for (let i = 0; i < 4; i++)
      expect((await gw('/v1/face-swap', { method: 'POST', body: '{}' })).status).toBe(200);
    expect(app.sources.gateway.queue.stats()).toMatchObject({ size: 2, dropped: 2 });
    recoverWrites();
    await app.flush();
    expect(events()).toHaveLength(2);
  });

  it('records events at the injected clock time', async () => {
    deps.clock.set(T0 + 90_000);
    await gw('/v1/face-swap', { method: 'POST', body: '{}' });
    await app.flush();
    expect(rows(deps, 'SELECT ts FROM usage_events')).toEqual([{ ts: T0 + 90_000 }]);
  });
});

describe('gateway limits per client', () => {
  it('answers 429 past the in-flight limit of one address while others are served promptly', async () => {
    await app.close();
    await fake.close();
    deps.cleanup();
    // 8 upstream connections in all, at most 4 for one client; stalled bodies are not timed out here.
    await setup({
      KEYWATCH_GATEWAY_MAX_PER_CLIENT: '4',
      KEYWATCH_GATEWAY_UPSTREAM_SOCKETS: '8',
      KEYWATCH_GATEWAY_BODY_IDLE_MS: '30000',
    });
    const target = `${app.url}/gw/magichour/v1/face-swap`;
    const attack = Array.from({ length: 40 }, () =>
      stalledUpload(target, { key: KEY, localAddress: '127.0.0.2' }),
    );
    await until(() => attack.filter((a) => a.answered()).length === 36, '36 uploads to be refused');
    await until(() => fake.open === 4, '4 uploads to reach the upstream');
    const refused = await Promise.race(attack.filter((a) => a.answered()).map((a) => a.answer));
    expect(refused.status).toBe(429);
    expect(refused.headers['retry-after']).toBe('1');
    expect(JSON.parse(refused.body)).toEqual({
      error: {
        code: 'rate_limited',
        message: 'This client has 4 gateway requests in flight already; retry once some finish.',
      },
    });

    // Everyone else still gets through at once: 8 requests at a time, from 127.0.0.1.
    const started = Date.now();
    const normal = await Promise.all(
      Array.from({ length: 8 }, () =>
        send(target, {
          headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' },
          body: '{}',
          timeoutMs: 2_000,
        }),
      ),
    );
    expect(normal.map((a) => a.status)).toEqual(Array(8).fill(200));
    expect(Date.now() - started).toBeLessThan(1_000);
    expect(fake.open).toBe(4);

    // The attacker leaves: its upstream requests are cancelled and its address is served again at once.
    for (const a of attack) a.leave();
    await until(() => fake.aborted.length === 4 && fake.open === 0, 'the stalled upstream requests to close');
    const again = await send(target, {
      localAddress: '127.0.0.2',
      headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' },
      body: '{}',
      timeoutMs: 2_000,
    });
    expect(again.status).toBe(200);
    // Only requests the provider answered are metered: not the refused, not the abandoned.
    await app.flush();
    expect(events().map((e) => [e.status, e.source_ip])).toEqual([
      ...Array(8).fill([200, '127.0.0.1']),
      [200, '127.0.0.2'],
    ]);
  });

  it('counts the client behind a trusted proxy, not the proxy', async () => {
    await app.close();
    await fake.close();
    deps.cleanup();
    await setup({
      KEYWATCH_TRUSTED_PROXIES: '127.0.0.1',
      KEYWATCH_GATEWAY_MAX_PER_CLIENT: '1',
      KEYWATCH_GATEWAY_UPSTREAM_SOCKETS: '4',
    });
    const target = `${app.url}/gw/magichour/v1/face-swap`;
    fake.troubleNext({ kind: 'slow', ms: 400 });
    const headers = (client: string) => ({
      authorization: `Bearer ${KEY}`,
      'content-type': 'application/json',
      'x-forwarded-for': client,
    });
    const slow = send(target, { headers: headers('203.0.113.9'), body: '{}' });
    await until(
      () => fake.open === 0 && fake.received.length === 1,
      'the first request to reach the upstream',
    );
    const [sameClient, otherClient] = await Promise.all([
      send(target, { headers: headers('203.0.113.9'), body: '{}' }),
      send(target, { headers: headers('198.51.100.7'), body: '{}' }),
    ]);
    expect(sameClient.status).toBe(429);
    expect(otherClient.status).toBe(200);
    expect((await slow).status).toBe(200);
  });
});

/** node:http, so the body arrives as the bytes on the wire (fetch would decode gzip). */
function rawPost(url: string, body: string) {
  return new Promise<{ headers: Record<string, unknown>; body: Buffer }>((resolve, reject) => {
    const req = request(url, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${KEY}`,
        'accept-encoding': 'gzip',
        'content-type': 'application/json',
      },
    });
    req.on('response', async (res) => {
      const chunks: Buffer[] = [];
      for await (const c of res) chunks.push(c as Buffer);
      resolve({ headers: res.headers, body: Buffer.concat(chunks) });
    });
    req.on('error', reject);
    req.end(body);
  });
}

describe('gateway mounted in Hono (for servers built with serve(app.fetch))', () => {
  it('proxies through the Hono route too, and refuses without a Node server', async () => {
    const sources = createSourceServices(deps);
    const honoApp = createApp(deps, sources);
    const server = serve({ fetch: honoApp.fetch, port: 0, hostname: '127.0.0.1' }) as Server;
    await new Promise<void>((r) => server.once('listening', () => r()));
    const port = (server.address() as AddressInfo).port;
    const res = await fetch(`http://127.0.0.1:${port}/gw/magichour/v1/ai-image-generator`, {
      method: 'POST',
      headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' },
      body: JSON.stringify({ image_count: 1 }),
    });
    expect(res.status).toBe(200);
    // The mount is on the dashboard's origin, so the answer is made inert there too.
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    expect(res.headers.get('content-security-policy')).toBe('sandbox');
    expect(((await res.json()) as { credits_charged: number }).credits_charged).toBe(5);
    server.closeAllConnections();
    await new Promise<void>((r) => server.close(() => r()));
    await sources.stop();
    expect(events()).toHaveLength(1);

    const inProcess = await honoApp.request('/gw/magichour/v1/face-swap', { method: 'POST' });
    expect(inProcess.status).toBe(503);
  });
});

describe('gateway latency for GET /metrics', () => {
  it('records each forwarded request in the histogram the sources own, and /metrics shows it', async () => {
    expect(app.sources.gatewayLatency.snapshot().count).toBe(0);
    await (await gw('/v1/face-swap', { method: 'POST', body: '{}' })).text();
    await (await gw('/v1/face-swap', { method: 'POST', body: '{}' }, 'mhk_live_wrong_zz99')).text();
    const h = app.sources.gatewayLatency.snapshot();
    expect(h.count).toBe(2);
    expect(h.sum).toBeGreaterThan(0);
    expect(h.counts.at(-1)).toBe(2);
    const text = await (await fetch(`${app.url}/metrics`)).text();
    expect(text).toContain('keywatch_gateway_request_duration_seconds_count 2');
    expect(text).toContain('keywatch_gateway_request_duration_seconds_bucket{le="+Inf"} 2');
  });
});
