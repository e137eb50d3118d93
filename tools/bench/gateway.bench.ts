/**
 * Gateway cost against a bare node:http keep-alive pass-through proxy to the same local upstream,
 * measured in the same run (issue 13). Four processes: the upstream, the bare proxy, a real
 * `keywatch serve` as it ships (the compiled build `npm start` runs, with KEYWATCH_GATEWAY_PORT and
 * its scheduler; BENCH_KEYWATCH=sources: startServer from the TypeScript sources through tsx, whose
 * threads other than the serving one cost more than twice the CPU per request) and this load
 * generator. Rounds interleave direct / bare / Keywatch in a rotating order; each number is the
 * median over the rounds.
 *
 * - added latency at 500 req/s from 50 clients (each client on its own schedule, one request in
 *   flight): p50 and p99 of (through the proxy) minus (direct to the upstream); goal ≤ 1.3× bare's.
 * - max throughput: 50 clients back to back, requests per second; goal ≥ 0.8× bare's. Also the
 *   median of each round's own ratio, the steadier figure on a machine whose load drifts.
 * - CPU per request of each proxy process during the throughput phases: all its threads, and its
 *   main thread alone (the one that serves; Linux /proc).
 * - under attack: 300 stalled uploads (Content-Length 100000, one byte sent) held open from
 *   127.0.0.2, and under load: two clients pushing 10,000-event batches back to back plus
 *   backtests one after another; gateway p50 at 500 req/s within 5 ms of idle, no failures. Both
 *   run in every round, each compared with that round's idle p50.
 *
 * After each Keywatch throughput phase the bench waits until Keywatch has stored every answered
 * request's event: the writer's catch-up is Keywatch's CPU (counted in its phase), and must not
 * slow the next side's phase.
 *
 * Run: npm run bench gateway [rounds] (default 5). BENCH_SCENARIOS_ONLY=1 skips the throughput
 * phases, BENCH_SKIP_SCENARIOS=1 the scenarios, BENCH_THROUGHPUT_ONLY=1 everything but the
 * throughput phases. BENCH_BEFORE=<another checkout> also runs that checkout's Keywatch, right after
 * this one in every throughput round, and prints this one's throughput and main-thread CPU against
 * it (before/after at the same moment of a shared machine). BENCH_PROF=keywatch (or bare) writes a CPU profile of that process (every
 * thread) into BENCH_PROF_DIR (default /tmp/kwprof).
 */
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import net from 'node:net';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { createTokenWithCli, spawnRole, startCompiledServe } from './bench-roles.ts';

const CLIENTS = 50;
const RATE = 500;
// Five rounds or more for numbers to report; fewer while developing.
const ROUNDS = Math.max(1, Number(process.argv[2] ?? 5));
/** BENCH_SCENARIOS_ONLY=1 skips the throughput phases (quicker while working on the scenarios). */
const SCENARIOS_ONLY = process.env.BENCH_SCENARIOS_ONLY === '1';
/** BENCH_SKIP_SCENARIOS=1 skips the stalled-upload and push scenarios (quicker while working on the ratios). */
/**
 * BENCH_THROUGHPUT_ONLY=1: the max-throughput phases alone (no fixed-rate latency phases, no
 * scenarios). Implied by BENCH_BEFORE: a second Keywatch process, idle but running its jobs and
 * threads, would skew the latency phases (p50 +1.4 ms, p99 ×3 in one run).
 */
const THROUGHPUT_ONLY = process.env.BENCH_THROUGHPUT_ONLY === '1' || Boolean(process.env.BENCH_BEFORE);
const SKIP_SCENARIOS = process.env.BENCH_SKIP_SCENARIOS === '1' || THROUGHPUT_ONLY;
/**
 * Keywatch runs as it ships, compiled (`node server/keywatch.mjs serve`, built first when stale);
 * BENCH_KEYWATCH=sources runs startServer from the TypeScript sources through tsx instead.
 */
