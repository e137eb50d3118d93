/**
 * A year of 1,000 keys: builds the dataset through the product's own write path (cached in /tmp by
 * its parameters), serves it with `keywatch serve` in a child process, and times every page, API
 * call and export with one sequential client over real HTTP: p50/p95, the serving process's CPU
 * time per request (mean, all threads: steadier than wall time on a busy machine), body size, and
 * the serving process's RSS after each. Ends with the database's size on disk: after the
 * migrations, after one retention pass (what a live install runs within six hours of an upgrade:
 * the file it settles at) with its largest tables, and after the run. The source file is only ever
 * copied, never opened.
 *
 *   npm run bench scale                           # 1,000 keys, 365 days (the fixed dataset)
 *   npm run bench scale -- --keys 50 --days 60    # a quick development run
 *   npm run bench scale -- --runs 5 --rebuild
 *   npm run bench scale -- --from /tmp/migrated-copy.db   # serve a copy of that file instead
 *   npm run bench scale -- --from FILE --postgres           # the same data served from PostgreSQL
 *   npm run bench scale -- --from FILE --only 'csv|/keys'   # only the rows whose name matches
 *   npm run bench scale -- --from FILE --cpu-prof DIR       # V8 CPU profiles of the serving process
 *   npm run bench scale -- --from FILE --runs 1 --save DIR  # each row's answer into DIR, to diff two builds
 *
 * The dataset: the simulator's key profiles (mixed environments, daily and weekly cycles, growth);
 * the first 8 keys at their full rate (the busy ones), every other key at a fifth of it (the many
 * quiet ones). The last 90 days are simulated events recorded by recordEvents() (raw events and
 * minute, hour and day buckets); the days before are the same profiles drawn hour by hour and
 * written by addToBuckets() into the hour, day and month rollups only, as minute retention would leave them.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { createSession } from '../../server/auth/sessions.ts';
import { createApiToken } from '../../server/auth/tokens.ts';
import { addUser } from '../../server/auth/users.ts';
import { DAY, fakeClock, floorTo, HOUR, MINUTE } from '../../server/clock.ts';
import { loadConfig } from '../../server/config.ts';
import { openStore } from '../../server/db/client.ts';
import { openPgStore } from '../../server/db/pg/client.ts';
import { copySqliteToPg } from '../../server/db/pg/copy-from-sqlite.ts';
import type { Deps } from '../../server/deps.ts';
import { createAccountState } from '../../server/detection/core/account.ts';
import { applyRetention } from '../../server/jobs/retention.ts';
import { createKey } from '../../server/keys/keys.ts';
import { silentLogger } from '../../server/log.ts';
import { costOf } from '../../server/simulate/catalog.ts';
import { toUsageEvent } from '../../server/simulate/ingest-simulation.ts';
import { growthFactor, type KeyProfile, shapeAt } from '../../server/simulate/profiles.ts';
import { createRng } from '../../server/simulate/random.ts';
import { planSimulation, simulateEvents } from '../../server/simulate/simulate.ts';
import { addToBuckets, type BucketDelta } from '../../server/usage/buckets.ts';
import { recordEvents, type UsageEvent } from '../../server/usage/record-events.ts';
import { type PgCluster, startPgCluster } from '../../test/helpers/postgres.ts';

const { values: args } = parseArgs({
  options: {
    keys: { type: 'string', default: '1000' },
    days: { type: 'string', default: '365' },
    runs: { type: 'string', default: '20' },
    rebuild: { type: 'boolean', default: false },
    // A database to copy instead of the cached build (say, a copy already migrated to this
    // checkout's schema, so each run does not spend minutes migrating the 3 GB build again).
    from: { type: 'string' },
    // Serve the same data from PostgreSQL instead: a throwaway cluster (as the tests start one),
    // filled from the prepared SQLite copy by migrate-storage's copy.
    postgres: { type: 'boolean', default: false },
    // Only the rows whose name matches this regular expression (profiling one slow row).
    only: { type: 'string' },
    // A folder for V8 CPU profiles of the serving process (every thread), written when it stops.
    'cpu-prof': { type: 'string' },
    // A folder to write each row's last answer into (one file per row), to compare two builds' answers.
    save: { type: 'string' },
  },
});
const KEYS = Number(args.keys);
const DAYS = Number(args.days);
const RUNS = Number(args.runs);
/** Days kept as raw events and minute buckets (the default retention). */
const RAW_DAYS = Math.min(90, DAYS);
const BUSY_KEYS = 8;
const QUIET_FACTOR = 0.2;
const SEED = 14;
const SECRET = 'bench-secret-bench-secret-bench-secret-0000';
const ROOT = join(dirname(fileURLToPath(import.meta.url)), '../..');
const ADMIN = { email: 'bench@keywatch.local', password: 'bench-password-123456' };

