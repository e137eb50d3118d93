/** `keywatch serve`: open the database, seed on first run, serve HTTP, run jobs, stop cleanly. */

import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { type Clock, systemClock } from './clock.ts';
import type { Config } from './config.ts';
import { openStorage, type Storage } from './db/storage.ts';
import type { Deps } from './deps.ts';
import {
  type BatchWriter,
  createThreadWriter,
  discardPrestartedWriterThread,
} from './ingest/gateway/usage-writer.ts';
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
  // The gateway's writer thread loads its code (a few hundred ms) on another core while this one
  // migrates the database and loads the server; it opens its connection once the database is
  // migrated (sources.gateway.queue.ready() below). In-memory databases write inline, no thread.
  const storage = config.storage;
  const writer =
    storage.kind === 'postgres' || storage.path !== ':memory:' ? createThreadWriter(storage) : undefined;
  if (writer) writer.spawn();
  else discardPrestartedWriterThread();
  let opened: Storage | undefined;
  let prepared: Awaited<ReturnType<typeof prepare>>;
  // Asked for first: the server's code loads while a new database's fsync runs (openStorage).
  const servingCode = loadServing();
  // Awaited in prepare; a failed open must not leave it an unhandled rejection meanwhile.
  servingCode.catch(() => {});
  try {
    // Checkpoints run on the writer thread's connection, never in this thread's commits (client.ts).
    // Once migrated, the writer thread opens its connection while this one loads the server's code.
    opened = await openStorage(storage, { checkpoints: false, onMigrated: () => void writer?.ready() });
    prepared = await prepare(opened, servingCode, {
      config,
      clock: options.clock ?? systemClock,
      log,
      writer,
      announce,
    });
  } catch (err) {
    // A writer thread never told to open would hold the process up.
    await writer?.close();
    await opened?.close();
    throw err;
  }
  const { store, deps, serving, sources, writerReady } = prepared;
  const { createDetectionWorker, createNodeServer, createNodeListener, createGatewayListener } = serving;
  const { createApp, startScheduler, createJobs } = serving;

  // For GET /metrics: sampled every 20 ms, read and reset on each scrape.
  const eventLoop = monitorEventLoopDelay({ resolution: 20 });
  eventLoop.enable();
  // Detection (live minutes, catch-up and first replays, late usage) runs on its own thread.
  const detection = createDetectionWorker(deps);
  const app = createApp(deps, sources, { eventLoop, detection });
  const server = createNodeServer(createNodeListener(app.fetch, sources.gateway, log), config.http);
  // Built meanwhile; the listener accepts only once the writer thread is ready (issue 13).
  await writerReady;
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
  const scheduler = startScheduler(createJobs(deps, { detection, settleUsage: sources.settleUsage }), log, {
    isLeader: () => leadership?.isLeader() ?? true,
  });

  announce(`Keywatch is running at ${url}`);
  if (gatewayUrl) announce(`Gateway-only port: ${gatewayUrl}${sources.gateway.prefix}/`);

  let stopping: Promise<void> | undefined;
  const running: Running = {
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
  // The first admin is made once listening: its password's scrypt hash is a tenth of a second of
  // CPU, which on a small machine slowed the start it ran beside, and nobody can sign in with a
  // password not printed yet. After the demo data, which must find no user.
  let adminCreated: Awaited<ReturnType<typeof ensureFirstAdmin>>;
  try {
    adminCreated = await ensureFirstAdmin(deps);
  } catch (err) {
    await running.stop();
    throw err;
  }
  if (adminCreated) {
    announce(`Sign in as ${adminCreated.email} with password: ${adminCreated.password}`);
    announce('(This password is shown only once. Add users with `npx keywatch user add`.)');
  }
  return running;
}

/**
 * Everything before the app: seeding an empty database (with demo data on), the source services
 * that take the writer thread over, and the server's code itself; the first admin is made later.
 */
async function prepare(
  store: Storage,
  servingCode: ReturnType<typeof loadServing>,
  start: {
    config: Config;
    clock: Clock;
    log: Logger;
    writer: BatchWriter | undefined;
    announce: (line: string) => void;
  },
) {
  const { config, clock, log, writer, announce } = start;
  const deps: Deps = { db: store.db, sqlite: store.sqlite, clock, config, log };
  // Demo data goes only into the embedded SQLite file: a PostgreSQL database is shared and real.
  const seeding = config.demo && store.kind === 'sqlite' && (await isEmpty(deps));
  const serving = await servingCode;
  const sources = serving.createSourceServices(deps, { gateway: { queue: { threadWriter: writer } } });
  // The ports open only once the writer thread has its connection (the journal keeps events
  // either way, but a slow start would let them pile up in memory).
  const writerReady = sources.gateway.queue.ready();
  if (seeding) {
    announce(
      'Empty database: seeding 30 days of demo traffic for 8 keys (KEYWATCH_DEMO=0 to start empty)...',
    );
    await seedDemo(deps);
  }
  return {
    deps,
    store,
    serving,
    sources,
    writerReady,
  };
}

/**
 * The server's code (app, pages, gateway, jobs: most of the bundle). Its modules initialise as soon
 * as the caller first waits, which on a first start is a new database's fsync.
 */
async function loadServing() {
  const [app, detectWorker, nodeServer, listener, services, jobs, scheduler] = await Promise.all([
    import('./app.ts'),
    import('./detection/detect-worker.ts'),
    import('./http/node-server.ts'),
    import('./ingest/gateway/listener.ts'),
    import('./ingest/services.ts'),
    import('./jobs/index.ts'),
    import('./jobs/scheduler.ts'),
  ]);
  return { ...app, ...detectWorker, ...nodeServer, ...listener, ...services, ...jobs, ...scheduler };
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