const COMPILED = process.env.BENCH_KEYWATCH !== 'sources';
const FIXED_MS = 3_000;
const SATURATED = 6_000;
const BODY = JSON.stringify({ image_count: 1, orientation: 'square', style: { prompt: 'bench' } });
const TOKENS = Array.from({ length: 20 }, (_, i) => `mhk_live_bench_token_${String(i).padStart(4, '0')}`);

type Cpu = { cpuUs: number; mainUs: number; served: number };

/**
 * A thread's CPU time in µs (Linux: /proc; the main thread's id is its process's). schedstat counts
 * nanoseconds; stat's clock ticks of 10 ms (the fallback) make a phase of a few seconds read ±5%
 * from rounding alone.
 */
function threadCpuUs(pid: number, thread: number | string = pid): number {
  try {
    const run = readFileSync(`/proc/${pid}/task/${thread}/schedstat`, 'utf8').split(' ')[0];
    if (run && /^\d+$/.test(run)) return Number(run) / 1000;
  } catch {}
  try {
    const stat = readFileSync(`/proc/${pid}/task/${thread}/stat`, 'utf8');
    // Fields after the command name (which may hold spaces): utime and stime are the 12th and 13th.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) * 10_000;
  } catch {
    return 0;
  }
}

/** Answers `{cmd: 'cpu'}` with this process's CPU time so far (all threads, and the main one) and the requests it served. */
function reportCpu(served: () => number) {
  process.on('message', (m: { cmd: string }) => {
    if (m.cmd !== 'cpu') return;
    const u = process.cpuUsage();
    process.send!({ cpu: { cpuUs: u.user + u.system, mainUs: threadCpuUs(process.pid), served: served() } });
  });
}

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
  server.listen(0, '127.0.0.1', () => process.send!({ port: (server.address() as AddressInfo).port }));
  reportCpu(() => n);
}