/** Data ends at the start of the current UTC day's hour, so a cached build serves "today" for a day. */
const TODAY = floorTo(Date.now(), DAY);
const END = floorTo(Date.now(), HOUR);
const CACHE = `/tmp/keywatch-scale-k${KEYS}-d${DAYS}-s${SEED}-${new Date(TODAY).toISOString().slice(0, 10)}.db`;

const bytes = (n: number) =>
  n >= 1e9
    ? `${(n / 1e9).toFixed(2)} GB`
    : n >= 1e6
      ? `${(n / 1e6).toFixed(1)} MB`
      : `${(n / 1e3).toFixed(0)} KB`;

function profilesOf(plan: ReturnType<typeof planSimulation>): KeyProfile[] {
  return plan.profiles.map((p, i) =>
    i < BUSY_KEYS ? p : { ...p, peakPerHour: p.peakPerHour * QUIET_FACTOR },
  );
}

async function build(path: string): Promise<void> {
  const started = Date.now();
  const tmp = `${path}.building`;
  rmSync(tmp, { force: true });
  const store = openStore(tmp);
  const clock = fakeClock(END);
  const config = loadConfig({ KEYWATCH_DB: tmp, KEYWATCH_SECRET: SECRET });
  const deps: Deps = { db: store.db, sqlite: store.sqlite, clock, config, log: silentLogger };
  const options = { seed: SEED, days: RAW_DAYS, keys: KEYS, end: END, incidents: false };
  const base = planSimulation(options);
  const plan = { ...base, profiles: profilesOf(base) };
  const historyStart = END - DAYS * DAY;
  for (const k of plan.keys) {
    await createKey(
      { db: store.db, clock, secret: SECRET },
      {
        name: k.name,
        environment: k.environment,
        owner: k.owner,
        created_at: Math.min(k.created_at, historyStart),
      },
      'bench',
    );
  }

  // History before the raw window: each key's hours drawn from its profile, rollups only.
  const rng = createRng(SEED + 1);
  const write = store.sqlite.transaction((deltas: BucketDelta[]) =>
    addToBuckets(store.sqlite, deltas, ['hour', 'day', 'month']),
  );
  let drawn = 0;
  for (let day = historyStart; day < plan.start; day += DAY) {
    const deltas: BucketDelta[] = [];
    for (let h = day; h < day + DAY; h += HOUR) {
      plan.profiles.forEach((p, i) => {
        const mean = p.peakPerHour * shapeAt(p.shape, h) * growthFactor(p, h - plan.start);
        const byOp = new Map<string, BucketDelta>();
        for (let n = rng.poisson(mean); n > 0; n--) {
          const op = rng.weighted(p.mix);
          const failing = rng.next() < p.errorRate;
          const d = byOp.get(op) ?? {
            keyId: plan.keys[i]!.name,
            ts: h,
            operation: op,
            credits: 0,
            requests: 0,
            errors: 0,
            authFailures: 0,
          };
          d.requests++;
          if (failing) d.errors++;
          else d.credits += costOf(op, rng);
          byOp.set(op, d);
          drawn++;
        }
        deltas.push(...byOp.values());
      });
    }
    write(deltas.map((d) => ({ ...d, keyId: keyIdOf(store.sqlite, d.keyId) })));
  }

  // The raw window: simulated events through recordEvents, in push-sized batches.
  let batch: UsageEvent[] = [];
  let recorded = 0;
  for (const e of simulateEvents(options, plan)) {
    batch.push(toUsageEvent(e));
    if (batch.length >= 5_000) {
      recorded += recordEvents(deps, batch).accepted;
      batch = [];
    }
  }
  recorded += recordEvents(deps, batch).accepted;

  await addUser(deps, { email: ADMIN.email, role: 'admin', password: ADMIN.password }, 'bench');
  // Detection is judged up to the end of the data: the served process starts caught up, as a
  // long-running one would be, instead of replaying 90 days of 1,000 keys while it is measured.
  store.sqlite
    .prepare(`INSERT INTO detector_state (key_id, state, evaluated_until, updated_at) VALUES ('', ?, ?, ?)`)
    .run(JSON.stringify(createAccountState()), END - MINUTE, END);
  store.sqlite.exec('ANALYZE');
  store.sqlite.pragma('wal_checkpoint(TRUNCATE)');
  store.close();
  renameSync(tmp, path);
  rmSync(`${tmp}-wal`, { force: true });
  rmSync(`${tmp}-shm`, { force: true });
  process.stderr.write(
    `built ${path}: ${KEYS} keys, ${DAYS} days, ${drawn.toLocaleString('en')} history requests in rollups, ` +
      `${recorded.toLocaleString('en')} raw events, ${bytes(statSync(path).size)}, ${((Date.now() - started) / 1000).toFixed(0)} s\n`,
  );
}

