/** openPgStore against a real PostgreSQL cluster: migrations, readiness, and each way a URL can be wrong. */
import { is } from 'drizzle-orm';
import { getTableConfig, PgTable } from 'drizzle-orm/pg-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import journal from '../../../migrations/pg/meta/_journal.json' with { type: 'json' };
import { openPgStore, PgStorageError, pgStorageReadiness } from '../../../server/db/pg/client.ts';
import * as schema from '../../../server/db/pg/schema/index.ts';
import { PASSWORD_ROLE, type PgCluster, postgresAvailable, startPgCluster } from '../../helpers/postgres.ts';

const available = postgresAvailable();
const committed = journal.entries.length;

describe.skipIf(!available)('openPgStore on a real PostgreSQL', { timeout: 60_000 }, () => {
  let cluster: PgCluster;
  beforeAll(async () => {
    cluster = await startPgCluster();
  });
  afterAll(async () => {
    await cluster?.stop();
  });

  it('applies the migrations once, is ready after, and is not ready before', async () => {
    const url = await cluster.createDatabase();
    const bare = await openPgStore(url, { migrate: false });
    expect(await pgStorageReadiness(bare.pool)).toEqual({
      ready: false,
      detail: `0 of ${committed} migrations applied`,
    });
    await bare.close();

    const store = await openPgStore(url);
    expect(await pgStorageReadiness(store.pool)).toEqual({
      ready: true,
      detail: `storage reachable, ${committed} migrations applied`,
    });
    const tables = await store.pool.query<{ n: string }>(
      `SELECT count(*) AS n FROM information_schema.tables WHERE table_schema = 'public'`,
    );
    const declared = (Object.values(schema) as unknown[]).filter((t) => is(t, PgTable));
    expect(Number(tables.rows[0]!.n)).toBe(declared.length);
    await store.close();
    // Opening again migrates nothing twice.
    const again = await openPgStore(url);
    const applied = await again.pool.query<{ n: string }>(
      'SELECT count(*) AS n FROM drizzle.__drizzle_migrations',
    );
    expect(Number(applied.rows[0]!.n)).toBe(committed);
    await again.close();
  });

  // The parity test compares the two schemas in TypeScript; this compares the pg schema with what
  // its committed migrations really build, so a schema edited without `drizzle-kit generate
  // --config drizzle.pg.config.ts` fails here.
  it('builds, from the committed migrations, exactly the columns and indexes the pg schema declares', async () => {
    const store = await openPgStore(await cluster.createDatabase());
    try {
      const tables = (Object.values(schema) as unknown[]).filter((t): t is PgTable => is(t, PgTable));
      const declared = tables
        .flatMap((t) => {
          const cfg = getTableConfig(t);
          return cfg.columns.map(
            (c) => `${cfg.name}.${c.name} ${c.getSQLType()}${c.notNull ? ' not null' : ''}`,
          );
        })
        .sort();
      const built = (
        await store.pool.query<{ c: string }>(
          `SELECT table_name || '.' || column_name || ' ' || data_type || CASE WHEN is_nullable = 'NO' THEN ' not null' ELSE '' END AS c
             FROM information_schema.columns WHERE table_schema = 'public'`,
        )
      ).rows
        .map((r) => r.c)
        .sort();
      expect(built).toEqual(declared);
      const declaredIndexes = tables
        .flatMap((t) => getTableConfig(t).indexes.map((i) => i.config.name))
        .sort();
      const builtIndexes = (
        await store.pool.query<{ n: string }>(
          `SELECT indexname AS n FROM pg_indexes WHERE schemaname = 'public'
             AND indexname NOT IN (SELECT conname FROM pg_constraint)`,
        )
      ).rows
        .map((r) => r.n)
        .sort();
      expect(builtIndexes).toEqual(declaredIndexes);
    } finally {
      await store.close();
    }
  });

  it('reports an unreachable store as not ready once the server is gone', async () => {
    const store = await openPgStore(await cluster.createDatabase());
    await store.close();
    const readiness = await pgStorageReadiness(store.pool);
    expect(readiness.ready).toBe(false);
    expect(readiness.detail).toMatch(/^storage unreachable: /);
  });

  it('accepts the right password of a role that must give one', async () => {
    await cluster.createDatabase();
    const url = cluster.urlAs(PASSWORD_ROLE.user, PASSWORD_ROLE.password, 'postgres');
    const store = await openPgStore(url, { migrate: false });
    expect((await store.pool.query('SELECT current_user AS u')).rows[0]).toEqual({ u: PASSWORD_ROLE.user });
    await store.close();
  });

  const failures: [string, (c: PgCluster) => string, RegExp][] = [
    [
      'a wrong password',
      (c) => c.urlAs(PASSWORD_ROLE.user, 'wrong-password-456', 'postgres'),
      /^PostgreSQL refused the password of user keywatch_pw in KEYWATCH_DB=postgres:\/\/keywatch_pw:\*\*\*@127\.0\.0\.1:\d+\/postgres: check the user and password in KEYWATCH_DB/,
    ],
    [
      'a missing password',
      (c) => c.urlAs(PASSWORD_ROLE.user, undefined, 'postgres'),
      /^PostgreSQL refused the password of user keywatch_pw/,
    ],
    [
      'a missing database',
      (c) => c.urlAs('postgres', 'any-password-789', 'no_such_db'),
      /^The database no_such_db named by KEYWATCH_DB=postgres:\/\/postgres:\*\*\*@127\.0\.0\.1:\d+\/no_such_db does not exist/,
    ],
    [
      'a wrong port',
      (c) => `postgres://postgres:any-password-789@127.0.0.1:${c.port === 1 ? 2 : 1}/postgres`,
      /^Nothing accepts connections at 127\.0\.0\.1:[12] named by KEYWATCH_DB=postgres:\/\/postgres:\*\*\*@/,
    ],
    [
      'an unknown host',
      () => 'postgres://postgres:any-password-789@no-such-host.invalid:5432/keywatch',
      /^Cannot find the PostgreSQL host no-such-host\.invalid named by KEYWATCH_DB=/,
    ],
  ];

  it.each(failures)(
    'stops on %s with one sentence naming KEYWATCH_DB, never the password',
    async (_, urlOf, pattern) => {
      const error = await openPgStore(urlOf(cluster)).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(PgStorageError);
      const message = (error as Error).message;
      expect(message).toMatch(pattern);
      expect(message).toMatch(/KEYWATCH_DB/);
      expect(message).not.toMatch(/password-(456|789)|right-password/);
      // One sentence: a single line ending in a full stop.
      expect(message).toMatch(/^[^\n]+\.$/);
    },
  );

  it('gives up on a host that never answers within the timeout', async () => {
    // 192.0.2.0/24 is TEST-NET-1: routed nowhere, so the connection attempt hangs until the timeout.
    const started = Date.now();
    const error = await openPgStore('postgres://kw:secret-pw@192.0.2.1:5432/kw', {
      connectTimeoutMs: 500,
    }).then(
      () => undefined,
      (e: unknown) => e as Error,
    );
    expect(error?.message).toMatch(
      /^(The PostgreSQL server at 192\.0\.2\.1:5432 named by KEYWATCH_DB=postgres:\/\/kw:\*\*\*@192\.0\.2\.1:5432\/kw did not answer within 0\.5 s|Nothing accepts connections)/,
    );
    expect(Date.now() - started).toBeLessThan(10_000);
  });
});
