/** Mounts the gateway: hands the raw Node request to the proxy and tells Hono the answer is sent. */
import type { HttpBindings } from '@hono/node-server';
import { RESPONSE_ALREADY_SENT } from '@hono/node-server/utils/response';
import { Hono } from 'hono';
import { AppError } from '../../errors.ts';
import type { Gateway } from './gateway.ts';

export function gatewayRoutes(gateway: Gateway) {
  return new Hono<{ Bindings: Partial<HttpBindings> }>().all('/*', async (c) => {
    const { incoming, outgoing } = c.env ?? {};
    if (!incoming || !outgoing) {
      throw new AppError(503, 'gateway_unavailable', 'The gateway runs only under the Node HTTP server.');
    }
    // This mount is part of the dashboard's app, so on the dashboard's origin.
    await gateway.handle(incoming, outgoing, 'dashboard');
    return RESPONSE_ALREADY_SENT;
  });
}
