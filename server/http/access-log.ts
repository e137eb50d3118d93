/**
 * One access-log line per HTTP request (info level): request id, method, route pattern, status,
 * duration. Never the query string (it may hold a token), nor authorization headers or cookies.
 * The request id comes from a valid incoming `x-request-id` or is generated; it is echoed back.
 */
import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import type { MiddlewareHandler } from 'hono';
import { routePath } from 'hono/route';
import type { Logger } from '../log.ts';

export const REQUEST_ID_HEADER = 'x-request-id';
const VALID_REQUEST_ID = /^[A-Za-z0-9._-]{1,128}$/;
/** Probes and static files: frequent and uninteresting. */
const QUIET = /^\/(?:healthz|readyz|assets)(?:\/|$)/;

export function requestIdFrom(header: string | undefined): string {
  return header && VALID_REQUEST_ID.test(header) ? header : randomUUID();
}

export function accessLog(log: Logger): MiddlewareHandler {
  return async (c, next) => {
    const started = performance.now();
    const id = requestIdFrom(c.req.header(REQUEST_ID_HEADER));
    c.header(REQUEST_ID_HEADER, id);
    await next();
    // A response built without c.header (a passed-through one) gets it here, when it can.
    if (c.res.headers.get(REQUEST_ID_HEADER) !== id) {
      try {
        c.res.headers.set(REQUEST_ID_HEADER, id);
      } catch {
        // Immutable headers: the id is still in the log line.
      }
    }
    const path = c.req.path;
    if (QUIET.test(path)) return;
    log.info('http request', {
      request_id: id,
      method: c.req.method,
      route: routeOf(c, path),
      status: c.res.status,
      duration_ms: Math.round((performance.now() - started) * 1000) / 1000,
    });
  };
}

/** The matched route's pattern (`/api/v1/keys/:id`); the bare path when only middleware matched. */
function routeOf(c: Parameters<MiddlewareHandler>[0], path: string): string {
  let pattern: string | undefined;
  try {
    pattern = routePath(c);
  } catch {
    pattern = undefined;
  }
  return pattern && pattern !== '*' && pattern !== '/*' ? pattern : path;
}
