/**
 * The Node HTTP servers Keywatch listens with (the main port and the gateway port): a client that
 * sends its headers or its request slowly is answered 408 and cut off instead of holding a
 * connection for as long as it likes.
 */
import { createServer, type RequestListener, type Server } from 'node:http';
import type { Config } from '../config.ts';

export function createNodeServer(listener: RequestListener, limits: Config['http']): Server {
  return createServer(
    {
      headersTimeout: limits.headersTimeoutMs,
      requestTimeout: limits.requestTimeoutMs,
      // Node enforces both timeouts only when it sweeps its connections (every 30 s by default),
      // which would stretch a 10 s limit to 40 s; sweeping a few times per limit keeps it close.
      connectionsCheckingInterval: Math.min(1_000, Math.max(25, Math.floor(limits.headersTimeoutMs / 4))),
    },
    listener,
  );
}
