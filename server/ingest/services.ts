/**
 * The long-lived parts of the usage sources a running app shares between its routes and its
 * shutdown: the gateway (with its recording queue) and the webhook rejection counter.
 */
import { HOUR } from '../clock.ts';
import type { Deps } from '../deps.ts';
import { createHistogram, type Histogram } from '../http/metrics.ts';
import { createGateway, type Gateway, type GatewayOptions } from './gateway/gateway.ts';
import { magicHour } from './providers/magichour.ts';
import { settleThroughWorker } from './push/read-barrier.ts';
import { createPushWorker, type PushWorker } from './push/routes.ts';

export type SourceServices = {
  gateway: Gateway;
  /** The push API's worker thread (validation and the batch's transaction). */
  push: PushWorker;
  /** The read barrier of this thread: pushed usage folded, by the push worker (push/read-barrier.ts). */
  settleUsage(): Promise<void>;
  /** Gateway request durations (seconds), for GET /metrics. */
  gatewayLatency: Histogram;
  webhookRejects: { add(): void; lastHour(): number };
  /** Flushes the gateway queue and closes upstream connections; call after the server stopped. */
  stop(): Promise<void>;
};

export function createSourceServices(deps: Deps, options: { gateway?: GatewayOptions } = {}): SourceServices {
  const gatewayLatency = options.gateway?.latency ?? createHistogram();
  const gateway = createGateway(
    deps,
    { id: magicHour.id, gateway: magicHour.gateway! },
    deps.config.magichour.baseUrl,
    { ...options.gateway, latency: gatewayLatency },
  );
  let rejects: number[] = [];
  const push = createPushWorker(deps);
  return {
    gateway,
    push,
    settleUsage: () => settleThroughWorker(deps, push),
    gatewayLatency,
    webhookRejects: {
      add() {
        const now = deps.clock.now();
        rejects = rejects.filter((t) => t > now - HOUR);
        if (rejects.length < 10_000) rejects.push(now);
      },
      lastHour() {
        const since = deps.clock.now() - HOUR;
        return rejects.filter((t) => t > since).length;
      },
    },
    async stop() {
      await Promise.all([gateway.stop(), push.close()]);
    },
  };
}
