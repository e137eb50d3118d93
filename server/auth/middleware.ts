/** Credentials for the API: a bearer token, or a dashboard session cookie (with CSRF on writes). */
import type { MiddlewareHandler } from 'hono';
import { getCookie } from 'hono/cookie';
import type { Clock } from '../clock.ts';
import type { Db, Sqlite } from '../db/client.ts';
import type { Scope } from '../db/schema/index.ts';
import { AppError, forbidden, unauthorized } from '../errors.ts';
import type { AppEnv } from './app-env.ts';
import { hasScope, type Principal } from './principal.ts';
import { constantTimeEqual } from './secrets.ts';
import { authenticateSession, SESSION_COOKIE } from './sessions.ts';
import { authenticateToken } from './tokens.ts';

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);
export const CSRF_HEADER = 'x-csrf-token';

/**
 * Requires credentials carrying `scope`. With no scope given: `read` for safe methods and
 * `admin` for writes. Cookie sessions must also send the session's CSRF token on writes.
 */
export function requireAuth(
  deps: { db: Db; sqlite: Sqlite; clock: Clock },
  scope?: Scope,
): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const header = c.req.header('authorization');
    const safe = SAFE_METHODS.has(c.req.method);
    let principal: Principal | undefined;
    if (!principal && header) {
      const match = /^Bearer\s+(\S+)$/i.exec(header);
      const token = match?.[1];
      principal = (token && (await authenticateToken(deps, token))) || undefined;
      if (!principal) throw unauthorized('The bearer token is missing, malformed, revoked or unknown.');
    }
    if (!principal) {
      const cookie = getCookie(c, SESSION_COOKIE);
      const session = cookie ? await authenticateSession(deps, cookie) : null;
      if (!session) throw unauthorized();
      if (!safe) {
        const sent = c.req.header(CSRF_HEADER) ?? '';
        if (!constantTimeEqual(sent, session.csrfToken)) {
          throw new AppError(403, 'csrf_failed', 'The CSRF token is missing or wrong; reload the page.');
        }
      }
      principal = session;
    }
    const needed: Scope = scope ?? (safe ? 'read' : 'admin');
    if (!hasScope(principal, needed)) {
      throw forbidden(`These credentials lack the "${needed}" scope.`);
    }
    c.set('principal', principal);
    await next();
  };
}
