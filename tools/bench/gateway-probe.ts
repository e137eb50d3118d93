/**
 * A Keywatch gateway on the calling thread, as serve runs it (createGateway, the gateway port's
 * listener, its writer thread and journal), proxying to a local upstream, with gateway.bench.ts's
 * fixed load (500 req/s from 50 clients) driven from a child process: so a bench can ask what the
 * gateway's latency is while other work runs in the same process (detect.bench.ts: a first replay).
 */
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import type { Deps } from '../../server/deps.ts';
import { createNodeServer } from '../../server/http/node-server.ts';
import { createGateway } from '../../server/ingest/gateway/gateway.ts';
import { createGatewayListener } from '../../server/ingest/gateway/listener.ts';
import { magicHour } from '../../server/ingest/providers/magichour.ts';
import { spawnRole } from './bench-roles.ts';

export type ProbeResult = { p50: number; p99: number; failures: number; answered: number };

const BENCH = fileURLToPath(new URL('./gateway.bench.ts', import.meta.url));

export async function startGatewayProbe(deps: Deps) {
  const upstream = await spawnRole(BENCH, 'upstream');
  const gateway = createGateway(
    deps,
    { id: magicHour.id, gateway: magicHour.gateway! },
    `http://127.0.0.1:${upstream.port}`,
  );
  await gateway.queue.ready();
  const server = createNodeServer(createGatewayListener(gateway, deps.log), deps.config.http);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/gw/magichour`;
  const load = await spawnRole(BENCH, 'load', { BENCH_TARGET: base });
  return {
    /** The fixed load for `ms`; resolves with its latencies (ms). */
    measure(ms: number): Promise<ProbeResult> {
      return new Promise((resolve) => {
        const on = (m: { measured?: ProbeResult }) => {
          if (!m.measured) return;
          load.child.off('message', on);
          resolve(m.measured);
        };
        load.child.on('message', on);
        load.child.send({ cmd: 'measure', ms });
      });
    },
    async stop() {
      load.child.kill();
      upstream.child.kill();
      await new Promise((r) => server.close(r));
      await gateway.stop();
    },
  };
}
