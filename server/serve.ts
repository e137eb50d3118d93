/** `keywatch serve`: open the database, seed on first run, serve HTTP, run jobs, stop cleanly. */

import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { createApp } from './app.ts';
import { type Clock, systemClock } from './clock.ts';
import type { Config } from './config.ts';
import { openStorage } from './db/storage.ts';
import type { Deps } from './deps.ts';
import { createDetectionWorker } from './detection/detect-worker.ts';
import { createNodeServer } from './http/node-server.ts';
import { createGatewayListener, createNodeListener } from './ingest/gateway/listener.ts';
import { createSourceServices } from './ingest/services.ts';
import { createJobs } from './jobs/index.ts';
import { startScheduler } from './jobs/scheduler.ts';
import type { Logger } from './log.ts';
import { ensureFirstAdmin, isEmpty, seedDemo } from './simulate/demo.ts';

export type Running = {
  url: string;
  /** The gateway's own port (KEYWATCH_GATEWAY_PORT), when set: its base URL. */
  gatewayUrl: string | undefined;
  deps: Deps;
  stop(): Promise<void>;
};

export async function startServer(
  config: Config,
  log: Logger,
  options: { clock?: Clock; announce?: (line: string) => void } = {},
): Promise<Running> {
  const announce = options.announce ?? ((line: string) => process.stdout.write(`${line}\n`));
  // Checkpoints run on the writer thread's connection, never in this thread's commits (client.ts).
  const store = await openStorage(config.storage, { checkpoints: false });
  const deps: Deps = { db: store.db, sqlite: store.sqlite, clock: options.clock ?? systemClock, config, log };

  const sources = createSourceServices(deps);
  // The writer thread boots (a second or so) while the demo data is seeded; the ports open only
  // once it has its connection (the journal keeps events either way, but a slow start would let
  // them pile up in memory).
  const writerReady = sources.gateway.queue.ready();

  // Demo data goes only into the embedded SQLite file: a PostgreSQL database is shared and real.
  if (config.demo && store.kind === 'sqlite' && (await isEmpty(deps))) {
    announce(
      'Empty database: seeding 30 days of demo traffic for 8 keys (KEYWATCH_DEMO=0 to start empty)...',
    );
    await seedDemo(deps);
  }
  const admin = await ensureFirstAdmin(deps);

  // For GET /metrics: sampled every 20 ms, read and reset on each scrape.
  const eventLoop = monitorEventLoopDelay({ resolution: 20 });
  eventLoop.enable();
  // Detection (live minutes, catch-up and first replays, late usage) runs on its own thread.
  const detection = createDetectionWorker(deps);
  await writerReady;
  const app = createApp(deps, sources, { eventLoop, detection });
  const server = createNodeServer(createNodeListener(app.fetch, sources.gateway, log), config.http);
  const port = await listen(server, config.port, config.host);
  // With PORT=0 (tests) the OS picks the port, so the configured URL cannot know it.
  const url = config.port === 0 ? `http://127.0.0.1:${port}` : config.publicUrl;
  // The gateway's own port: its own origin, where nothing but the gateway answers.
  const gatewayServer =
    config.gateway.port === undefined
      ? undefined
      : createNodeServer(createGatewayListener(sources.gateway, log), config.http);
  let gatewayUrl: string | undefined;
  if (gatewayServer) {
    try {
      const gatewayPort = await listen(gatewayServer, config.gateway.port!, config.host);
      gatewayUrl = `http://${urlHost(config.host)}:${gatewayPort}`;
    } catch (err) {
      eventLoop.disable();
      await close(server);
      await sources.stop();
      await store.close();
      throw err;
    }
  }
  // Several processes may share a PostgreSQL database: one at a time runs the jobs (jobs/leader.ts).
  // One SQLite file has one server, which always leads.
  const leadership =
    config.storage.kind === 'postgres'
      ? await (await import('./jobs/leader.ts')).startLeadership({ url: config.storage.url, log })
      : undefined;
  const scheduler = startScheduler(createJobs(deps, { detection }), log, {
    isLeader: () => leadership?.isLeader() ?? true,
  });

  announce(`Keywatch is running at ${url}`);
  if (gatewayUrl) announce(`Gateway-only port: ${gatewayUrl}${sources.gateway.prefix}/`);
  if (admin) {
    announce(`Sign in as ${admin.email} with password: ${admin.password}`);
    announce('(This password is shown only once. Add users with `npx keywatch user add`.)');
  }

  let stopping: Promise<void> | undefined;
  return {
    url,
    gatewayUrl,
    deps,
    stop() {
      stopping ??= (async () => {
        await scheduler.stop();
        await leadership?.close();
        await Promise.all([close(server), gatewayServer && close(gatewayServer)]);
        // No request can ask for a run any more: let the one in progress finish and store the states.
        await detection.close();
        // After the server closed: every proxied request has queued its event; write them all.
        await sources.stop();
        eventLoop.disable();
        await store.close();
      })();
      return stopping;
    },
  };
}

/** Resolves with the port listened on (the OS's pick for port 0). */
function listen(server: Server, port: number, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve((server.address() as AddressInfo).port));
  });
}

function close(server: Server): Promise<void> {
  return new Promise((resolve) => server.close(() => resolve()));
}

function urlHost(host: string): string {
  if (host === '0.0.0.0' || host === '::') return 'localhost';
  return host.includes(':') ? `[${host}]` : host;
}
