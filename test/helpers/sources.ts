/** Runs the real app on 127.0.0.1 (the gateway needs a Node HTTP server) with its source services. */

import type { AddressInfo } from 'node:net';
import { createApp } from '../../server/app.ts';
import { dialectOf } from '../../server/db/transaction.ts';
import type { Deps } from '../../server/deps.ts';
import { createNodeServer } from '../../server/http/node-server.ts';
import type { GatewayOptions } from '../../server/ingest/gateway/gateway.ts';
import { createNodeListener } from '../../server/ingest/gateway/listener.ts';
import { createSourceServices, type SourceServices } from '../../server/ingest/services.ts';

export type RunningApp = {
  url: string;
  sources: SourceServices;
  flush(): Promise<void>;
  close(): Promise<void>;
};

export async function startApp(deps: Deps, gateway: GatewayOptions = {}): Promise<RunningApp> {
  const sources = createSourceServices(deps, { gateway });
  const app = createApp(deps, sources);
  const server = createNodeServer(createNodeListener(app.fetch, sources.gateway, deps.log), deps.config.http);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    sources,
    /** Lets pending I/O callbacks queue their events, then writes the queue now. */
    async flush() {
      await new Promise((r) => setImmediate(r));
      const queue = sources.gateway.queue;
      if (dialectOf(deps.db) === 'sqlite') {
        queue.flush();
        return;
      }
      // PostgreSQL is written only by the writer thread: wait until it has stored what is queued.
      for (const end = Date.now() + 10_000; queue.stats().size > 0; ) {
        if (Date.now() > end) throw new Error('the gateway writer did not store its queue within 10 s');
        await new Promise((r) => setTimeout(r, 10));
      }
    },
    async close() {
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
      await sources.stop();
    },
  };
}

export const rows = <T>(deps: Deps, sql: string, ...params: unknown[]) =>
  deps.sqlite.prepare(sql).all(...params) as T[];