const keyIdCache = new Map<string, string>();
function keyIdOf(sqlite: ReturnType<typeof openStore>['sqlite'], name: string): string {
  let id = keyIdCache.get(name);
  if (!id) {
    id = (sqlite.prepare('SELECT id FROM keys WHERE name = ?').pluck().get(name) as string) ?? name;
    keyIdCache.set(name, id);
  }
  return id;
}

type Target = { name: string; path: string; auth: 'cookie' | 'token' };

function targets(busyKeyId: string, quietKeyId: string): Target[] {
  const now = END;
  const year = `from=${new Date(now - 365 * DAY).toISOString()}&to=${new Date(now).toISOString()}`;
  const month = `from=${new Date(now - 30 * DAY).toISOString()}&to=${new Date(now).toISOString()}`;
  const page = (name: string, path: string): Target => ({ name, path, auth: 'cookie' });
  const api = (name: string, path: string): Target => ({ name, path, auth: 'token' });
  return [
    api('capacity data: usage day by key, 1 year', `/api/v1/usage?step=day&group=key&${year}`),
    api(
      "capacity page's call: day by key, 1 year, top 7 + (other)",
      `/api/v1/usage?step=day&group=key&${year}&top=7`,
    ),
    api('usage day by key, 1 year, a page of 100 keys', `/api/v1/usage?step=day&group=key&${year}&limit=100`),
    api('CSV usage by month by key, 1 year', '/export/usage.csv?step=month&group=key'),
    api('forecast, all keys', '/api/v1/forecast'),
    api('forecast, environment production', '/api/v1/forecast?environment=production'),
    api('forecast, one key', `/api/v1/forecast?key=${busyKeyId}`),
    page('/keys page', '/keys'),
    api('CSV usage by day by key, 30 days', '/export/usage.csv?step=day&group=key'),
    api('CSV keys', '/export/keys.csv'),
    api(
      'overview chart: usage day by environment, 30 d',
      `/api/v1/usage?step=day&group=environment&${month}`,
    ),
    api('usage day by operation, 30 days', `/api/v1/usage?step=day&group=operation&${month}`),
    api('usage hour total, 7 days', '/api/v1/usage?step=hour'),
    page('overview page /', '/'),
    page('key detail page (busy key)', `/keys/${busyKeyId}`),
    page('key detail page (quiet key)', `/keys/${quietKeyId}`),
    api(
      'key usage hour, 5 weeks (key detail chart)',
      `/api/v1/keys/${busyKeyId}/usage?step=hour&from=${now - 35 * DAY}&to=${now}`,
    ),
    api('key usage minute, 6 hours', `/api/v1/keys/${busyKeyId}/usage?step=minute`),
    api('CSV key usage hour, 7 days', `/export/key-usage.csv?key=${busyKeyId}&step=hour`),
    api('/api/v1/keys', '/api/v1/keys'),
    api('/api/v1/sources', '/api/v1/sources'),
    api('/api/v1/incidents', '/api/v1/incidents'),
    api('invoice estimate, current', '/api/v1/invoice/estimate?period=current'),
    api('/api/v1/budgets', '/api/v1/budgets'),
    page('/capacity page', '/capacity'),
    page('/incidents page', '/incidents'),
    page('/budgets page', '/budgets'),
    page('/settings page', '/settings'),
    api('/metrics', '/metrics'),
  ];
}

/**
 * CPU time the serving process has used (every thread, user and system), in ms: per request it
 * varies far less with other load on the machine than the wall-clock time does.
 */
function cpuMsOf(pid: number): number {
  // Fields after the command's closing parenthesis; utime and stime are the 12th and 13th, in ticks.
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLOCK_TICKS;
}
const CLOCK_TICKS = Number(spawnSync('getconf', ['CLK_TCK']).stdout?.toString().trim()) || 100;

function rssOf(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0) * 1024;
}

