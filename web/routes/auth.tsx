/** GET/POST /login and POST /logout: cookie sessions with a brute-force brake and CSRF checks. */
import { getConnInfo } from '@hono/node-server/conninfo';
import { type Context, Hono } from 'hono';
import { deleteCookie, getCookie, setCookie } from 'hono/cookie';
import type { LoginLimiter } from '../../server/auth/login-limiter.ts';
import {
  authenticateSession,
  createSession,
  deleteSession,
  SESSION_COOKIE,
  SESSION_TTL_MS,
} from '../../server/auth/sessions.ts';
import { verifyLogin } from '../../server/auth/users.ts';
import type { Deps } from '../../server/deps.ts';
import { limitBody } from '../../server/http/body.ts';
import { type ClientIpResolver, createClientIpResolver } from '../../server/http/client-ip.ts';
import type { Assets } from '../assets.ts';
import { sendPage } from '../components/render.ts';
import { LoginPage } from '../pages/login.tsx';
import { checkFormCsrf, safeNext } from './session.ts';

/** The socket peer, or behind trusted proxies the client they forwarded for. */
function clientIpOf(c: Context, resolve: ClientIpResolver): string {
  let peer: string | undefined;
  try {
    peer = getConnInfo(c).remote.address;
  } catch {
    // app.request() in tests has no socket.
    return 'local';
  }
  return resolve(peer, c.req.header('x-forwarded-for')) ?? 'unknown';
}

/**
 * A cross-site form post carries a foreign Origin; browsers always send Origin on POST. Behind a
 * TLS reverse proxy the socket says http://internal while the browser says the public origin.
 */
function sameOrigin(c: Context, publicOrigin: string | null): boolean {
  const origin = c.req.header('origin');
  return !origin || origin === new URL(c.req.url).origin || origin === publicOrigin;
}

function originOf(url: string): string | null {
  try {
    return new URL(url).origin;
  } catch {
    return null;
  }
}

const field = (v: unknown) => (typeof v === 'string' ? v : '');

export function authRoutes(deps: Deps, getAssets: () => Promise<Assets>, limiter: LoginLimiter) {
  const secure = deps.config.publicUrl.startsWith('https:');
  const publicOrigin = originOf(deps.config.publicUrl);
  const resolveIp = createClientIpResolver(deps.config.trustedProxies);
  const app = new Hono();

  app.get('/login', async (c) => {
    const next = safeNext(c.req.query('next'));
    const cookie = getCookie(c, SESSION_COOKIE);
    if (cookie && (await authenticateSession(deps, cookie))) return c.redirect(next, 303);
    c.header('cache-control', 'no-store');
    return sendPage(c, <LoginPage assets={await getAssets()} next={next} />);
  });

  app.post('/login', limitBody(16 * 1024), async (c) => {
    const form = await c.req.parseBody();
    const email = field(form.email).slice(0, 254);
    const password = field(form.password).slice(0, 200);
    const next = safeNext(field(form.next));
    const assets = await getAssets();
    const fail = (status: 400 | 401 | 403 | 429, error: string) => {
      c.header('cache-control', 'no-store');
      return sendPage(c, <LoginPage assets={assets} next={next} email={email} error={error} />, status);
    };
    if (!sameOrigin(c, publicOrigin))
      return fail(403, 'This sign-in came from another site and was refused.');
    const ip = clientIpOf(c, resolveIp);
    const wait = limiter.retryAfter(ip, email);
    if (wait > 0) {
      c.header('retry-after', String(Math.ceil(wait / 1000)));
      return fail(429, `Too many failed sign-ins. Try again in ${Math.ceil(wait / 60_000)} minutes.`);
    }
    if (!email || !password) return fail(400, 'Enter your email and password.');
    const user = await verifyLogin(deps, email, password);
    if (!user) {
      limiter.recordFailure(ip, email);
      return fail(401, 'That email and password do not match an active user.');
    }
    limiter.recordSuccess(ip, email);
    const { cookieValue } = await createSession(deps, user.id);
    setCookie(c, SESSION_COOKIE, cookieValue, {
      httpOnly: true,
      sameSite: 'Strict',
      secure,
      path: '/',
      maxAge: Math.floor(SESSION_TTL_MS / 1000),
    });
    return c.redirect(next, 303);
  });

  app.post('/logout', limitBody(16 * 1024), async (c) => {
    const cookie = getCookie(c, SESSION_COOKIE);
    const session = cookie ? await authenticateSession(deps, cookie) : null;
    if (cookie && session) {
      checkFormCsrf(session, (await c.req.parseBody())._csrf);
      await deleteSession(deps, cookie);
    }
    deleteCookie(c, SESSION_COOKIE, { path: '/', secure });
    return c.redirect('/login', 303);
  });

  return app;
}
