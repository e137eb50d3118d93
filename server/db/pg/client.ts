/**
 * Opens a PostgreSQL database (a node-postgres pool), applies the committed migrations of
 * migrations/pg, and says in one sentence why it cannot when it cannot.
 *
 * Queries run through drizzle's node-postgres driver over the *same table definitions as SQLite*
 * (db/schema): the query modules are written once, and `Db` is one type whichever store is behind
 * it. The pg-core mirror (pg/schema) is what migrations/pg is generated from, and the parity test
 * keeps both describing the same tables. Values cross as the SQLite columns expect them: int8 and
 * numeric are parsed to numbers (epoch ms, counts and credits are far below 2^53), JSON arrives as
 * the text the SQLite json columns parse, and booleans as true/false, which they read as 1/0.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { drizzle } from 'drizzle-orm/node-postgres';
import { migrate } from 'drizzle-orm/node-postgres/migrator';
import pg from 'pg';
import { rootPath } from '../../paths.ts';
import { redactDatabaseUrl } from '../../storage-target.ts';
import type { Db } from '../client.ts';
import * as schema from '../schema/index.ts';
import { PgStorageError } from './storage-error.ts';

export type PgStore = { db: Db; pool: pg.Pool; close(): Promise<void> };

const INT8 = 20;
const NUMERIC = 1700;
const JSON_OID = 114;
const JSONB = 3802;
// Process-wide: drizzle's node-postgres session asks pg.types for every query's parsers.
pg.types.setTypeParser(INT8, (v) => Number(v));
pg.types.setTypeParser(NUMERIC, (v) => Number(v));
pg.types.setTypeParser(JSON_OID, (v) => v);
pg.types.setTypeParser(JSONB, (v) => v);

export const PG_MIGRATIONS_DIR = rootPath('migrations/pg');

export { PgStorageError };

export type PgOpenOptions = {
  /** Apply the committed migrations (default true). */
  migrate?: boolean;
  /** Which setting named the URL, for messages (KEYWATCH_DB, or a command's --to). */
  setting?: string;
  /** How long to wait for the server to answer a connection, in ms. */
  connectTimeoutMs?: number;
  /** Connections the pool may open. */
  max?: number;
};

export async function openPgStore(url: string, options: PgOpenOptions = {}): Promise<PgStore> {
  const setting = options.setting ?? 'KEYWATCH_DB';
  const timeoutMs = options.connectTimeoutMs ?? 5_000;
  const pool = new pg.Pool({
    connectionString: url,
    connectionTimeoutMillis: timeoutMs,
    max: options.max ?? 10,
  });
  // An idle connection the server drops (restart, failover) emits 'error' on the pool; unhandled,
  // that would end the process. The next query gets a fresh connection or fails with its own error.
  pool.on('error', () => {});
  try {
    const client = await pool.connect();
    client.release();
  } catch (e) {
    await pool.end().catch(() => {});
    throw new PgStorageError(describePgFault(e, url, setting, timeoutMs));
  }
  const db = drizzle(pool, { schema }) as unknown as Db;
  if (options.migrate !== false) {
    try {
      await migrate(drizzle(pool), { migrationsFolder: PG_MIGRATIONS_DIR });
    } catch (e) {
      await pool.end().catch(() => {});
      const cause = (e as { cause?: unknown }).cause ?? e;
      throw new PgStorageError(
        `Cannot create the Keywatch tables in the PostgreSQL database ${setting}=${redactDatabaseUrl(url)}: ${oneLine(cause)} (the user needs CREATE on the database and its public schema).`,
      );
    }
  }
  let closed = false;
  return {
    db,
    pool,
    async close() {
      if (closed) return;
      closed = true;
      await pool.end();
    },
  };
}

/**
 * Ready to serve: the server answers and every committed migration is applied (a database another,
 * newer release migrated, or one still migrating, is not ready).
 */
export async function pgStorageReadiness(pool: pg.Pool): Promise<{ ready: boolean; detail: string }> {
  try {
    const journal = JSON.parse(readFileSync(join(PG_MIGRATIONS_DIR, 'meta/_journal.json'), 'utf8')) as {
      entries: unknown[];
    };
    const exists = await pool.query<{ t: string | null }>(
      `SELECT to_regclass('drizzle.__drizzle_migrations')::text AS t`,
    );
    const applied = exists.rows[0]?.t
      ? Number(
          (await pool.query<{ n: string }>('SELECT count(*) AS n FROM drizzle.__drizzle_migrations')).rows[0]
            ?.n,
        )
      : 0;
    return applied >= journal.entries.length
      ? { ready: true, detail: `storage reachable, ${applied} migrations applied` }
      : { ready: false, detail: `${applied} of ${journal.entries.length} migrations applied` };
  } catch (e) {
    return { ready: false, detail: `storage unreachable: ${oneLine(e)}` };
  }
}

const safeDecode = (s: string) => {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
};

const oneLine = (e: unknown) =>
  String((e as Error)?.message ?? e)
    .replace(/\s+/g, ' ')
    .replace(/\.$/, '');

/** One sentence naming the setting and the URL (password hidden) for a failed connection. */
export function describePgFault(e: unknown, url: string, setting: string, timeoutMs: number): string {
  const shown = `${setting}=${redactDatabaseUrl(url)}`;
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return `Cannot connect to the PostgreSQL database ${shown}: it is not a well-formed postgres:// URL.`;
  }
  const host = `${parsed.hostname}:${parsed.port || '5432'}`;
  const user = safeDecode(parsed.username) || 'the default user';
  const database = safeDecode(parsed.pathname.slice(1));
  const code = String((e as { code?: unknown })?.code ?? '');
  const message = oneLine(e);
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN')
    return `Cannot find the PostgreSQL host ${parsed.hostname} named by ${shown}: check the host name in ${setting}.`;
  if (code === 'ECONNREFUSED')
    return `Nothing accepts connections at ${host} named by ${shown}: check the host and port in ${setting}, and that PostgreSQL is running there.`;
  if (/timeout|ETIMEDOUT|EHOSTUNREACH|ENETUNREACH/i.test(`${code} ${message}`))
    return `The PostgreSQL server at ${host} named by ${shown} did not answer within ${timeoutMs / 1000} s: check the host and port in ${setting}, and any firewall on the way.`;
  if (code === '28P01' || /SASL|password/i.test(message))
    return `PostgreSQL refused the password of user ${user} in ${shown}: check the user and password in ${setting} (percent-encode special characters).`;
  if (code === '28000')
    return `PostgreSQL does not let user ${user} in, as ${shown} asks: check that the role exists and that pg_hba.conf allows it from this host.`;
  if (code === '3D000')
    return `The database ${database} named by ${shown} does not exist on ${host}: create it (createdb ${database}) or fix the name in ${setting}.`;
  return `Cannot connect to the PostgreSQL database ${shown}: ${message}.`;
}
