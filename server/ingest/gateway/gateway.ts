/**
 * The metering gateway: `/gw/magichour/*` is forwarded to the provider unchanged (its answers are
 * made inert on the dashboard's origin, see headers.ts), and each request becomes a usage event
 * (key fingerprint, operation, status, credits, project, latency, client IP, user agent, the web
 * origin of an Origin/Referer header) queued
 * for storage. The bearer token is only ever hashed, never kept. One client address has at most
 * KEYWATCH_GATEWAY_MAX_PER_CLIENT requests in flight; past that it gets 429.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import { lastFour, randomId } from '../../auth/secrets.ts';
import type { Deps } from '../../deps.ts';
import { createClientIpResolver } from '../../http/client-ip.ts';
import type { Histogram } from '../../http/metrics.ts';
import { finalCreditsFor } from '../../usage/projects.ts';
import { clientOriginOf } from '../client-origin.ts';
import type { GatewayAdapter, ResponseKind } from '../providers/types.ts';
import { CLOSE, sendError } from './answer.ts';
import { clientOf, createClientSlots } from './client-slots.ts';
import { createFingerprintCache } from './fingerprint-cache.ts';
import { createUpstream, type ForwardResult, forward, isClientFailure } from './forward.ts';
import type { Origin } from './headers.ts';
import { gatewayPath } from './target.ts';
import { createUsageQueue, type QueuedUsage, type QueueOptions, type UsageQueue } from './usage-queue.ts';

/** Create and project answers are small JSON; anything larger is not read. */
const COPY_LIMIT = 256 * 1024;
const BEARER = /^Bearer\s+(\S+)\s*$/i;

export type GatewayOptions = {
  timeoutMs?: number;
  queue?: QueueOptions;
  /** Records each forwarded request's duration in seconds, once the upstream's answer was passed on. */
  latency?: Histogram;
};

export type Gateway = {
  prefix: string;
  queue: UsageQueue;
  /**
   * Proxies one request; resolves when the answer has been sent and the event queued. `origin`:
   * served on the dashboard's origin (main PORT) or on the gateway's own port.
   */
  handle(incoming: IncomingMessage, outgoing: ServerResponse, origin: Origin): Promise<void>;
  /**
   * handle() without its promise, for the Node listeners' hot path: `finished` (if given) is called
   * once the answer has been sent and the event queued. Throws only what a bug would throw.
   */
  serve(incoming: IncomingMessage, outgoing: ServerResponse, origin: Origin, finished?: () => void): void;
  /** Writes the queued events and closes upstream connections and the writer thread. */
  stop(): Promise<void>;
};

