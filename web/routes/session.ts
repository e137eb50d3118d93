/** Page sessions: pages need a signed-in user (else /login), form posts need the session's CSRF token. */
import type { MiddlewareHandler } from 'hono';
import { getCookie } from 'hono/cookie';
import { constantTimeEqual } from '../../server/auth/secrets.ts';
import { authenticateSession, SESSION_COOKIE, type SessionPrincipal } from '../../server/auth/sessions.ts';
import type { Deps } from '../../server/deps.ts';
import { AppError } from '../../server/errors.ts';

export type PageEnv = { Variables: { session: SessionPrincipal } };

export const isAdmin = (session: SessionPrincipal) => session.role === 'admin';

/** Requires a session; a browser without one is sent to sign in and brought back afterwards. */
export function requirePage(deps: Pick<Deps, 'db' | 'clock'>): MiddlewareHandler<PageEnv> {
  return async (c, next) => {
    const cookie = getCookie(c, SESSION_COOKIE);
    const session = cookie ? await authenticateSession(deps, cookie) : null;
    if (!session) {
      const url = new URL(c.req.url);
      return c.redirect(`/login?next=${encodeURIComponent(url.pathname + url.search)}`, 303);
    }
    c.set('session', session);
    c.header('cache-control', 'no-store');
    await next();
  };
}

/** For HTML form posts: the hidden `_csrf` field must match the session's token. */
export function checkFormCsrf(session: SessionPrincipal, sent: unknown): void {
  if (typeof sent !== 'string' || !constantTimeEqual(sent, session.csrfToken)) {
    throw new AppError(403, 'csrf_failed', 'The CSRF token is missing or wrong; reload the page.');
  }
}

/** Only same-site relative paths may be a post-login destination (no open redirect). */
export function safeNext(next: string | undefined): string {
  return next && /^\/(?![/\\])[^\s]*$/.test(next) && !next.startsWith('/login') ? next : '/';
}
