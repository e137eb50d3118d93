/**
 * The Node request listeners. On the main port gateway traffic goes straight to the proxy and
 * everything else to Hono: skipping Hono's request wrapping and routing on the hot path saves a
 * measurable share of the gateway's added latency (see tools/bench/gateway.bench.ts); the Hono mount
 * stays for other servers. On the gateway's own port (KEYWATCH_GATEWAY_PORT) only the gateway
 * answers: no dashboard, no API, no cookies, so that origin holds nothing worth stealing.
 */
import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import { getRequestListener } from '@hono/node-server';
import { logNodeRequest } from '../../http/access-log.ts';
import type { Logger } from '../../log.ts';
import { sendError } from './answer.ts';
import type { Gateway } from './gateway.ts';
import type { Origin } from './headers.ts';
import { gatewayPath } from './target.ts';

type FetchCallback = Parameters<typeof getRequestListener>[0];

/** The main port: the dashboard's origin. */
export function createNodeListener(fetch: FetchCallback, gateway: Gateway, log: Logger): RequestListener {
  const hono = getRequestListener(fetch);
  return (req, res) => {
    if (gatewayPath(req.url ?? '', gateway.prefix) === null) {
      void hono(req, res);
      return;
    }
    logNodeRequest(log, req, res, { route: `${gateway.prefix}/*`, listener: 'main' });
    proxy(gateway, req, res, 'dashboard', log);
  };
}

/** The gateway's own port: the gateway's targets, and 404 for anything else. */
export function createGatewayListener(gateway: Gateway, log: Logger): RequestListener {
  return (req, res) => {
    if (gatewayPath(req.url ?? '', gateway.prefix) === null) {
      // The path without its query (which may carry a token), like the main port's unmatched routes.
      logNodeRequest(log, req, res, { route: (req.url ?? '/').split('?', 1)[0]!, listener: 'gateway' });
      sendError(res, 404, 'not_found', `This port serves only the gateway, at ${gateway.prefix}/.`);
      return;
    }
    logNodeRequest(log, req, res, { route: `${gateway.prefix}/*`, listener: 'gateway' });
    proxy(gateway, req, res, 'gateway', log);
  };
}

/** Through serve(), not handle(): no promise per request on the path every proxied request takes. */
function proxy(gateway: Gateway, req: IncomingMessage, res: ServerResponse, origin: Origin, log: Logger) {
  try {
    gateway.serve(req, res, origin);
  } catch (err) {
    log.error('gateway failed', { error: String((err as Error)?.stack ?? err) });
    sendError(res, 500, 'internal', 'The gateway failed; the error was logged.');
  }
}
