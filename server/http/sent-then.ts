/** Work to do once a response has been sent whole: the body's memory is free to reuse. */
import type { ServerResponse } from 'node:http';
import type { Context } from 'hono';

/**
 * Runs `then` when the response has been handed to the kernel whole ('finish': every write of
 * its body has completed, so nothing reads the body's bytes any more). Not on an aborted one,
 * whose writes may still be pending: its body is simply collected. Off a real server (app.request
 * in tests) there is no response to watch, and nothing runs.
 */
export function sentThen(c: Context, then: () => void): void {
  const outgoing = (c.env as { outgoing?: ServerResponse } | undefined)?.outgoing;
  outgoing?.once('finish', then);
}