/** The baseline: what any keep-alive pass-through proxy costs, with nothing recorded. */
async function runBareProxy() {
  const upstream = new URL(process.env.BENCH_UPSTREAM!);
  const agent = new http.Agent({ keepAlive: true, maxSockets: 256 });
  let n = 0;
  const server = http.createServer((req, res) => {
    n++;
    const out = http.request(
      {
        host: upstream.hostname,
        port: upstream.port,
        method: req.method,
        path: req.url!.replace(/^\/gw\/magichour/, ''),
        headers: req.headers,
        agent,
      },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    out.on('error', () => res.destroy());
    req.pipe(out);
  });
  server.keepAliveTimeout = 60_000;
  server.listen(0, '127.0.0.1', () => process.send!({ port: (server.address() as AddressInfo).port }));
  reportCpu(() => n);
  // Exits rather than dies when stopped, so BENCH_PROF=bare gets its profile written.
  process.on('SIGTERM', () => process.exit(0));
}

/** CPU time of another process (all its threads: one that ended meanwhile reads 0) and of its main thread, in µs. */
function processCpuUs(pid: number): { cpuUs: number; mainUs: number } {
  let cpuUs = 0;
  for (const thread of readdirSync(`/proc/${pid}/task`)) cpuUs += threadCpuUs(pid, thread);
  return { cpuUs, mainUs: threadCpuUs(pid) };
}

/**
 * Keywatch as it ships: `node server/keywatch.mjs serve` from the compiled build (what `npm start`
 * runs), in a process of its own that this role supervises (tokens made through the CLI first,
 * CPU read from /proc, events counted through a read-only connection).
 */
/** Keywatch's configuration in this bench, whichever way it runs. */
const keywatchEnv = () => ({
  KEYWATCH_DB: join(process.env.BENCH_DIR!, 'bench.db'),
  KEYWATCH_SECRET: 'bench-secret-bench-secret-bench-secret-0000',
  MAGICHOUR_BASE_URL: process.env.BENCH_UPSTREAM!,
  PORT: '0',
  KEYWATCH_GATEWAY_PORT: '0',
  KEYWATCH_LOG_LEVEL: 'silent',
  // No demo month: its seeding and first detection passes would run during the measurement. The
  // backtests replay what the push clients send.
  KEYWATCH_DEMO: '0',
});

async function runCompiledKeywatch() {
  const Database = (await import('better-sqlite3')).default;
  const env = { ...process.env, ...keywatchEnv() };
  const ingest = createTokenWithCli(env, 'bench-ingest', 'ingest');
  const read = createTokenWithCli(env, 'bench-read', 'read');
  const {
    child,
    found: [main, gateway],
  } = await startCompiledServe(env, [/running at (http:\/\/\S+)/, /Gateway-only port: (http:\/\/[^/\s]+)/]);
  const db = new Database(env.KEYWATCH_DB, { readonly: true });
  const count = db.prepare("SELECT count(*) AS n FROM usage_events WHERE source = 'gateway'").pluck();
  process.on('message', (m: { cmd: string }) => {
    if (m.cmd === 'cpu') process.send!({ cpu: { ...processCpuUs(child.pid!), served: 0 } });
    if (m.cmd === 'recorded') process.send!({ recorded: count.get() });
    if (m.cmd !== 'stop') return;
    child.once('exit', () => {
      db.close();
      process.send!({ stopped: true }, () => process.exit(0));
    });
    child.kill('SIGTERM');
  });
  process.send!({ port: new URL(gateway!).port, main: main!, ingest, read });
}

async function runKeywatch() {
  const { startServer } = await import('../../server/serve.ts');
  const { loadConfig } = await import('../../server/config.ts');
  const { silentLogger } = await import('../../server/log.ts');
  const { createApiToken } = await import('../../server/auth/tokens.ts');
  const config = loadConfig(keywatchEnv());
  const running = await startServer(config, silentLogger, { announce: () => {} });
  const deps = running.deps;
  const token = async (scope: 'ingest' | 'read') =>
    (await createApiToken(deps, { name: `bench-${scope}`, scopes: [scope], actor: 'bench' })).token;
  const events = () =>
    (
      deps.sqlite.prepare("SELECT count(*) AS n FROM usage_events WHERE source = 'gateway'").get() as {
        n: number;
      }
    ).n;
  // Requests are counted by the load generator; this process reports its CPU time only.
  reportCpu(() => 0);
  process.on('message', async (m: { cmd: string }) => {
    if (m.cmd === 'recorded') process.send!({ recorded: events() });
    if (m.cmd !== 'stop') return;
    await running.stop();
    process.send!({ stopped: true }, () => process.exit(0));
  });
  process.send!({
    port: new URL(running.gatewayUrl!).port,
    main: running.url,
    ingest: await token('ingest'),
    read: await token('read'),
  });
}

/** A role of this file in a process of its own (bench-roles.ts). */
const spawn = (roleName: string, env: Record<string, string>, script = fileURLToPath(import.meta.url)) =>
  spawnRole(script, roleName, env);

function ask<T>(child: ChildProcess, cmd: string, key: string): Promise<T> {
  return new Promise((resolve) => {
    const on = (m: Record<string, unknown>) => {
      if (!(key in m)) return;
      child.off('message', on);
      resolve(m[key] as T);
    };
    child.on('message', on);
    child.send({ cmd });
  });
}

type Load = { clients: number; total: number; everyMs: number; durationMs?: number };
type Phase = { latencies: number[]; failures: number; ms: number };

/** Requests answered 200 per base URL over the whole run. */
const answered = new Map<string, number>();

async function measure(base: string, load: Load): Promise<Phase> {
  const { clients, total, everyMs } = load;
  const agent = new http.Agent({ keepAlive: true, maxSockets: clients });
  const target = new URL(base);
  const latencies: number[] = [];
  let failures = 0;
  let issued = 0;
  const started = performance.now();
  const deadline = started + (load.durationMs ?? 30_000);
  const one = () =>
    new Promise<void>((resolve) => {
      const i = issued++;
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
            if (res.statusCode === 200) {
              latencies.push(performance.now() - t);
              answered.set(base, (answered.get(base) ?? 0) + 1);
            } else failures++;
            resolve();
          });
          res.on('error', () => {
            failures++;
            resolve();
          });
        },
      );
      req.on('error', () => {
        failures++;
        resolve();
      });
      req.end(BODY);
    });
  const client = async (c: number) => {
    // Paced clients start spread over one interval, like independent callers.
    let next = performance.now() + (everyMs * c) / clients;
    while (issued < total && performance.now() < deadline) {
      const wait = next - performance.now();
      if (everyMs > 0 && wait > 0) await new Promise((r) => setTimeout(r, wait));
      await one();
      next += everyMs;
    }
  };
  await Promise.all(Array.from({ length: clients }, (_, c) => client(c)));
  agent.destroy();
  return { latencies: latencies.sort((a, b) => a - b), failures, ms: performance.now() - started };
}

