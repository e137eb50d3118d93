/** A real, migrated SQLite file (or PostgreSQL database) in a temp folder, with a fake clock, for each test. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'drizzle-orm';
import { afterAll, describe } from 'vitest';
import { fakeClock } from '../../server/clock.ts';
import { type Config, loadConfig } from '../../server/config.ts';
import { openStore } from '../../server/db/client.ts';
import { openPgStore, type PgStore } from '../../server/db/pg/client.ts';
import { sqliteUnavailable } from '../../server/db/storage.ts';
import { rows } from '../../server/db/transaction.ts';
import type { Deps } from '../../server/deps.ts';
import { silentLogger } from '../../server/log.ts';
import { settleUsage } from '../../server/usage/fold-usage.ts';
import { type PgCluster, postgresAvailable, startPgCluster } from './postgres.ts';

export const TEST_SECRET = 'test-server-secret-that-is-long-enough-0123456789';
export const T0 = Date.UTC(2026, 10, 26, 12, 0, 0);

export type TestDeps = Deps & {
  clock: ReturnType<typeof fakeClock>;
  dir: string;
  dbPath: string;
  cleanup(): void;
};

export function testConfig(dir: string, env: Record<string, string> = {}): Config {
  return loadConfig({
    KEYWATCH_DB: join(dir, 'keywatch.db'),
    KEYWATCH_SECRET: TEST_SECRET,
    PORT: '0',
    KEYWATCH_LOG_LEVEL: 'silent',
    ...env,
  });
}

export function createTestDeps(env: Record<string, string> = {}): TestDeps {
  const dir = mkdtempSync(join(tmpdir(), 'keywatch-test-'));
  const config = testConfig(dir, env);
  const store = openStore(config.dbPath);
  const clock = fakeClock(T0);
  return {
    db: store.db,
    sqlite: store.sqlite,
    clock,
    config,
    log: silentLogger,
    dir,
    dbPath: config.dbPath,
    cleanup() {
      store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** The same TestDeps on a fresh database of a running PostgreSQL cluster (test/helpers/postgres.ts). */
export async function createPgTestDeps(
  cluster: PgCluster,
  env: Record<string, string> = {},
): Promise<TestDeps & { pool: PgStore['pool'] }> {
  const dir = mkdtempSync(join(tmpdir(), 'keywatch-test-'));
  const url = await cluster.createDatabase();
  const config = testConfig(dir, { ...env, KEYWATCH_DB: url });
  const store = await openPgStore(url);
  const clock = fakeClock(T0);
  return {
    db: store.db,
    sqlite: sqliteUnavailable(),
    pool: store.pool,
    clock,
    config,
    log: silentLogger,
    dir,
    dbPath: url,
    cleanup() {
      void store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export type StoreKind = 'sqlite' | 'postgres';

/**
 * Runs `body` once per store: `describe.each`-like, with `open()` giving fresh TestDeps on that
 * store (one PostgreSQL cluster per file, started on first use, stopped after the file). Without
 * PostgreSQL binaries the postgres half fails under CI and is skipped otherwise (postgresAvailable).
 */
export function forEachStore(
  body: (kind: StoreKind, open: (env?: Record<string, string>) => Promise<TestDeps>) => void,
) {
  describe('sqlite', () => body('sqlite', async (env) => createTestDeps(env)));
  const available = postgresAvailable();
  describe.skipIf(!available)('postgres', () => {
    let cluster: Promise<PgCluster> | undefined;
    afterAll(async () => {
      if (cluster !== undefined) await (await cluster).stop();
    });
    body('postgres', async (env) => {
      cluster ??= startPgCluster();
      return createPgTestDeps(await cluster, env);
    });
  });
}

/** A test's raw SELECT on whichever store its deps run on (assertions read tables directly). */
export async function selectRows<T = Record<string, unknown>>(deps: Deps, text: string): Promise<T[]> {
  // A table read straight from SQL passes the same barrier as the app's reads: pushed batches'
  // rollups are folded in behind their commit (server/usage/fold-usage.ts).
  await settleUsage(deps.db);
  return rows<T>(deps.db, sql.raw(text));
}

/** How many rows a table holds, on either store. */
export async function countRows(deps: Deps, table: string): Promise<number> {
  const [row] = await selectRows<{ n: number }>(deps, `SELECT count(*) AS n FROM ${table}`);
  return row!.n;
}
