/** Sign-in, sessions, CSRF and security headers through app.request(). */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LOGIN_LIMITS } from '../../../server/auth/login-limiter.ts';
import { addUser } from '../../../server/auth/users.ts';
import { createTestApi } from '../../helpers/api.ts';
import { createTestDeps, type TestDeps } from '../../helpers/store.ts';

let deps: TestDeps;
let api: ReturnType<typeof createTestApi>;
const ADMIN = { email: 'admin@example.com', password: 'correct-horse-battery' };

beforeEach(async () => {
  deps = createTestDeps();
  api = createTestApi(deps);
  await addUser(deps, { ...ADMIN, role: 'admin' }, 'test');
});
afterEach(() => deps.cleanup());

const form = (fields: Record<string, string>) => new URLSearchParams(fields).toString();

async function login(email: string, password: string, headers: Record<string, string> = {}) {
  return api.app.request('/login', {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
    body: form({ email, password, next: '/keys' }),
  });
}

const cookieOf = (res: Response) => /kw_session=([^;]+)/.exec(res.headers.get('set-cookie') ?? '')?.[1] ?? '';

describe('sign-in', () => {
  it('sets an HttpOnly SameSite=Strict session cookie and redirects to the page asked for', async () => {
    const res = await login(ADMIN.email, ADMIN.password);
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toBe('/keys');
    const cookie = res.headers.get('set-cookie') ?? '';
    expect(cookie).toMatch(/HttpOnly/);
    expect(cookie).toMatch(/SameSite=Strict/);
    expect(cookie).not.toMatch(/Secure/);
    const page = await api.app.request('/keys', { headers: { cookie: `kw_session=${cookieOf(res)}` } });
    expect(page.status).toBe(200);
    expect(await page.text()).toMatch(/^<!doctype html>/);
  });

  it('marks the cookie Secure when the public URL is https', async () => {
    const secure = createTestDeps({ KEYWATCH_PUBLIC_URL: 'https://keywatch.example.com' });
    try {
      await addUser(secure, { ...ADMIN, role: 'admin' }, 'test');
      const res = await createTestApi(secure).app.request('/login', {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: form(ADMIN),
      });
      expect(res.headers.get('set-cookie')).toMatch(/; Secure/);
    } finally {
      secure.cleanup();
    }
  });

  it('refuses wrong passwords, then locks the email out with 429 and Retry-After', async () => {
    for (let i = 0; i < LOGIN_LIMITS.perEmail; i++) {
      expect((await login(ADMIN.email, `wrong-${i}`)).status).toBe(401);
    }
    const locked = await login(ADMIN.email, ADMIN.password);
    expect(locked.status).toBe(429);
    expect(Number(locked.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(cookieOf(locked)).toBe('');
    deps.clock.advance(LOGIN_LIMITS.windowMs + 1);
    expect((await login(ADMIN.email, ADMIN.password)).status).toBe(303);
  });

  it('refuses a cross-site sign-in and never redirects off-site', async () => {
    expect((await login(ADMIN.email, ADMIN.password, { origin: 'https://evil.example' })).status).toBe(403);
    const res = await api.app.request('/login', {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: form({ ...ADMIN, next: '//evil.example/x' }),
    });
    expect(res.headers.get('location')).toBe('/');
  });

  it('sends signed-out page visits to /login but leaves unknown API paths as JSON 404', async () => {
    const page = await api.app.request('/settings');
    expect(page.status).toBe(303);
    expect(page.headers.get('location')).toBe('/login?next=%2Fsettings');
    const missing = await api.call('GET', '/api/v1/nothing-here', null);
    expect(missing.status).toBe(404);
    expect(missing.json.error.code).toBe('not_found');
  });
});

describe('sessions and CSRF', () => {
  it('rejects a cookie write without the CSRF token and accepts it with the token', async () => {
    const cookie = `kw_session=${cookieOf(await login(ADMIN.email, ADMIN.password))}`;
    const html = await (await api.app.request('/settings', { headers: { cookie } })).text();
    const csrf = /name="csrf-token" content="([^"]+)"/.exec(html)?.[1] ?? '';
    expect(csrf.length).toBeGreaterThan(20);
    const send = (headers: Record<string, string>) =>
      api.app.request('/api/v1/tokens', {
        method: 'POST',
        headers: { cookie, 'content-type': 'application/json', ...headers },
        body: JSON.stringify({ name: 'ci', scopes: ['ingest'] }),
      });
    expect((await send({})).status).toBe(403);
    expect((await send({ 'x-csrf-token': 'wrong' })).status).toBe(403);
    expect((await send({ 'x-csrf-token': csrf })).status).toBe(201);
  });

  it('logs out only with the form CSRF token, and the session is gone afterwards', async () => {
    const value = cookieOf(await login(ADMIN.email, ADMIN.password));
    const cookie = `kw_session=${value}`;
    const html = await (await api.app.request('/', { headers: { cookie } })).text();
    const csrf = /name="_csrf" value="([^"]+)"/.exec(html)?.[1] ?? '';
    const logout = (token: string) =>
      api.app.request('/logout', {
        method: 'POST',
        headers: { cookie, 'content-type': 'application/x-www-form-urlencoded' },
        body: form({ _csrf: token }),
      });
    expect((await logout('forged')).status).toBe(403);
    expect((await api.app.request('/', { headers: { cookie } })).status).toBe(200);
    expect((await logout(csrf)).status).toBe(303);
    expect((await api.app.request('/', { headers: { cookie } })).status).toBe(303);
  });
});

describe('security headers', () => {
  it('serves pages with a strict CSP and no framing, and assets with long caching', async () => {
    const res = await api.app.request('/login');
    const csp = res.headers.get('content-security-policy') ?? '';
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).not.toContain('unsafe-inline');
    expect(res.headers.get('x-frame-options')).toBe('DENY');
    const html = await res.text();
    expect(html).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/);
    const src = /<script type="module" src="([^"]+)"/.exec(html)?.[1] ?? '';
    const asset = await api.app.request(src, { headers: { 'accept-encoding': 'gzip' } });
    expect(asset.status).toBe(200);
    expect(asset.headers.get('cache-control')).toContain('immutable');
    expect(asset.headers.get('content-encoding')).toBe('gzip');
  });
});