const pct = (sorted: number[], p: number) =>
  sorted.length === 0
    ? Number.NaN
    : sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};
const fixed: Load = { clients: CLIENTS, total: (RATE * FIXED_MS) / 1000, everyMs: (1000 * CLIENTS) / RATE };
const saturated: Load = { clients: CLIENTS, total: SATURATED, everyMs: 0 };

/** 300 uploads that announce 100 kB and send one byte, from another address, held open. */
async function stallUploads(port: number, count: number): Promise<net.Socket[]> {
  const sockets: net.Socket[] = [];
  for (let i = 0; i < count; i++) {
    const s = net.connect({ host: '127.0.0.1', port, localAddress: '127.0.0.2' });
    s.on('error', () => {});
    s.on('data', () => {});
    s.write(
      `POST /gw/magichour/v1/face-swap HTTP/1.1\r\nhost: x\r\nauthorization: Bearer mhk_live_attacker${i}\r\n` +
        'content-type: application/json\r\ncontent-length: 100000\r\n\r\n{',
    );
    sockets.push(s);
  }
  await new Promise((r) => setTimeout(r, 500));
  return sockets;
}

/** Pushes 10,000-event batches back to back until stopped; resolves with the events accepted. */
function pushLoop(main: string, token: string, stop: { done: boolean }, id: number): Promise<number> {
  let accepted = 0;
  let batch = 0;
  const run = async () => {
    while (!stop.done) {
      const now = Date.now();
      const events = Array.from({ length: 10_000 }, (_, i) => ({
        id: `bench-${process.pid}-${id}-${batch}-${i}`,
        key: `bench-push-${i % 20}`,
        ts: now - (i % 600) * 1000,
        credits: 5,
        operation: 'ai-image-generator',
      }));
      batch++;
      try {
        const res = await fetch(`${main}/api/v1/usage`, {
          method: 'POST',
          headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
          body: JSON.stringify({ events }),
        });
        const text = await res.text();
        if (res.status === 200) accepted += (JSON.parse(text) as { accepted: number }).accepted;
        else console.error(`push answered ${res.status}: ${text.slice(0, 200)}`);
      } catch (err) {
        console.error(
          `push failed: ${(err as Error).message} ${(err as { cause?: Error }).cause?.message ?? ''}`,
        );
      }
    }
    return accepted;
  };
  return run();
}

/** The push clients and the backtests, until told to stop; then reports what they did. */
async function runPusher() {
  const stop = { done: false };
  const main = process.env.BENCH_MAIN!;
  const started = performance.now();
  const pushes = [0, 1].map((id) => pushLoop(main, process.env.BENCH_INGEST!, stop, id));
  const backtests = backtestLoop(main, process.env.BENCH_READ!, stop);
  process.on('message', async (m: { cmd: string }) => {
    if (m.cmd !== 'stop') return;
    stop.done = true;
    const pushed = (await Promise.all(pushes)).reduce((a, b) => a + b, 0);
    const seconds = (performance.now() - started) / 1000;
    const done = `${(pushed / seconds).toFixed(0)} events/s pushed; backtests ${await backtests}`;
    process.send!({ done }, () => process.exit(0));
  });
  process.send!({ port: 0 });
}

/** Backtests one after another until stopped; resolves with how many completed. */
async function backtestLoop(main: string, token: string, stop: { done: boolean }): Promise<string> {
  let ok = 0;
  let other = 0;
  while (!stop.done) {
    try {
      const res = await fetch(`${main}/api/v1/backtest`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ kind: 'credit_spike', days: 30 }),
      });
      await res.arrayBuffer();
      if (res.status === 200) ok++;
      else other++;
    } catch {
      other++;
    }
  }
  return `${ok} done${other ? `, ${other} refused or failed` : ''}`;
}