export function createGateway(
  deps: Deps,
  provider: { id: string; gateway: GatewayAdapter },
  baseUrl: string,
  options: GatewayOptions = {},
): Gateway {
  const prefix = `/gw/${provider.id}`;
  const limits = deps.config.gateway;
  const upstream = createUpstream(baseUrl, options.timeoutMs ?? 120_000, limits.upstreamSockets);
  const slots = createClientSlots(limits.maxPerClient);
  const queue = createUsageQueue(deps, options.queue);
  const clientIp = createClientIpResolver(deps.config.trustedProxies);
  const adapter = provider.gateway;
  const fingerprint = createFingerprintCache(deps.config.secret);
  // Event ids: a random id per gateway instance plus a counter (cheaper than random bytes per request).
  const instance = randomId('gw_');
  let sequence = 0;

  /** The usage event of one answered request; null without a bearer token (nothing to attribute). */
  function usageOf(
    incoming: IncomingMessage,
    result: ForwardResult,
    at: { ts: number; started: number; sourceIp: string | null; path: string; kind: ResponseKind },
  ): QueuedUsage | null {
    const token = BEARER.exec(incoming.headers.authorization ?? '')?.[1];
    // Without a key there is nothing to attribute; the provider answers 401 and that is all.
    if (!token) return null;
    const { kind, path } = at;
    const facts = kind && result.body && result.status < 300 ? readJson(result.body, kind, adapter) : null;
    const item: QueuedUsage = {
      event: {
        source: 'gateway',
        eventId: `${instance}.${(sequence++).toString(36)}`,
        key: {
          by: 'fingerprint',
          fingerprint: fingerprint(token),
          last4: lastFour(token),
        },
        ts: at.ts,
        credits: kind === 'create' ? (facts?.credits ?? 0) : 0,
        requests: 1,
        status: result.status,
        operation: adapter.operationFromPath(path),
        sourceIp: at.sourceIp,
        userAgent: header(incoming, 'user-agent')?.slice(0, 500) ?? null,
        // Origin only: a Referer's path or query can hold secrets (see client-origin.ts).
        clientOrigin: clientOriginOf(header(incoming, 'origin'), header(incoming, 'referer')),
        projectId: kind === 'create' ? (facts?.projectId ?? null) : null,
        latencyMs: Math.round((performance.now() - at.started) * 1000) / 1000,
      },
    };
    if (kind === 'project' && facts?.projectId) {
      const finalCredits = finalCreditsFor(facts.status, facts.credits);
      if (finalCredits !== null)
        item.project = { projectId: facts.projectId, finalCredits, status: facts.status };
    }
    if (deps.log.enabled?.('debug') === false) return item;
    const key = item.event.key.by === 'fingerprint' ? item.event.key : null;
    deps.log.debug('gateway request', {
      method: incoming.method,
      operation: item.event.operation,
      status: result.status,
      // A short key has no last 4 to show; a prefix of its fingerprint still tells keys apart.
      key: key?.last4 ? `…${key.last4}` : key?.fingerprint.slice(0, 15),
      ...(result.error && { error: result.error.code }),
    });
    return item;
  }

  // Without trusted proxies a request's client is its connection's peer: worked out once per
  // connection (keep-alive clients send many requests on one), not parsed again for each request.
  const perConnection = deps.config.trustedProxies.length === 0;
  const peers = new WeakMap<Socket, Peer>();
  const peerOf = (incoming: IncomingMessage): Peer => {
    const socket = incoming.socket;
    if (!perConnection) return peer(clientIp(socket.remoteAddress, header(incoming, 'x-forwarded-for')));
    let p = peers.get(socket);
    if (p === undefined) {
      p = peer(clientIp(socket.remoteAddress, undefined));
      peers.set(socket, p);
    }
    return p;
  };

  function serve(incoming: IncomingMessage, outgoing: ServerResponse, origin: Origin, finished?: () => void) {
    // Answers held for the journal go out before this request's work delays them (usage-queue.ts).
    queue.release();
    const ts = deps.clock.now();
    const started = performance.now();
    const { sourceIp, client } = peerOf(incoming);
    if (!slots.take(client)) {
      // Not metered: the provider never saw it. Debug only, so a flood cannot flood the log too.
      deps.log.debug('gateway client over its in-flight limit', { client, limit: limits.maxPerClient });
      sendError(
        outgoing,
        429,
        'rate_limited',
        `This client has ${limits.maxPerClient} gateway requests in flight already; retry once some finish.`,
        { 'retry-after': '1', ...CLOSE },
      );
      finished?.();
      return;
    }
    // The listener and the Hono mount only hand over the gateway's own targets.
    const pathAndQuery = gatewayPath(incoming.url ?? '/', prefix) ?? '/';
    const query = pathAndQuery.indexOf('?');
    const path = query < 0 ? pathAndQuery : pathAndQuery.slice(0, query);
    const kind = adapter.responseKind(incoming.method ?? 'GET', path);
    try {
      forward(
        incoming,
        outgoing,
        upstream,
        pathAndQuery,
        {
          copyLimit: kind ? COPY_LIMIT : 0,
          origin,
          bodyIdleMs: limits.bodyIdleMs,
          // Runs before the client's answer ends, which waits for the journal's write (see forward.ts).
          record: (r) => {
            // The upstream never got the whole request (client gone mid-upload, body stalled): no charge, no event.
            if (isClientFailure(r)) return;
            const item = usageOf(incoming, r, { ts, started, sourceIp, path, kind });
            if (item && !queue.push(item))
              deps.log.warn('gateway queue full: usage event dropped', { size: queue.stats().size });
          },
          recorded: queue.journaled,
        },
        (result) => {
          slots.give(client);
          if (!isClientFailure(result)) options.latency?.observe((performance.now() - started) / 1000);
          finished?.();
        },
      );
    } catch (err) {
      slots.give(client);
      throw err;
    }
  }

  return {
    prefix,
    queue,
    serve,
    handle: (incoming, outgoing, origin) =>
      new Promise<void>((resolve) => serve(incoming, outgoing, origin, resolve)),
    async stop() {
      upstream.agent.destroy();
      await queue.stop();
    },
  };
}

/** Where a request comes from: its client's address, and whose in-flight slots it uses. */
type Peer = { sourceIp: string | null; client: string };
const peer = (sourceIp: string | null): Peer => ({ sourceIp, client: clientOf(sourceIp) });

function header(incoming: IncomingMessage, name: string): string | undefined {
  const v = incoming.headers[name];
  return Array.isArray(v) ? v.join(', ') : v;
}

function readJson(body: Buffer, kind: 'create' | 'project', adapter: GatewayAdapter) {
  try {
    return adapter.readFacts(kind, JSON.parse(body.toString('utf8')));
  } catch {
    return null;
  }
}
