/**
 * PostgreSQL at the command line, via the real CLI against a real cluster: `serve` and the other
 * commands on a postgres:// KEYWATCH_DB, `migrate-storage` of the demo data, and `backup` (pg_dump).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backupPostgres, findPgDump } from '../../server/cli/storage.ts';
import { ensureFirstAdmin, seedDemo } from '../../server/simulate/demo.ts';
import { parseStorage } from '../../server/storage-target.ts';
import { runCli } from '../helpers/cli.ts';
import { PASSWORD_ROLE, type PgCluster, postgresAvailable, startPgCluster } from '../helpers/postgres.ts';
import { createTestDeps, TEST_SECRET } from '../helpers/store.ts';

const available = postgresAvailable();

/** One sentence on stderr after the `keywatch:` prefix. */
const oneSentence = /^keywatch: [^\n]+\.\n$/;

describe.skipIf(!available)('PostgreSQL storage commands', { timeout: 120_000 }, () => {
  let cluster: PgCluster;
  let dir: string;
  let sqlitePath: string;
  let counts: Record<string, number>;
  let sums: Record<string, { credits: number; requests: number }>;

  beforeAll(async () => {
    cluster = await startPgCluster();
    // The demo data `npm start` seeds on a first start (keys, usage, incidents, an admin).
    const deps = createTestDeps();
    dir = deps.dir;
    sqlitePath = deps.dbPath;
    await seedDemo(deps);
    await ensureFirstAdmin(deps);
    const tables = deps.sqlite
      .prepare(
        `SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name NOT IN ('__drizzle_migrations', 'migration_tasks')`,
      )
      .pluck()
      .all() as string[];
    counts = Object.fromEntries(
      tables.map((t) => [
        t,
        (deps.sqlite.prepare(`SELECT count(*) AS n FROM ${t}`).get() as { n: number }).n,
      ]),
    );
    sums = Object.fromEntries(
      ['usage_events', 'usage_minute', 'usage_hour', 'usage_day', 'usage_month', 'usage_day_total'].map(
        (t) => [
          t,
          deps.sqlite
            .prepare(`SELECT sum(credits) AS credits, sum(requests) AS requests FROM ${t}`)
            .get() as {
            credits: number;
            requests: number;
          },
        ],
      ),
    );
    deps.sqlite.close();
  });
  afterAll(async () => {
    await cluster?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const pgEnv = (url: string) => ({ KEYWATCH_DB: url, KEYWATCH_SECRET: TEST_SECRET });

  it('serve stops on an unreachable URL with one sentence naming KEYWATCH_DB, never the password', () => {
    const r = runCli(['serve'], pgEnv(cluster.urlAs(PASSWORD_ROLE.user, 'wrong-password-456', 'postgres')));
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(oneSentence);
    expect(r.stderr).toMatch(
      /refused the password of user keywatch_pw in KEYWATCH_DB=postgres:\/\/keywatch_pw:\*\*\*@/,
    );
    expect(r.stderr).not.toMatch(/wrong-password/);
  });

  it('migrate creates the PostgreSQL tables, and says so', async () => {
    const url = await cluster.createDatabase();
    const r = runCli(['migrate'], pgEnv(url));
    expect(r.stderr).toMatch(
      /^Database is up to date: postgres:\/\/postgres@127\.0\.0\.1:\d+\/keywatch_\d+_\d+\n$/,
    );
    expect(r.code).toBe(0);
    const client = new pg.Client(url);
    await client.connect();
    try {
      const applied = await client.query<{ n: string }>(
        'SELECT count(*) AS n FROM drizzle.__drizzle_migrations',
      );
      expect(Number(applied.rows[0]!.n)).toBeGreaterThan(0);
      expect((await client.query('SELECT count(*)::int AS n FROM usage_minute')).rows[0]).toEqual({ n: 0 });
    } finally {
      await client.end();
    }
  });

  it('runs the admin, simulation and import commands on PostgreSQL', async () => {
    const env = pgEnv(await cluster.createDatabase());
    const added = runCli(['user', 'add', '--email', 'ops@example.com', '--role', 'admin'], env);
    expect(added.code).toBe(0);
    const token = runCli(['token', 'create', '--name', 'ingest-1', '--scope', 'ingest'], env);
    expect(token.code).toBe(0);
    expect(token.stdout).toMatch(/^kw_\S+\n$/);
    const users = runCli(['user', 'list'], env);
    expect(users.code).toBe(0);
    expect(users.stdout).toContain('ops@example.com');
    const sim = runCli(['simulate', '--days', '1', '--keys', '3', '--ingest'], env);
    expect(sim.stderr).toMatch(/^Ingested \d+ events for 3 keys/);
    expect(sim.code).toBe(0);
    const simulated = Number(/Ingested (\d+) events/.exec(sim.stderr)![1]);
    expect(simulated).toBeGreaterThan(0);

    const file = join(dir, 'history.csv');
    writeFileSync(
      file,
      'ts,key,credits\n2026-10-01T10:00:00Z,legacy-app,40\n2026-10-02T10:00:00Z,legacy-app,60\n',
    );
    const imported = runCli(['import', 'csv', file], env);
    expect(imported.stderr).toMatch(/^Imported 2 of 2 rows for 1 key\(s\)/);
    expect(imported.code).toBe(0);
    expect(runCli(['import', 'csv', file], env).stderr).toMatch(/Imported 0 of 2 rows .* 2 already stored/);

    const client = new pg.Client(env.KEYWATCH_DB);
    await client.connect();
    try {
      const events = await client.query('SELECT count(*)::int AS n FROM usage_events');
      expect(events.rows[0]).toEqual({ n: simulated + 2 });
      // Old history lands in the day rollup (learned as baseline) like on SQLite.
      const day = await client.query(
        `SELECT sum(d.credits)::float AS credits FROM usage_day d JOIN keys k ON k.id = d.key_id WHERE k.name = 'legacy-app'`,
      );
      expect(day.rows[0]).toEqual({ credits: 100 });
    } finally {
      await client.end();
    }
  });

  it('copies the demo database into an empty PostgreSQL database with matching counts and sums', async () => {
    const url = await cluster.createDatabase();
    const r = runCli(['migrate-storage', '--to', url, '--batch-rows', '700'], {
      KEYWATCH_DB: sqlitePath,
      KEYWATCH_SECRET: TEST_SECRET,
    });
    expect(r.stderr).toMatch(
      /Copied [\d,]+ rows in \d+ tables in [\d.]+ s \([\d,]+ rows\/s\); row counts of every table/,
    );
    expect(r.code).toBe(0);
    const summary = JSON.parse(r.stdout) as { rows: number; rows_per_second: number };
    expect(summary.rows).toBe(Object.values(counts).reduce((a, b) => a + b, 0));

    const client = new pg.Client(url);
    await client.connect();
    try {
      for (const [table, n] of Object.entries(counts)) {
        const got = await client.query<{ n: string }>(`SELECT count(*) AS n FROM ${table}`);
        expect([table, Number(got.rows[0]!.n)]).toEqual([table, n]);
      }
      // The demo is not trivially small: thousands of usage rows, keys, incidents and a user.
      expect(counts.usage_minute).toBeGreaterThan(10_000);
      expect(counts.keys).toBeGreaterThanOrEqual(8);
      expect(counts.incidents).toBeGreaterThan(0);
      expect(counts.users).toBe(1);
      for (const [table, s] of Object.entries(sums)) {
        const got = (
          await client.query<{ credits: number; requests: string }>(
            `SELECT sum(credits) AS credits, sum(requests) AS requests FROM ${table}`,
          )
        ).rows[0]!;
        expect(got.credits).toBeCloseTo(s.credits, 6);
        expect(Number(got.requests)).toBe(s.requests);
      }
      // Values keep their types: JSON as jsonb, integer booleans as booleans, ids continue after the copy.
      // (jsonb is read back as its text in this process: pg/client.ts's parsers, as SQLite's columns expect.)
      const incident = await client.query<{ signals: string; type: string }>(
        'SELECT signals, jsonb_typeof(signals) AS type FROM incidents LIMIT 1',
      );
      expect(incident.rows[0]!.type).toBe('array');
      expect(Array.isArray(JSON.parse(incident.rows[0]!.signals))).toBe(true);
      const next = await client.query<{ id: string }>(
        `INSERT INTO audit_log (ts, actor, action) VALUES (0, 'test', 'probe') RETURNING id`,
      );
      expect(Number(next.rows[0]!.id)).toBe(counts.audit_log! + 1);
    } finally {
      await client.end();
    }

    // The target now holds Keywatch data: a second run is refused and changes nothing.
    const again = runCli(['migrate-storage', '--to', url], {
      KEYWATCH_DB: sqlitePath,
      KEYWATCH_SECRET: TEST_SECRET,
    });
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(
      /^keywatch: the target PostgreSQL database already holds Keywatch data \(table \w+ has rows\)/m,
    );
  });

  it('gives one sentence and a non-zero exit for a wrong or malformed --to', () => {
    const env = { KEYWATCH_DB: sqlitePath, KEYWATCH_SECRET: TEST_SECRET };
    const wrong = runCli(
      ['migrate-storage', '--to', cluster.urlAs('postgres', 'secret-pw-1', 'no_such_db')],
      env,
    );
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toMatch(oneSentence);
    expect(wrong.stderr).toMatch(
      /The database no_such_db named by --to=postgres:\/\/postgres:\*\*\*@127\.0\.0\.1:\d+\/no_such_db does not exist/,
    );
    expect(wrong.stderr).not.toMatch(/secret-pw-1/);
    const missing = runCli(['migrate-storage', '--to', cluster.urlAs('postgres', undefined, 'postgres')], {
      KEYWATCH_DB: join(dir, 'no-such.db'),
      KEYWATCH_SECRET: TEST_SECRET,
    });
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/^keywatch: KEYWATCH_DB=.*no-such\.db is not a database file/);
    expect(existsSync(join(dir, 'no-such.db'))).toBe(false);
    const malformed = runCli(['migrate-storage', '--to', 'postgres://kw:secret-pw-1@db.internal:5432'], env);
    expect(malformed.code).toBe(1);
    expect(malformed.stderr).toMatch(/^keywatch: Invalid --to: it names no database/);
    expect(malformed.stderr).not.toMatch(/secret-pw-1/);
  });

  it('backs a PostgreSQL database up with pg_dump in custom format, owner-only', async () => {
    const url = await cluster.createDatabase();
    const seeded = runCli(['migrate-storage', '--to', url], {
      KEYWATCH_DB: sqlitePath,
      KEYWATCH_SECRET: TEST_SECRET,
    });
    expect(seeded.code).toBe(0);
    const file = join(mkdtempSync(join(tmpdir(), 'keywatch-pgdump-')), 'keywatch.dump');
    const r = runCli(['backup', file], pgEnv(url));
    expect(r.stderr).toMatch(
      /Backed up postgres:\/\/postgres@127\.0\.0\.1:\d+\/keywatch_\d+_\d+ to .*keywatch\.dump with .*pg_dump/,
    );
    expect(r.code).toBe(0);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(existsSync(`${file}.secret`)).toBe(false);
    // A real archive: pg_restore lists the tables and the data of each.
    const list = spawnSync(join(cluster.binDir, 'pg_restore'), ['--list', file], { encoding: 'utf8' });
    expect(list.status).toBe(0);
    expect(list.stdout).toMatch(/TABLE DATA public usage_minute /);
    expect(list.stdout).toMatch(/TABLE DATA public incidents /);
    // An existing file is kept unless --force.
    expect(runCli(['backup', file], pgEnv(url)).code).toBe(1);
    rmSync(join(file, '..'), { recursive: true, force: true });
  });

  it('finds pg_dump on PATH or in /usr/lib/postgresql, and says to use pg_dump when there is none', async () => {
    expect(findPgDump(cluster.binDir, '/nonexistent')).toBe(join(cluster.binDir, 'pg_dump'));
    expect(findPgDump('/nonexistent', '/usr/lib/postgresql')).toMatch(
      /^\/usr\/lib\/postgresql\/\d+\/bin\/pg_dump$/,
    );
    expect(findPgDump('/nonexistent', '/nonexistent')).toBeUndefined();
    const file = join(mkdtempSync(join(tmpdir(), 'keywatch-pgdump-')), 'keywatch.dump');
    const target = parseStorage(cluster.urlAs('postgres', 'secret-pw-1', 'postgres'));
    if (target.kind !== 'postgres') throw new Error('expected a PostgreSQL target');
    const refused = await backupPostgres(target, file, null).then(
      () => undefined,
      (e: unknown) => e as Error,
    );
    expect(refused?.message).toMatch(
      /^KEYWATCH_DB is a PostgreSQL database \(postgres:\/\/postgres:\*\*\*@127\.0\.0\.1:\d+\/postgres\): back it up with PostgreSQL's pg_dump .*not installed here/,
    );
    expect(refused?.message).not.toMatch(/secret-pw-1/);
    expect(existsSync(file)).toBe(false);
    rmSync(join(file, '..'), { recursive: true, force: true });
  });
});