async function serve(dbPath: string): Promise<{ child: ChildProcess; url: string }> {
  // The launcher silently falls back to the TypeScript sources through tsx when the build is older
  // than a source (twice the memory: tsx's loader and its transforms in every thread), so the bench
  // builds first and always measures what `npm install` and `npm start` run.
  const built = spawnSync(process.execPath, [join(ROOT, 'server/build.mjs')], {
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  if (built.status !== 0) throw new Error('the build failed');
  const profile = args['cpu-prof'] ? ['--cpu-prof', `--cpu-prof-dir=${args['cpu-prof']}`] : [];
  const child = spawn(process.execPath, [...profile, join(ROOT, 'server/keywatch.mjs'), 'serve'], {
    cwd: ROOT,
    env: {
      ...process.env,
      KEYWATCH_DB: dbPath,
      KEYWATCH_SECRET: SECRET,
      KEYWATCH_DEMO: '0',
      KEYWATCH_LOG_LEVEL: 'warn',
      PORT: '0',
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const url = await new Promise<string>((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (b: Buffer) => {
      out += b.toString();
      const m = /running at (\S+)/.exec(out);
      if (m) resolve(m[1]!);
    });
    child.once('exit', (code) => reject(new Error(`keywatch serve exited with ${code}`)));
  });
  return { child, url };
}

/** The database file and its write-ahead log: what the install takes on disk. */
const fileSize = (path: string) =>
  ['', '-wal'].reduce((s, ext) => s + (existsSync(path + ext) ? statSync(path + ext).size : 0), 0);

/** The ten largest tables and indexes by pages in use (dbstat). */
function largestTables(sqlite: ReturnType<typeof openStore>['sqlite']): string {
  const rows = sqlite
    .prepare('SELECT name, sum(pgsize) AS n FROM dbstat GROUP BY name ORDER BY n DESC LIMIT 10')
    .all() as { name: string; n: number }[];
  return rows.map((r) => `${r.name} ${(r.n / 1e6).toFixed(0)}`).join(', ');
}

const pct = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;

async function main() {
  const source = args.from ?? CACHE;
  if (!args.from && (args.rebuild || !existsSync(CACHE))) {
    process.stderr.write(`building ${CACHE} ...\n`);
    await build(CACHE);
  }
  // One served copy per run (several engineers may bench the same source at once).
  const work = `${source}.serving-${process.pid}`;
  // The served copy, its WAL, and the gateway's journal folder beside it (`<database>.journal`).
  const leftovers = [work, `${work}-wal`, `${work}-shm`, `${work}.journal`];
  for (const f of leftovers) rmSync(f, { force: true, recursive: true });
  copyFileSync(source, work);

  // A session and a read token for the client, on the copy the server will open (migrated first,
  // so a schema change between the cached build and this checkout is applied and timed here).
  const migrateStarted = Date.now();
  const store = openStore(work);
  const migrateMs = Date.now() - migrateStarted;
  const migratedSize = fileSize(work);
  const deps: Deps = {
    db: store.db,
    sqlite: store.sqlite,
    clock: fakeClock(Date.now()),
    config: loadConfig({ KEYWATCH_DB: work, KEYWATCH_SECRET: SECRET }),
    log: silentLogger,
  };
  // What a live install does within six hours of the upgrade: one retention pass (and the free
  // pages it returns), so the size reported is what the file settles at, not a one-off peak.
  const retentionStarted = Date.now();
  const deleted = await applyRetention(deps);
  const retentionMs = Date.now() - retentionStarted;
  store.sqlite.pragma('wal_checkpoint(TRUNCATE)');
  const retainedSize = fileSize(work);
  const spaceByTable = largestTables(store.sqlite);
  const userId = store.sqlite
    .prepare('SELECT id FROM users WHERE email = ?')
    .pluck()
    .get(ADMIN.email) as number;
  const { cookieValue } = await createSession(deps, userId);
  const { token } = await createApiToken(deps, { name: 'bench', scopes: ['read'], actor: 'bench' });
  const busy = store.sqlite.prepare(`SELECT id FROM keys WHERE name = 'prod-web'`).pluck().get() as string;
  const quiet = store.sqlite
    .prepare('SELECT id FROM keys ORDER BY name DESC LIMIT 1')
    .pluck()
    .get() as string;
  // PostgreSQL: the prepared copy (session and token included) goes into a fresh database.
  let cluster: PgCluster | undefined;
  let served = work;
  let pgSize: (() => Promise<number>) | undefined;
  if (args.postgres) {
    cluster = await startPgCluster();
    served = await cluster.createDatabase();
    const target = await openPgStore(served);
    const copied = await copySqliteToPg(store.sqlite, target.pool, {});
    process.stderr.write(
      `copied ${copied.rows} rows into PostgreSQL in ${(copied.ms / 1000).toFixed(1)} s\n`,
    );
    await target.close();
    pgSize = async () => {
      const c = await openPgStore(served, { migrate: false, max: 1 });
      try {
        const r = await c.pool.query<{ n: number }>('SELECT pg_database_size(current_database()) AS n');
        return r.rows[0]!.n;
      } finally {
        await c.close();
      }
    };
  }
  store.close();

  const { child, url } = await serve(served);
  const pid = child.pid!;
  let sampler: NodeJS.Timeout | undefined;
  try {
    const rssAtStart = rssOf(pid);
    let peak = rssAtStart;
    // Sampled every 10 ms while requests run, not only between them: a response built in memory
    // and freed before it ends would not show after it.
    let targetPeak = rssAtStart;
    sampler = setInterval(() => {
      const rss = rssOf(pid);
      targetPeak = Math.max(targetPeak, rss);
      peak = Math.max(peak, rss);
    }, 10);
    const rows: string[] = [];
    if (args.save) mkdirSync(args.save, { recursive: true });
    const only = args.only ? new RegExp(args.only, 'i') : null;
    for (const t of targets(busy, quiet).filter((x) => !only || only.test(x.name))) {
      const headers: Record<string, string> =
        t.auth === 'cookie' ? { cookie: `kw_session=${cookieValue}` } : { authorization: `Bearer ${token}` };
      const times: number[] = [];
      targetPeak = rssOf(pid);
      let size = 0;
      let status = 0;
      let cpuMs = 0;
      for (let run = 0; run < RUNS + 2; run++) {
        const cpuBefore = cpuMsOf(pid);
        const started = performance.now();
        const res = await fetch(`${url}${t.path}`, { headers, redirect: 'manual' });
        const body = new Uint8Array(await res.arrayBuffer());
        const ms = performance.now() - started;
        status = res.status;
        size = body.byteLength;
        // The first two warm caches (statements, the dashboard bundle); they are not counted.
        if (run >= 2) {
          times.push(ms);
          cpuMs += cpuMsOf(pid) - cpuBefore;
        }
        if (args.save && run === RUNS + 1)
          writeFileSync(join(args.save, `${t.name.replace(/[^\w]+/g, '-')}.out`), body);
        const after = rssOf(pid);
        peak = Math.max(peak, after);
        targetPeak = Math.max(targetPeak, after);
      }
      times.sort((a, b) => a - b);
      const rss = rssOf(pid);
      rows.push(
        `| ${t.name} | ${status} | ${pct(times, 50).toFixed(1)} | ${pct(times, 95).toFixed(1)} | ${(cpuMs / times.length).toFixed(1)} | ${bytes(size)} | ${bytes(rss)} | ${bytes(targetPeak)} |`,
      );
      process.stdout.write(`${rows[rows.length - 1]}\n`);
    }
    const dbSize = pgSize ? await pgSize() : fileSize(work);
    process.stdout.write(
      `\nSQLite file (with its WAL): ${bytes(migratedSize)} after migrations (${(migrateMs / 1000).toFixed(1)} s), ` +
        `${bytes(retainedSize)} after one retention pass (${(retentionMs / 1000).toFixed(1)} s, as a live install runs every 6 h; ` +
        `rows deleted: ${Object.entries(deleted)
          .filter(([, n]) => n > 0)
          .map(([t, n]) => `${t} ${n.toLocaleString('en')}`)
          .join(', ')})\nlargest tables and indexes after it (MB): ${spaceByTable}\n`,
    );
    process.stdout.write(
      `\nserving RSS: ${bytes(rssAtStart)} after start, peak ${bytes(peak)} (sampled every 10 ms; ${cluster ? 'the Keywatch process, not PostgreSQL' : 'all threads'})\n` +
        `database (${cluster ? 'PostgreSQL' : 'SQLite'}) at the end: ${bytes(dbSize)} (${KEYS} keys, ${DAYS} days); migrations on open: ${migrateMs} ms\n`,
    );
  } finally {
    clearInterval(sampler);
    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r));
    await cluster?.stop();
    for (const f of leftovers) rmSync(f, { force: true, recursive: true });
  }
}

process.stdout.write(
  '| endpoint | status | p50 ms | p95 ms | CPU ms | size | RSS after | RSS peak |\n|---|---|---|---|---|---|---|---|\n',
);
await main();
