/** Requests waiting on a worker are bounded per caller and in all; past that, 429 at once. */
import { Hono } from 'hono';
import { afterEach, describe, expect, it } from 'vitest';
import { limitInFlight } from '../../server/auth/in-flight.ts';
import type { Principal } from '../../server/auth/principal.ts';
import { createTestApi } from '../helpers/api.ts';
import { createTestDeps, type TestDeps } from '../helpers/store.ts';

const principal = (id: number): Principal => ({
  actor: `token:t${id}`,
  kind: 'token',
  scopes: new Set(['read']),
  tokenId: id,
});

/** An app whose one route holds each request until the test releases it. */
function heldApp(limits: { perCaller: number; total: number }) {
  const inFlight = limitInFlight({ work: 'reads', retryAfterS: 2, ...limits });
  const waiting: (() => void)[] = [];
  const app = new Hono()
    .use(async (c, next) => {
      c.set('principal' as never, principal(Number(c.req.header('x-caller'))) as never);
      await next();
    })
    .get('/', inFlight.admit, async (c) => {
      await new Promise<void>((resolve) => waiting.push(resolve));
      return c.text('done');
    });
  const call = (caller: number) => app.request('/', { headers: { 'x-caller': String(caller) } });
  const releaseAll = () => {
    for (const r of waiting.splice(0)) r();
  };
  return { inFlight, call, releaseAll, waiting };
}

const settle = () => new Promise((resolve) => setTimeout(resolve, 10));

describe('limitInFlight', () => {
  it('refuses a caller past its share with 429 and Retry-After, others still get in', async () => {
    const { inFlight, call, releaseAll, waiting } = heldApp({ perCaller: 2, total: 10 });
    const held = [call(1), call(1)];
    await settle();
    const refused = await call(1);
    expect(refused.status).toBe(429);
    expect(refused.headers.get('retry-after')).toBe('2');
    expect(await refused.json()).toEqual({
      error: {
        code: 'rate_limited',
        message: expect.stringContaining('at most 2 at a time per user or token'),
      },
    });
    const other = call(2);
    await settle();
    expect(waiting).toHaveLength(3);
    expect(inFlight.count()).toBe(3);
    releaseAll();
    expect((await Promise.all([...held, other])).map((r) => r.status)).toEqual([200, 200, 200]);
    expect(inFlight.count()).toBe(0);
    // A finished request frees its place.
    const again = call(1);
    await settle();
    releaseAll();
    expect((await again).status).toBe(200);
  });

  it('refuses everyone past the total, and frees places when a request fails', async () => {
    const { call, releaseAll } = heldApp({ perCaller: 5, total: 3 });
    const held = [call(1), call(2), call(3)];
    await settle();
    const refused = await call(4);
    expect(refused.status).toBe(429);
    expect((await refused.json()).error.message).toContain('busy');
    releaseAll();
    await Promise.all(held);

    const inFlight = limitInFlight({ work: 'reads', perCaller: 1, total: 1, retryAfterS: 1 });
    const failing = new Hono()
      .use(async (c, next) => {
        c.set('principal' as never, principal(1) as never);
        await next();
      })
      .get('/', inFlight.admit, () => {
        throw new Error('boom');
      })
      .onError((_, c) => c.text('failed', 500));
    expect((await failing.request('/')).status).toBe(500);
    expect(inFlight.count()).toBe(0);
  });
});

describe('the routes that wait on a worker', () => {
  let deps: TestDeps;
  afterEach(() => deps.cleanup());

  it('bound exports per token: a burst of twelve gets four answers and eight 429s', async () => {
    deps = createTestDeps();
    const api = createTestApi(deps);
    const token = await api.tokenFor('read');
    // The reads worker (a real thread on the test's SQLite file) answers one at a time, and
    // starting it takes longer than the burst takes to arrive.
    const burst = await Promise.all(
      Array.from({ length: 12 }, () => api.call('GET', '/export/keys.csv', token)),
    );
    const statuses = burst.map((r) => r.status).sort();
    expect(statuses).toEqual([...Array(4).fill(200), ...Array(8).fill(429)]);
    const refused = burst.find((r) => r.status === 429)!;
    expect(refused.headers.get('retry-after')).toBe('1');
    expect(refused.json.error.code).toBe('rate_limited');
    // Once answered, the same token is served again.
    expect((await api.call('GET', '/export/keys.csv', token)).status).toBe(200);
    const other = await api.tokenFor('read');
    expect((await api.call('GET', '/api/v1/usage?step=day', other)).status).toBe(200);
  });
});
