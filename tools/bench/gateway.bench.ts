/**
 * Gateway overhead: per-request latency through Keywatch's gateway minus direct to the same local
 * upstream, with 50 concurrent keep-alive clients, baseline and gateway measured in the same run
 * (interleaved rounds). The upstream and the gateway run in their own processes (as they would in
 * production) so the client loop does not share their CPU. Every proxied request is recorded.
 *
 * Load models, each reported as gateway-minus-direct p50/p99 and as ratios:
 * - saturated: 50 clients back to back. Latency here is queueing behind CPU (about clients x CPU
 *   per request), so it measures throughput cost, not what a caller sees at normal load.
 * - fixed rate: 50 clients at a fixed total rate (500 and 1,000 req/s), each client sending on its own
 *   schedule (one request in flight per client; a late client catches up); the realistic case.
 * - 1 client: the bare per-request cost.
 * Run: npm run bench gateway (or: npx tsx test/bench/gateway.bench.ts [requestsPerPhase]).
 */
import { type ChildProcess, fork } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';

const CONCURRENCY = 50;
const REQUESTS = Number(process.argv[2] ?? 20_000);
const WARMUP = 2_000;
const MAX_PHASE_MS = 30_000;
const BODY = JSON.stringify({ image_count: 1, orientation: 'square', style: { prompt: 'bench' } });
const TOKENS = Array.from({ length: 20 }, (_, i) => `mhk_live_bench_token_${String(i).padStart(4, '0')}`);

async function runUpstream() {
  let n = 0;
  const server = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      const body = JSON.stringify({ id: `clbench${n++}`, credits_charged: 5, frame_cost: 5 });
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
      res.end(body);
    });
  });
  server.keepAliveTimeout = 60_000;
  let cpuAtStart = process.cpuUsage();
  server.listen(0, '127.0.0.1', () => {
    cpuAtStart = process.cpuUsage();
    process.send!({ port: (server.address() as AddressInfo).port });
  });
  process.on('message', (m: { cmd: string }) => {
    if (m.cmd !== 'stop') return;
    const cpu = process.cpuUsage(cpuAtStart);
    process.send!({ cpuPerRequestUs: (cpu.user + cpu.system) / n }, () => process.exit(0));
  });
}

async function runGateway() {
  const { createApp } = await import('../../server/app.ts');
  const { systemClock } = await import('../../server/clock.ts');
  const { loadConfig } = await import('../../server/config.ts');
  const { openStore } = await import('../../server/db/client.ts');
  const { silentLogger } = await import('../../server/log.ts');
  const { createSourceServices } = await import('../../server/ingest/services.ts');
  const dir = process.env.BENCH_DIR!;
  const config = loadConfig({
    KEYWATCH_DB: join(dir, 'bench.db'),
    KEYWATCH_SECRET: 'bench-secret-bench-secret-bench-secret-0000',
    MAGICHOUR_BASE_URL: process.env.BENCH_UPSTREAM!,
  });
  const store = openStore(config.dbPath);
  const deps = { db: store.db, sqlite: store.sqlite, clock: systemClock, config, log: silentLogger };
  const sources = createSourceServices(deps);
  // Diagnostic: BENCH_NO_RECORD=1 measures the proxy alone, without storing events.
  let proxied = 0;
  const push = sources.gateway.queue.push;
  sources.gateway.queue.push = (item) => {
    proxied++;
    return process.env.BENCH_NO_RECORD === '1' ? true : push(item);
  };
  const { createNodeListener } = await import('../../server/ingest/gateway/listener.ts');
  const server = http.createServer(
    createNodeListener(createApp(deps, sources).fetch, sources.gateway, silentLogger),
  );
  let cpuAtStart = process.cpuUsage();
  let servingAtStart = servingThreadCpuUs();
  server.listen(0, '127.0.0.1', () => {
    // CPU from here on is the gateway's work per request, whatever else the machine is doing.
    cpuAtStart = process.cpuUsage();
    servingAtStart = servingThreadCpuUs();
    process.send!({ port: (server.address() as AddressInfo).port });
  });
  server.keepAliveTimeout = 60_000;
  const { monitorEventLoopDelay } = await import('node:perf_hooks');
  const loop = monitorEventLoopDelay({ resolution: 1 });
  loop.enable();
  process.on('message', async (m: { cmd: string }) => {
    if (m.cmd !== 'stop') return;
    sources.gateway.queue.flush();
    const recorded = (store.sqlite.prepare('SELECT count(*) AS n FROM usage_events').get() as { n: number })
      .n;
    const stats = sources.gateway.queue.stats();
    const cpu = process.cpuUsage(cpuAtStart);
    const cpuPerRequestUs = (cpu.user + cpu.system) / proxied;
    // The serving thread alone (the writer thread's SQLite work is off it).
    const servingPerRequestUs = (servingThreadCpuUs() - servingAtStart) / proxied;
    await sources.stop();
    store.close();
    const delay = { p50: loop.percentile(50) / 1e6, p99: loop.percentile(99) / 1e6, max: loop.max / 1e6 };
    process.send!(
      {
        recorded,
        dropped: stats.dropped,
        delay,
        slowestFlushMs: stats.slowest_flush_ms,
        cpuPerRequestUs,
        servingPerRequestUs,
      },
      () => process.exit(0),
    );
  });
}

