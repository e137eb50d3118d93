/**
 * The Node request listener: gateway traffic goes straight to the proxy, everything else to Hono.
 * Skipping Hono's request wrapping and routing on the hot path saves a measurable share of the
 * gateway's added latency (see test/bench/gateway.bench.ts); the Hono mount stays for other servers.
 */
import type { RequestListener } from 'node:http';
import { getRequestListener } from '@hono/node-server';
import type { Logger } from '../../log.ts';
import type { Gateway } from './gateway.ts';
import { gatewayPath } from './target.ts';

type FetchCallback = Parameters<typeof getRequestListener>[0];

export function createNodeListener(fetch: FetchCallback, gateway: Gateway, log: Logger): RequestListener {
  const hono = getRequestListener(fetch);
  return (req, res) => {
    if (gatewayPath(req.url ?? '', gateway.prefix) === null) {
      void hono(req, res);
      return;
    }
    // The main port is the dashboard's origin.
    gateway.handle(req, res, 'dashboard').catch((err: unknown) => {
      log.error('gateway failed', { error: String((err as Error)?.stack ?? err) });
      if (!res.headersSent) {
        res.writeHead(500, { 'content-type': 'application/json' });
        res.end(
          JSON.stringify({
            error: { code: 'internal', message: 'The gateway failed; the error was logged.' },
          }),
        );
      } else res.destroy();
    });
  };
}
