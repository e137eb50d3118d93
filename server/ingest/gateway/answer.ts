/** The gateway's own answers (not the provider's), in the one error shape {"error": {"code", "message"}}. */
import type { OutgoingHttpHeaders, ServerResponse } from 'node:http';
import { errorBody } from '../../http/errors.ts';

/** An answer already under way cannot turn into an error: the connection is cut instead. */
export function sendError(
  res: ServerResponse,
  status: number,
  code: string,
  message: string,
  headers: OutgoingHttpHeaders = {},
): void {
  if (res.headersSent || res.destroyed) {
    res.destroy();
    return;
  }
  const body = JSON.stringify(errorBody(code, message));
  res.writeHead(status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(body),
    'x-content-type-options': 'nosniff',
    ...headers,
  });
  res.end(body);
}

/**
 * For an answer given before the request body was read: Node then closes the connection once the
 * answer is out, rather than keep reading (and waiting for) a body nobody wants.
 */
export const CLOSE = { connection: 'close' } as const;