/** CPU time of this process's main thread (Linux /proc; NaN elsewhere), in µs. */
function servingThreadCpuUs(): number {
  try {
    const stat = readFileSync(`/proc/self/task/${process.pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // utime and stime (fields 14 and 15) in clock ticks, 100 per second on Linux.
    return (Number(fields[11]) + Number(fields[12])) * 10_000;
  } catch {
    return Number.NaN;
  }
}

function spawn(
  roleName: string,
  env: Record<string, string>,
): Promise<{ child: ChildProcess; port: number }> {
  const child = fork(fileURLToPath(import.meta.url), [], {
    env: { ...process.env, ...env, BENCH_ROLE: roleName },
    execArgv: [
      '--import',
      'tsx',
      ...(process.env.BENCH_PROF === roleName ? ['--cpu-prof', '--cpu-prof-dir=/tmp/kwprof'] : []),
    ],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  return new Promise((resolve, reject) => {
    child.once('message', (m: { port: number }) => resolve({ child, port: m.port }));
    child.once('exit', (code) => reject(new Error(`${roleName} exited with ${code}`)));
  });
}

type Load = {
  clients: number;
  total: number /** Pause between one client's requests; 0 = back to back. */;
  everyMs: number;
};

async function measure(url: string, load: Load): Promise<number[]> {
  const { clients, total, everyMs } = load;
  const agent = new http.Agent({ keepAlive: true, maxSockets: clients });
  const target = new URL(url);
  const latencies: number[] = [];
  let issued = 0;
  const deadline = performance.now() + MAX_PHASE_MS;
  const one = (i: number) =>
    new Promise<void>((resolve, reject) => {
      const t = performance.now();
      const req = http.request(
        {
          agent,
          host: target.hostname,
          port: target.port,
          method: 'POST',
          path: `${target.pathname}/v1/ai-image-generator`.replace('//', '/'),
          headers: {
            authorization: `Bearer ${TOKENS[i % TOKENS.length]}`,
            'content-type': 'application/json',
            'content-length': Buffer.byteLength(BODY),
          },
        },
        (res) => {
          res.resume();
          res.on('end', () => {
            if (res.statusCode !== 200) reject(new Error(`status ${res.statusCode}`));
            latencies.push(performance.now() - t);
            resolve();
          });
        },
      );
      req.on('error', reject);
      req.end(BODY);
    });
  const client = async (c: number) => {
    // Paced clients start spread over one interval, like independent callers.
    let next = performance.now() + (everyMs * c) / clients;
    while (issued < total && performance.now() < deadline) {
      const i = issued++;
      const wait = next - performance.now();
      if (everyMs > 0 && wait > 0) await new Promise((r) => setTimeout(r, wait));
      await one(i);
      next += everyMs;
    }
  };
  await Promise.all(Array.from({ length: clients }, (_, c) => client(c)));
  agent.destroy();
  return latencies;
}

function report(name: string, direct: number[], via: number[]) {
  direct.sort((a, b) => a - b);
  via.sort((a, b) => a - b);
  const row = (label: string, v: number[]) =>
    `  ${label.padEnd(8)} n=${String(v.length).padStart(6)}  p50=${pct(v, 50).toFixed(3)} ms  p99=${pct(v, 99).toFixed(3)} ms`;
  console.log(`\n${name}`);
  console.log(row('direct', direct));
  console.log(row('gateway', via));
  console.log(
    `  added    p50=${(pct(via, 50) - pct(direct, 50)).toFixed(3)} ms  p99=${(pct(via, 99) - pct(direct, 99)).toFixed(3)} ms` +
      `  ratio p50=${(pct(via, 50) / pct(direct, 50)).toFixed(2)}x p99=${(pct(via, 99) / pct(direct, 99)).toFixed(2)}x`,
  );
}

const pct = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;

async function main() {
  const dir = mkdtempSync(join(tmpdir(), 'keywatch-bench-'));
  const upstream = await spawn('upstream', {});
  const upstreamUrl = `http://127.0.0.1:${upstream.port}`;
  const gateway = await spawn('gateway', { BENCH_DIR: dir, BENCH_UPSTREAM: upstreamUrl });
  const gatewayUrl = `http://127.0.0.1:${gateway.port}/gw/magichour`;
  try {
    await measure(upstreamUrl, { clients: CONCURRENCY, total: WARMUP, everyMs: 0 });
    await measure(gatewayUrl, { clients: CONCURRENCY, total: WARMUP, everyMs: 0 });
    const loads: [string, Load][] = [
      [
        `${CONCURRENCY} clients back to back (saturated)`,
        { clients: CONCURRENCY, total: REQUESTS, everyMs: 0 },
      ],
      ...[500, 1_000].map((rate): [string, Load] => [
        `${CONCURRENCY} clients at ${rate.toLocaleString('en')} req/s total (fixed rate)`,
        { clients: CONCURRENCY, total: rate * 6, everyMs: (1000 * CONCURRENCY) / rate },
      ]),
      ['1 client back to back (per-request cost)', { clients: 1, total: 3_000, everyMs: 0 }],
    ];
    console.log(
      'Gateway overhead, POST /v1/ai-image-generator, gateway vs direct to the same local upstream',
    );
    for (const [name, load] of loads) {
      // Interleave two rounds so drift in machine load hits both sides alike.
      const direct: number[] = [];
      const via: number[] = [];
      for (let round = 0; round < 2; round++) {
        direct.push(...(await measure(upstreamUrl, { ...load, total: load.total / 2 })));
        via.push(...(await measure(gatewayUrl, { ...load, total: load.total / 2 })));
      }
      report(name, direct, via);
    }
    const done = await new Promise<{
      recorded: number;
      dropped: number;
      delay: { p50: number; p99: number; max: number };
      slowestFlushMs: number;
      cpuPerRequestUs: number;
      servingPerRequestUs: number;
    }>((resolve) => {
      gateway.child.once('message', resolve);
      gateway.child.send({ cmd: 'stop' });
    });
    console.log(`\ngateway process: recorded ${done.recorded} usage events, ${done.dropped} dropped`);
    const bare = await new Promise<{ cpuPerRequestUs: number }>((resolve) => {
      upstream.child.once('message', resolve);
      upstream.child.send({ cmd: 'stop' });
    });
    // Contention-independent cost: CPU per request, next to a bare node:http server's (the upstream).
    console.log(
      `CPU per request: gateway ${done.cpuPerRequestUs.toFixed(0)} µs (proxy + recording, all threads), ` +
        `bare upstream server ${bare.cpuPerRequestUs.toFixed(0)} µs; ` +
        `gateway serving thread alone ${done.servingPerRequestUs.toFixed(0)} µs`,
    );
    const d = done.delay;
    console.log(
      `gateway event-loop delay: p50=${d.p50.toFixed(2)} ms p99=${d.p99.toFixed(2)} ms max=${d.max.toFixed(2)} ms; slowest batch write (writer thread) ${done.slowestFlushMs.toFixed(2)} ms`,
    );
    await new Promise((r) => setTimeout(r, 2_000).unref() && gateway.child.once('exit', r));
  } finally {
    gateway.child.kill();
    upstream.child.kill();
    rmSync(dir, { recursive: true, force: true });
  }
}

// Dispatch last: the helpers above must be initialised before top-level await runs them.
const role = process.env.BENCH_ROLE;
if (role === 'upstream') await runUpstream();
else if (role === 'gateway') await runGateway();
else await main();
