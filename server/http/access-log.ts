/**
 * One access-log line per HTTP request (info level): request id, method, route pattern, status,
 * duration. Never the query string (it may hold a token), nor authorization headers or cookies.
 * The request id comes from a valid incoming `x-request-id` or is generated; it is echoed back.
 */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
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

/**
 * The same line for a request a Node listener serves without Hono (the gateway's hot path, on
 * either port), written when the response is done or the connection is gone. `route` is what the
 * caller names it (`/gw/magichour/*`), never the raw URL: a query string may carry a token.
 * Nothing is added to the answer (the gateway passes the provider's through unchanged); a caller
 * that sends its own valid `x-request-id` finds it in the line.
 */
export function logNodeRequest(
  log: Logger,
  req: IncomingMessage,
  res: ServerResponse,
  fields: { route: string; listener: 'main' | 'gateway' },
): void {
  // Below info nothing would be written: no request id, clock read or close listener per request.
  if (log.enabled?.('info') === false) return;
  const started = performance.now();
  const header = req.headers[REQUEST_ID_HEADER];
  const id = requestIdFrom(Array.isArray(header) ? undefined : header);
  res.once('close', () => {
    log.info('http request', {
      request_id: id,
      method: req.method,
      route: fields.route,
      listener: fields.listener,
      // No status was sent when the client went away first.
      status: res.headersSent ? res.statusCode : null,
      duration_ms: Math.round((performance.now() - started) * 1000) / 1000,
      ...(!res.writableFinished && { aborted: true }),
    });
  });
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
