/** `keywatch serve`: open the database, seed on first run, serve HTTP, run jobs, stop cleanly. */

import type { AddressInfo } from 'node:net';
import { createApp } from './app.ts';
import { type Clock, systemClock } from './clock.ts';
import type { Config } from './config.ts';
import { openStore } from './db/client.ts';
import type { Deps } from './deps.ts';
import { createNodeServer } from './http/node-server.ts';
import { createNodeListener } from './ingest/gateway/listener.ts';
import { createSourceServices } from './ingest/services.ts';
import { createJobs } from './jobs/index.ts';
import { startScheduler } from './jobs/scheduler.ts';
import type { Logger } from './log.ts';
import { ensureFirstAdmin, isEmpty, seedDemo } from './simulate/demo.ts';

export type Running = { url: string; deps: Deps; stop(): Promise<void> };

export async function startServer(
  config: Config,
  log: Logger,
  options: { clock?: Clock; announce?: (line: string) => void } = {},
): Promise<Running> {
  const announce = options.announce ?? ((line: string) => process.stdout.write(`${line}\n`));
  const store = openStore(config.dbPath);
  const deps: Deps = { db: store.db, sqlite: store.sqlite, clock: options.clock ?? systemClock, config, log };

  if (config.demo && isEmpty(deps)) {
    announce(
      'Empty database: seeding 30 days of demo traffic for 8 keys (KEYWATCH_DEMO=0 to start empty)...',
    );
    seedDemo(deps);
  }
  const admin = await ensureFirstAdmin(deps);

  const sources = createSourceServices(deps);
  const app = createApp(deps, sources);
  const server = createNodeServer(createNodeListener(app.fetch, sources.gateway, log), config.http);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.port, config.host, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  // With PORT=0 (tests) the OS picks the port, so the configured URL cannot know it.
  const url = config.port === 0 ? `http://127.0.0.1:${port}` : config.publicUrl;
  const scheduler = startScheduler(createJobs(deps), log);

  announce(`Keywatch is running at ${url}`);
  if (admin) {
    announce(`Sign in as ${admin.email} with password: ${admin.password}`);
    announce('(This password is shown only once. Add users with `npx keywatch user add`.)');
  }

  let stopping: Promise<void> | undefined;
  return {
    url,
    deps,
    stop() {
      stopping ??= (async () => {
        await scheduler.stop();
        await new Promise<void>((resolve) => server.close(() => resolve()));
        // After the server closed: every proxied request has queued its event; write them all.
        await sources.stop();
        store.close();
      })();
      return stopping;
    },
  };
}
