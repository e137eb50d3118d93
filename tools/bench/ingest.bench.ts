/**
 * Push ingest over real HTTP on 127.0.0.1, against the bare ceiling measured in the same run: a
 * Hono + better-sqlite3 server that inserts each event into one table with a unique id and upserts
 * one minute bucket, one transaction per batch (no validation, no keys, no rollups). Keywatch's
 * POST /api/v1/usage keeps everything: auth, zod validation, atomic batches, idempotency, key
 * resolution, raw events and three resolutions of buckets with their totals, key networks.
 *
 *   npm run bench ingest                     # batches of 100 and of 5,000
 *   npm run bench ingest -- --events 50000   # a quicker run
 *   BENCH_PROF=keywatch npm run bench ingest # also a CPU profile of Keywatch's server (every thread)
 *
 * Each server runs in its own child process; one client posts batches back to back, after one
 * untimed batch that warms each server up.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { createTokenWithCli, spawnRole, startCompiledServe } from './bench-roles.ts';

const { values: args } = parseArgs({
  options: { events: { type: 'string', default: '200000' } },
  strict: false,
});
const EVENTS = Number(args.events);
const BATCHES = [100, 5_000];
const SECRET = 'bench-secret-bench-secret-bench-secret-0000';
// A week of traffic ending a day ago: recent to the real clock, which Keywatch as it ships runs on.
const START = Math.floor(Date.now() / 3_600_000) * 3_600_000 - 8 * 86_400_000;
/**
 * Keywatch runs as it ships, compiled (`node server/keywatch.mjs serve`, built first when stale);
 * BENCH_KEYWATCH=sources runs its app from the TypeScript sources through tsx in the role's process.
 */
const COMPILED = process.env.BENCH_KEYWATCH !== 'sources';
const KEYS = 200;
const OPERATIONS = ['face-swap', 'ai-image-generator', 'text-to-video'];

/** Push-format events: 200 keys, a week of traffic, a handful of client networks. */
function makeBatch(from: number, n: number, spanMs: number, prefix = 'e') {
  return Array.from({ length: n }, (_, j) => {
    const i = from + j;
    return {
      id: `${prefix}${i}`,
      key: `key-${i % KEYS}`,
      ts: new Date(START + Math.floor((i / EVENTS) * spanMs)).toISOString(),
      credits: [5, 24, 120][i % 3],
      requests: 1,
      status: i % 50 === 0 ? 429 : 200,
      operation: OPERATIONS[i % OPERATIONS.length],
      source_ip: `203.0.${113 + (i % 4)}.${i % 200}`,
      user_agent: 'magic-hour-node/0.43.1',
    };
  });
}

async function runBare() {
  const { Hono } = await import('hono');
  const { serve } = await import('@hono/node-server');
  const { openStore } = await import('../../server/db/client.ts');
  const dir = process.env.BENCH_DIR!;
  const store = openStore(join(dir, 'bare.db'), { migrate: false });
  store.sqlite.exec(`CREATE TABLE events (id TEXT PRIMARY KEY, key TEXT, ts INTEGER, credits REAL);
    CREATE TABLE minute (key TEXT, bucket INTEGER, credits REAL, requests INTEGER, PRIMARY KEY (key, bucket)) WITHOUT ROWID;`);
  const insert = store.sqlite.prepare('INSERT INTO events VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING');
  const upsert = store.sqlite.prepare(
    `INSERT INTO minute VALUES (?, ?, ?, 1) ON CONFLICT (key, bucket) DO UPDATE SET
       credits = credits + excluded.credits, requests = requests + 1`,
  );
  type E = { id: string; key: string; ts: string; credits: number };
  const write = store.sqlite.transaction((events: E[]) => {
    let accepted = 0;
    for (const e of events) {
      const ts = Date.parse(e.ts);
      if (insert.run(e.id, e.key, ts, e.credits).changes === 0) continue;
      accepted++;
      upsert.run(e.key, Math.floor(ts / 60_000) * 60_000, e.credits);
    }
    return accepted;
  });
  const app = new Hono().post('/api/v1/usage', async (c) => {
    const body = (await c.req.json()) as { events: E[] };
    const accepted = write(body.events);
    return c.json({ accepted, duplicates: body.events.length - accepted });
  });
  const server = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }, (info: AddressInfo) =>
    process.send!({ port: info.port }),
  );
  process.on('message', () => {
    server.close();
    store.close();
    process.exit(0);
  });
}

/** Keywatch's configuration in this bench, whichever way it runs. */
const keywatchEnv = () => ({
  KEYWATCH_DB: join(process.env.BENCH_DIR!, 'keywatch.db'),
  KEYWATCH_SECRET: SECRET,
  KEYWATCH_LOG_LEVEL: 'silent',
});

async function runKeywatch() {
  const { serve } = await import('@hono/node-server');
  const { createApp } = await import('../../server/app.ts');
  const { createApiToken } = await import('../../server/auth/tokens.ts');
  const { fakeClock } = await import('../../server/clock.ts');
  const { loadConfig } = await import('../../server/config.ts');
  const { openStore } = await import('../../server/db/client.ts');
  const { silentLogger } = await import('../../server/log.ts');
  const config = loadConfig(keywatchEnv());
  const store = openStore(config.dbPath);
  const deps = {
    db: store.db,
    sqlite: store.sqlite,
    clock: fakeClock(START + 8 * 86_400_000),
    config,
    log: silentLogger,
  };
  const { token } = await createApiToken(deps, { name: 'bench', scopes: ['ingest'], actor: 'bench' });
  const app = createApp(deps);
  const server = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }, (info: AddressInfo) =>
    process.send!({ port: info.port, token }),
  );
  process.on('message', () => {
    server.close();
    store.close();
    process.exit(0);
  });
}

