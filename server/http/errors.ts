/** One error body everywhere: {"error": {"code", "message", "issues"?}}. */
import type { Context } from 'hono';
import { HTTPException } from 'hono/http-exception';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { AppError, type Issue } from '../errors.ts';
import type { Logger } from '../log.ts';

export function errorBody(code: string, message: string, issues?: Issue[]) {
  return { error: { code, message, ...(issues && { issues }) } };
}

const CODES: Record<number, string> = {
  400: 'bad_request',
  401: 'unauthorized',
  403: 'forbidden',
  404: 'not_found',
  405: 'method_not_allowed',
  409: 'conflict',
  413: 'payload_too_large',
  415: 'unsupported_media_type',
  429: 'rate_limited',
};

export function createErrorHandler(log: Logger) {
  return (err: Error, c: Context) => {
    if (err instanceof AppError) {
      return c.json(errorBody(err.code, err.message, err.issues), err.status as ContentfulStatusCode);
    }
    if (err instanceof HTTPException) {
      const status = err.status as ContentfulStatusCode;
      return c.json(errorBody(CODES[status] ?? 'error', err.message || 'Request failed.'), status);
    }
    log.error('unhandled error', {
      method: c.req.method,
      path: c.req.path,
      error: String(err?.stack ?? err),
    });
    return c.json(errorBody('internal', 'Something went wrong on our side; the error was logged.'), 500);
  };
}
