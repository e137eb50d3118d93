/** Behind a TLS reverse proxy: sign-in with the public origin, rate limits per real client, over real HTTP. */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LOGIN_LIMITS } from '../../../server/auth/login-limiter.ts';
import { addUser } from '../../../server/auth/users.ts';
import { type RunningApp, startApp } from '../../helpers/sources.ts';
import { createTestDeps, type TestDeps } from '../../helpers/store.ts';

const PUBLIC = 'https://keywatch.example.com';
const ADMIN = { email: 'admin@example.com', password: 'correct-horse-battery' };
let deps: TestDeps;
let app: RunningApp;

beforeEach(async () => {
  deps = createTestDeps({ KEYWATCH_PUBLIC_URL: PUBLIC, KEYWATCH_TRUSTED_PROXIES: '127.0.0.1' });
  await addUser(deps, { ...ADMIN, role: 'admin' }, 'test');
  app = await startApp(deps);
});
afterEach(async () => {
  await app.close();
  deps.cleanup();
});

/** What the proxy forwards: the browser's Origin, and the client's address in X-Forwarded-For. */
const login = (password: string, client: string, email = ADMIN.email) =>
  fetch(`${app.url}/login`, {
    method: 'POST',
    redirect: 'manual',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      origin: PUBLIC,
      'x-forwarded-for': client,
      'x-forwarded-proto': 'https',
    },
    body: new URLSearchParams({ email, password, next: '/' }).toString(),
  });

describe('behind a TLS reverse proxy', () => {
  it('signs in with the public origin and sets a Secure cookie', async () => {
    const res = await login(ADMIN.password, '198.51.100.7');
    expect(res.status).toBe(303);
    expect(res.headers.get('set-cookie')).toMatch(/kw_session=.*Secure/);
  });

  it('still refuses a foreign origin', async () => {
    const res = await fetch(`${app.url}/login`, {
      method: 'POST',
      redirect: 'manual',
      headers: { 'content-type': 'application/x-www-form-urlencoded', origin: 'https://evil.example' },
      body: new URLSearchParams({ email: ADMIN.email, password: ADMIN.password }).toString(),
    });
    expect(res.status).toBe(403);
  });

  it('limits failures per real client address, not per proxy', async () => {
    // Many addresses tried from one client: its own limit, by the address the proxy forwarded.
    for (let i = 0; i < LOGIN_LIMITS.perIp; i++)
      await (await login('wrong', '203.0.113.66', `guess${i}@example.com`)).arrayBuffer();
    expect((await login('wrong', '203.0.113.66', 'one-more@example.com')).status).toBe(429);
    // Another client behind the same proxy is not locked out by the first one's failures.
    const other = await fetch(`${app.url}/login`, {
      method: 'POST',
      redirect: 'manual',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        origin: PUBLIC,
        'x-forwarded-for': '198.51.100.8',
      },
      body: new URLSearchParams({ email: 'someone-else@example.com', password: 'x' }).toString(),
    });
    expect(other.status).toBe(401);
  });
});