/**
 * Keywatch as it ships: `node server/keywatch.mjs serve` from the compiled build, in a process of
 * its own that this role supervises (the token made through the CLI first). Reports the server's
 * pid, whose CPU the run counts.
 */
async function runCompiledKeywatch() {
  const env = { ...process.env, ...keywatchEnv(), KEYWATCH_DEMO: '0', PORT: '0' };
  const token = createTokenWithCli(env, 'bench', 'ingest');
  const {
    child,
    found: [url],
  } = await startCompiledServe(env, [/running at (http:\/\/\S+)/]);
  const port = new URL(url!).port;
  process.on('message', () => {
    child.once('exit', () => process.exit(0));
    child.kill('SIGTERM');
  });
  process.send!({ port, token, pid: String(child.pid) });
}

/** A server role of this file in its own process, on the run's database folder (bench-roles.ts). */
const spawn = (role: string, dir: string) =>
  spawnRole(fileURLToPath(import.meta.url), role, { BENCH_DIR: dir });

/**
 * CPU seconds the server's process has used, all threads (Linux's /proc; NaN elsewhere). On a
 * shared machine the rate follows the other tenants' load (and Keywatch's push worker runs at nice
 * 19, so it yields to all of them); the CPU spent per event does not.
 */
function cpuSeconds(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // utime and stime, fields 14 and 15 (11 and 12 after the command), in clock ticks (100 a second).
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return Number.NaN;
  }
}

/** Posts every event once in batches of `size`: events per second, and the server's CPU µs per event. */
async function post(
  pid: number,
  port: number,
  token: string | undefined,
  size: number,
): Promise<{ rate: number; cpu: number }> {
  const bodies: string[] = [];
  for (let i = 0; i < EVENTS; i += size)
    bodies.push(JSON.stringify({ events: makeBatch(i, size, 7 * 86_400_000) }));
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (token) headers.authorization = `Bearer ${token}`;
  // One untimed batch first (other ids, the same keys): each server starts its threads, compiles
  // its statements and warms its JIT, as a long-running one has; Keywatch's push worker starts on
  // its first push.
  const warm = JSON.stringify({ events: makeBatch(0, size, 7 * 86_400_000, 'warm') });
  const res = await fetch(`http://127.0.0.1:${port}/api/v1/usage`, { method: 'POST', headers, body: warm });
  if (res.status !== 200) throw new Error(`warm-up status ${res.status}: ${await res.text()}`);
  const started = performance.now();
  const cpuBefore = cpuSeconds(pid);
  let accepted = 0;
  for (const body of bodies) {
    const res = await fetch(`http://127.0.0.1:${port}/api/v1/usage`, { method: 'POST', headers, body });
    if (res.status !== 200) throw new Error(`status ${res.status}: ${await res.text()}`);
    accepted += ((await res.json()) as { accepted: number }).accepted;
  }
  const seconds = (performance.now() - started) / 1000;
  const events = bodies.length * size;
  if (accepted !== events) throw new Error(`accepted ${accepted} of ${events}`);
  return { rate: events / seconds, cpu: ((cpuSeconds(pid) - cpuBefore) / events) * 1e6 };
}

async function main() {
  if (COMPILED) {
    const { buildServer, freshBuild } = await import('../../server/build.mjs');
    if (!freshBuild()) await buildServer();
  }
  console.log(`push ingest, ${EVENTS.toLocaleString('en')} events per run, one client, real HTTP`);
  console.log(
    '| batch | bare ceiling events/s | keywatch events/s | ratio | bare CPU µs/event | keywatch CPU µs/event | CPU ratio |\n|---|---|---|---|---|---|---|',
  );
  for (const size of BATCHES) {
    const dir = mkdtempSync(join(tmpdir(), 'keywatch-bench-'));
    try {
      // Fresh servers per batch size, each on its own empty database.
      const bare = await spawn('bare', dir);
      const b = await post(bare.child.pid!, bare.port, undefined, size);
      bare.child.send('stop');
      await new Promise((r) => bare.child.once('exit', r));
      const kw = await spawn('keywatch', dir);
      const k = await post(Number(kw.info.pid ?? kw.child.pid), kw.port, kw.info.token, size);
      kw.child.send('stop');
      await new Promise((r) => kw.child.once('exit', r));
      console.log(
        `| ${size.toLocaleString('en')} | ${Math.round(b.rate).toLocaleString('en')} | ${Math.round(k.rate).toLocaleString('en')} | ${(k.rate / b.rate).toFixed(2)}x ` +
          `| ${b.cpu.toFixed(0)} | ${k.cpu.toFixed(0)} | ${(b.cpu / k.cpu).toFixed(2)}x |`,
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
}

const role = process.env.BENCH_ROLE;
if (role === 'bare') await runBare();
else if (role === 'keywatch') await (COMPILED ? runCompiledKeywatch() : runKeywatch());
else await main();
