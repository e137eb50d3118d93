/**
 * Sign-in in Chromium through a TLS-terminating reverse proxy (HTTPS outside, plain HTTP to
 * Keywatch, X-Forwarded-* headers), with KEYWATCH_PUBLIC_URL the proxy's https URL and the proxy
 * trusted: the session cookie is Secure, CSRF-checked writes work from the page, and the sign-in
 * limiter counts the client address the proxy forwarded, not the proxy's own.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LOGIN_LIMITS } from '../../server/auth/login-limiter.ts';
import { addUser } from '../../server/auth/users.ts';
import { silentLogger } from '../../server/log.ts';
import { type Running, startServer } from '../../server/serve.ts';
import { type BrowserContext, chromiumAvailable, launchBrowser, type Page, signIn } from '../helpers/e2e.ts';
import { testConfig } from '../helpers/store.ts';
import { startTlsProxy, type TlsProxy } from '../helpers/tls-proxy.ts';

const available = chromiumAvailable();
const ADMIN = { email: 'admin@proxy.test', password: 'proxy-admin-password-1' };

describe.skipIf(!available)('behind a TLS reverse proxy, in Chromium', { timeout: 90_000 }, () => {
  let dir: string;
  let proxy: TlsProxy;
  let running: Running;
  let browser: Awaited<ReturnType<typeof launchBrowser>>;
  let context: BrowserContext;
  let page: Page;
  const pageErrors: string[] = [];

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'keywatch-proxy-'));
    // The proxy first: Keywatch's public URL is the proxy's address.
    proxy = await startTlsProxy();
    const config = testConfig(dir, {
      KEYWATCH_DEMO: '0',
      KEYWATCH_PUBLIC_URL: proxy.url,
      KEYWATCH_TRUSTED_PROXIES: '127.0.0.1',
    });
    running = await startServer(config, silentLogger, { announce: () => {} });
    proxy.target = running.url;
    await addUser(running.deps, { ...ADMIN, role: 'admin' }, 'test');
    browser = await launchBrowser(undefined, undefined, { ignoreHTTPSErrors: true });
    context = browser.context;
    page = await context.newPage();
    page.on('pageerror', (err) => pageErrors.push(err.message));
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await running?.stop();
    await proxy?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const sessionCookie = async () => (await context.cookies(proxy.url)).find((c) => c.name === 'kw_session');

  it('signs in over https with a Secure, HttpOnly session cookie', async () => {
    await signIn(page, proxy.url, ADMIN);
    expect(new URL(page.url()).origin).toBe(proxy.url);
    expect(await page.locator('h1').textContent()).toBe('Overview');
    const cookie = await sessionCookie();
    expect(cookie).toMatchObject({ secure: true, httpOnly: true });
    expect(['Lax', 'Strict']).toContain(cookie?.sameSite);
    expect(pageErrors).toEqual([]);
  });

  it('accepts a CSRF-checked write from the page, and refuses one without the token', async () => {
    const statuses = await page.evaluate(async () => {
      const csrf = document.querySelector<HTMLMetaElement>('meta[name="csrf-token"]')?.content ?? '';
      const post = (headers: Record<string, string>) =>
        fetch('/api/v1/keys', {
          method: 'POST',
          headers: { 'content-type': 'application/json', ...headers },
          body: JSON.stringify({ name: `via-proxy-${Object.keys(headers).length}` }),
        }).then((r) => r.status);
      return { withToken: await post({ 'x-csrf-token': csrf }), without: await post({}) };
    });
    expect(statuses).toEqual({ withToken: 201, without: 403 });
    const names = running.deps.sqlite.prepare('SELECT name FROM keys').all() as { name: string }[];
    expect(names.map((k) => k.name)).toEqual(['via-proxy-1']);
  });

  it('signs out with the form (origin checked against the public URL)', async () => {
    await Promise.all([
      page.waitForURL((u) => u.pathname.startsWith('/login')),
      page.getByRole('button', { name: 'Sign out' }).click(),
    ]);
    expect(await sessionCookie()).toBeUndefined();
  });

  it('limits failed sign-ins per forwarded client address, so other clients still get in', async () => {
    const fail = (email: string) =>
      context.request.post(`${proxy.url}/login`, {
        form: { email, password: 'wrong-password-here' },
        headers: { origin: proxy.url },
        maxRedirects: 0,
      });
    proxy.clientAddress = '203.0.113.66';
    for (let i = 0; i < LOGIN_LIMITS.perIp; i++)
      expect((await fail(`guess${i}@proxy.test`)).status()).not.toBe(429);
    const locked = await fail('one-more@proxy.test');
    expect(locked.status()).toBe(429);
    expect(locked.headers()['retry-after']).toMatch(/^\d+$/);
    // Another client behind the same proxy (same socket address, 127.0.0.1) is not locked out.
    proxy.clientAddress = '198.51.100.23';
    await signIn(page, proxy.url, ADMIN);
    expect(new URL(page.url()).pathname).toBe('/');
    expect((await sessionCookie())?.secure).toBe(true);
  });
});