const ms = (x: number) => `${x.toFixed(2)} ms`;

/** The machine's load average over 1, 5 and 15 minutes (Linux), printed with the results: it is shared. */
const loadAverage = () => {
  try {
    return readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
  } catch {
    return 'unknown';
  }
};

async function main() {
  if (COMPILED) {
    const { buildServer, freshBuild } = await import('../../server/build.mjs');
    if (!freshBuild()) await buildServer();
  }
  const loadAtStart = loadAverage();
  const dir = mkdtempSync(join(tmpdir(), 'keywatch-bench-'));
  const upstream = await spawn('upstream', {});
  const upstreamUrl = `http://127.0.0.1:${upstream.port}`;
  const bare = await spawn('bare', { BENCH_UPSTREAM: upstreamUrl });
  const keywatch = await spawn('keywatch', { BENCH_DIR: dir, BENCH_UPSTREAM: upstreamUrl });
  // BENCH_BEFORE=<another checkout>: that checkout's Keywatch too, measured in the same rounds (its
  // own bench file starts it), for before/after figures that share the machine's moment.
  const beforeTree = process.env.BENCH_BEFORE;
  const beforeDir = beforeTree ? mkdtempSync(join(tmpdir(), 'keywatch-bench-before-')) : null;
  const prior = beforeTree
    ? await spawn(
        'keywatch',
        { BENCH_DIR: beforeDir!, BENCH_UPSTREAM: upstreamUrl },
        join(beforeTree, 'tools/bench/gateway.bench.ts'),
      )
    : null;
  const beforeUrl = prior ? `http://127.0.0.1:${prior.port}/gw/magichour` : '';
  const beforeRps: number[] = [];
  const beforeMain: number[] = [];
  const beforeAll: number[] = [];
  const targets = {
    direct: upstreamUrl,
    bare: `http://127.0.0.1:${bare.port}/gw/magichour`,
    keywatch: `http://127.0.0.1:${keywatch.port}/gw/magichour`,
  };
  // However this process ends, its children end too (a crash must not leave load running).
  process.on('exit', () => {
    for (const p of [keywatch, bare, upstream, prior]) p?.child.kill();
  });
  type Side = keyof typeof targets;
  const sides: Side[] = ['direct', 'bare', 'keywatch'];
  try {
    /** Each round's CPU per request, to compare bare and Keywatch round by round like the throughput. */
    const perRound: Record<'bare' | 'keywatch', { cpuUs: number; mainUs: number }[]> = {
      bare: [],
      keywatch: [],
    };
    /** Waits (at most 20 s) until Keywatch has stored an event for every request it answered. */
    const allRecorded = async (proc = keywatch, url = targets.keywatch) => {
      const deadline = performance.now() + 20_000;
      while (performance.now() < deadline) {
        if ((await ask<number>(proc.child, 'recorded', 'recorded')) >= (answered.get(url) ?? 0)) return;
        await new Promise((r) => setTimeout(r, 100));
      }
    };
    // Warm-up, the same for every side: V8 compiles the hot paths in the first seconds of traffic (a
    // few thousand requests leave Keywatch's optimising compiler threads busy well into round one).
    for (const side of sides) await measure(targets[side], { ...saturated, total: 12_000 });
    await allRecorded();
    if (prior) {
      await measure(beforeUrl, { ...saturated, total: 12_000 });
      await allRecorded(prior, beforeUrl);
    }
    const p50: Record<Side, number[]> = { direct: [], bare: [], keywatch: [] };
    const p99: Record<Side, number[]> = { direct: [], bare: [], keywatch: [] };
    const rps: Record<Side, number[]> = { direct: [], bare: [], keywatch: [] };
    const cpu: Record<'bare' | 'keywatch', Cpu> = {
      bare: { cpuUs: 0, mainUs: 0, served: 0 },
      keywatch: { cpuUs: 0, mainUs: 0, served: 0 },
    };
    let failures = 0;
    type Scenario = { name: string; during: () => Promise<() => Promise<string>> };
    const scenarios: Scenario[] = [
      {
        name: '300 stalled uploads from 127.0.0.2',
        during: async () => {
          const sockets = await stallUploads(keywatch.port, 300);
          return async () => {
            const open = sockets.filter((s) => !s.destroyed).length;
            for (const s of sockets) s.destroy();
            return `${open} of 300 still open at the end`;
          };
        },
      },
      {
        name: '2 × push of 10,000 events + backtests',
        during: async () => {
          // In a process of its own: building 10,000-event bodies here would delay the measuring loop.
          const pusher = await spawn('pusher', {
            BENCH_MAIN: keywatch.info.main!,
            BENCH_INGEST: keywatch.info.ingest!,
            BENCH_READ: keywatch.info.read!,
          });
          await new Promise((r) => setTimeout(r, 500));
          return () => ask<string>(pusher.child, 'stop', 'done');
        },
      },
    ];
    /** Per scenario and round: p50 minus that round's idle p50, p99, failures, what the other work did. */
    const under = scenarios.map(() => ({
      delta: [] as number[],
      p99: [] as number[],
      failures: 0,
      notes: [] as string[],
    }));
    if (SKIP_SCENARIOS) scenarios.length = 0;
    for (let round = 0; round < ROUNDS; round++) {
      // Rotate the order so drift in machine load hits every side alike.
      const order = sides.map((_, i) => sides[(i + round) % sides.length]!);
      for (const side of THROUGHPUT_ONLY ? [] : order) {
        const r = await measure(targets[side], fixed);
        failures += r.failures;
        p50[side].push(pct(r.latencies, 50));
        p99[side].push(pct(r.latencies, 99));
      }
      if (!SCENARIOS_ONLY) {
        for (const side of order) {
          const proc = side === 'bare' ? bare : side === 'keywatch' ? keywatch : null;
          const before = proc ? await ask<Cpu>(proc.child, 'cpu', 'cpu') : null;
          const r = await measure(targets[side], saturated);
          failures += r.failures;
          rps[side].push((r.latencies.length / r.ms) * 1000);
          // Keywatch's writer may still be storing the phase's events: that work is Keywatch's, so its
          // CPU is counted here, and it must not run on into the next side's phase.
          if (side === 'keywatch') await allRecorded();
          if (proc && before) {
            const after = await ask<Cpu>(proc.child, 'cpu', 'cpu');
            const c = cpu[side as 'bare' | 'keywatch'];
            c.cpuUs += after.cpuUs - before.cpuUs;
            c.mainUs += after.mainUs - before.mainUs;
            c.served += r.latencies.length + r.failures;
            perRound[side as 'bare' | 'keywatch'].push({
              cpuUs: (after.cpuUs - before.cpuUs) / (r.latencies.length + r.failures),
              mainUs: (after.mainUs - before.mainUs) / (r.latencies.length + r.failures),
            });
          }
          // The other checkout right after this one, so each pair shares the machine's moment.
          if (side === 'keywatch' && prior) {
            const cpuBefore = await ask<Cpu>(prior.child, 'cpu', 'cpu');
            const b = await measure(beforeUrl, saturated);
            failures += b.failures;
            beforeRps.push((b.latencies.length / b.ms) * 1000);
            await allRecorded(prior, beforeUrl);
            const cpuAfter = await ask<Cpu>(prior.child, 'cpu', 'cpu');
            beforeMain.push((cpuAfter.mainUs - cpuBefore.mainUs) / (b.latencies.length + b.failures));
            beforeAll.push((cpuAfter.cpuUs - cpuBefore.cpuUs) / (b.latencies.length + b.failures));
          }
        }
      }
      // Each scenario against this round's idle p50, so drift in machine load between rounds cancels.
      const idle = p50.keywatch[round]!;
      for (const [i, sc] of scenarios.entries()) {
        const end = await sc.during();
        const r = await measure(targets.keywatch, fixed);
        const note = await end();
        under[i]!.delta.push(pct(r.latencies, 50) - idle);
        under[i]!.p99.push(pct(r.latencies, 99));
        under[i]!.failures += r.failures;
        under[i]!.notes.push(note);
      }
    }
    const added = (side: 'bare' | 'keywatch', xs: Record<Side, number[]>) =>
      median(xs[side].map((v, i) => v - xs.direct[i]!));
    const a50 = { bare: added('bare', p50), keywatch: added('keywatch', p50) };
    const a99 = { bare: added('bare', p99), keywatch: added('keywatch', p99) };
    const tput = { bare: median(rps.bare), keywatch: median(rps.keywatch), direct: median(rps.direct) };
    // Each round's Keywatch figure against the bare proxy's of the same round, a few seconds apart:
    // the machine's load drifts between rounds far more than within one, and both sides see the same.
    const tputRatio = median(rps.keywatch.map((v, i) => v / rps.bare[i]!));
    const cpuPer = {
      bare: cpu.bare.cpuUs / cpu.bare.served,
      keywatch: cpu.keywatch.cpuUs / cpu.keywatch.served,
    };
    const mainPer = {
      bare: cpu.bare.mainUs / cpu.bare.served,
      keywatch: cpu.keywatch.mainUs / cpu.keywatch.served,
    };
    const roundRatio = (k: 'cpuUs' | 'mainUs') =>
      median(perRound.keywatch.map((v, i) => v[k] / perRound.bare[i]![k]));
    const idleP50 = median(p50.keywatch);
    console.log(`Gateway vs a bare node:http keep-alive proxy, same upstream, medians of ${ROUNDS} rounds`);
    console.log('| measure | direct | bare proxy | Keywatch | ratio | goal |');
    console.log('| --- | --- | --- | --- | --- | --- |');
    console.log(
      `| p50 at ${RATE} req/s, ${CLIENTS} clients | ${ms(median(p50.direct))} | +${ms(a50.bare)} | +${ms(a50.keywatch)} | ${(a50.keywatch / a50.bare).toFixed(2)}× | ≤ 1.3× |`,
    );
    console.log(
      `| p99 at ${RATE} req/s, ${CLIENTS} clients | ${ms(median(p99.direct))} | +${ms(a99.bare)} | +${ms(a99.keywatch)} | ${(a99.keywatch / a99.bare).toFixed(2)}× | ≤ 1.3× |`,
    );
    console.log(
      `| max throughput, ${CLIENTS} clients | ${tput.direct.toFixed(0)}/s | ${tput.bare.toFixed(0)}/s | ${tput.keywatch.toFixed(0)}/s | ${(tput.keywatch / tput.bare).toFixed(2)}× | ≥ 0.8× |`,
    );
    console.log(
      `| max throughput, per-round ratios | | | | ${tputRatio.toFixed(2)}× (${rps.keywatch.map((v, i) => (v / rps.bare[i]!).toFixed(2)).join(' ')}) | ≥ 0.8× |`,
    );
    console.log(
      `| CPU per request (all threads) | | ${cpuPer.bare.toFixed(0)} µs | ${cpuPer.keywatch.toFixed(0)} µs | ${(cpuPer.keywatch / cpuPer.bare).toFixed(2)}× | |`,
    );
    console.log(
      `| CPU per request (main thread) | | ${mainPer.bare.toFixed(0)} µs | ${mainPer.keywatch.toFixed(0)} µs | ${(mainPer.keywatch / mainPer.bare).toFixed(2)}× | |`,
    );
    console.log(
      `| CPU per request, per-round ratios (all threads; main thread) | | | | ${roundRatio('cpuUs').toFixed(2)}×; ${roundRatio('mainUs').toFixed(2)}× (${perRound.keywatch.map((v, i) => (v.mainUs / perRound.bare[i]!.mainUs).toFixed(2)).join(' ')}) | |`,
    );
    if (prior && beforeRps.length > 0) {
      const vs = (xs: number[], ys: number[]) => median(xs.map((v, i) => v / ys[i]!)).toFixed(2);
      const mainNow = perRound.keywatch.map((v) => v.mainUs);
      console.log(
        `| Keywatch vs ${beforeTree} (measured right after this one in each round): max throughput; main-thread CPU per request | | | | ${vs(rps.keywatch, beforeRps)}× (that one ${vs(beforeRps, rps.bare)}× bare's); ${vs(mainNow, beforeMain)}× (${median(beforeMain).toFixed(0)} µs there, ${median(mainNow).toFixed(0)} µs here) | |`,
      );
      // All threads but the serving one: the writer thread's batches, the journal's writes, GC helpers.
      const allNow = perRound.keywatch.map((v) => v.cpuUs);
      const otherNow = perRound.keywatch.map((v) => v.cpuUs - v.mainUs);
      const otherBefore = beforeAll.map((v, i) => v - beforeMain[i]!);
      console.log(
        `| Keywatch vs ${beforeTree}: CPU per request, all threads; other threads than the serving one | | | | ${vs(allNow, beforeAll)}× (${median(beforeAll).toFixed(0)} µs there, ${median(allNow).toFixed(0)} µs here); ${vs(otherNow, otherBefore)}× (${median(otherBefore).toFixed(0)} µs there, ${median(otherNow).toFixed(0)} µs here) | |`,
      );
    }
    console.log(`failed requests in these rounds: ${failures}`);
    console.log(
      `load average (1, 5, 15 min): ${loadAtStart} at the start, ${loadAverage()} now, on ${availableParallelism()} CPUs`,
    );

    console.log(
      `\nKeywatch gateway at ${RATE} req/s, ${CLIENTS} clients, medians of ${ROUNDS} rounds, each against its round's idle p50 (goal: within 5 ms, 0 failures)`,
    );
    console.log('| while | p50 | vs idle | p99 | failures | other work (last round) |');
    console.log('| --- | --- | --- | --- | --- | --- |');
    console.log(`| idle | ${ms(idleP50)} | | ${ms(median(p99.keywatch))} | 0 | |`);
    for (const [i, sc] of scenarios.entries()) {
      const u = under[i]!;
      const d = median(u.delta);
      console.log(
        `| ${sc.name} | ${ms(idleP50 + d)} | ${d >= 0 ? '+' : ''}${ms(d)} | ${ms(median(u.p99))} | ${u.failures} | ${u.notes.at(-1)} |`,
      );
    }
    // The writer stores in batches every 250 ms; give it a moment before counting.
    await new Promise((r) => setTimeout(r, 1_000));
    const rec = await ask<number>(keywatch.child, 'recorded', 'recorded');
    console.log(
      `\nKeywatch recorded ${rec} gateway events for ${answered.get(targets.keywatch)} answered requests.`,
    );
    if (prior) await ask(prior.child, 'stop', 'stopped');
    await ask(keywatch.child, 'stop', 'stopped');
    // Let it exit by itself (a CPU profile is written at exit).
    await new Promise((r) => keywatch.child.once('exit', r));
  } finally {
    for (const p of [keywatch, bare, upstream, prior]) p?.child.kill();
    rmSync(dir, { recursive: true, force: true });
    if (beforeDir) rmSync(beforeDir, { recursive: true, force: true });
  }
}

/**
 * The fixed load for another bench (gateway-probe.ts): each `{cmd: 'measure', ms}` runs RATE req/s
 * from CLIENTS clients against BENCH_TARGET for `ms` and answers its p50, p99 and failures.
 */
async function runLoad() {
  const base = process.env.BENCH_TARGET!;
  process.on('message', async (m: { cmd: string; ms?: number }) => {
    if (m.cmd !== 'measure') return;
    const r = await measure(base, { ...fixed, total: Number.MAX_SAFE_INTEGER, durationMs: m.ms });
    const measured = { p50: pct(r.latencies, 50), p99: pct(r.latencies, 99), failures: r.failures };
    process.send!({ measured: { ...measured, answered: r.latencies.length } });
  });
  process.send!({ port: 0 });
}

// Dispatch last: the helpers above must be initialised before top-level await runs them.
const role = process.env.BENCH_ROLE;
if (role === 'upstream') await runUpstream();
else if (role === 'bare') await runBareProxy();
else if (role === 'keywatch') await (COMPILED ? runCompiledKeywatch() : runKeywatch());
else if (role === 'pusher') await runPusher();
else if (role === 'load') await runLoad();
else await main();
