/**
 * PostgreSQL at the command line: `migrate-storage` (copy the SQLite database into an empty
 * PostgreSQL one) and `backup` of a PostgreSQL KEYWATCH_DB (pg_dump).
 */
import { spawn } from 'node:child_process';
import { chmodSync, closeSync, existsSync, openSync, readdirSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { type Command, InvalidArgumentError } from 'commander';
import type { Config } from '../config.ts';
import { ConfigError } from '../config-error.ts';
import { openStore } from '../db/client.ts';
import { parseStorage, type StorageTarget } from '../storage-target.ts';
import { foldAllUsage } from '../usage/fold-usage.ts';
import { err } from './support.ts';

type PgTarget = Extract<StorageTarget, { kind: 'postgres' }>;

/** node-postgres, drizzle's driver and the copy: loaded by the commands that use them, not at every start. */
async function loadPostgres() {
  const [{ openPgStore }, { copySqliteToPg }] = await Promise.all([
    import('../db/pg/client.ts'),
    import('../db/pg/copy-from-sqlite.ts'),
  ]);
  return { openPgStore, copySqliteToPg };
}

/** `keywatch migrate` on PostgreSQL: create or upgrade its tables (migrations/pg), then exit. */
export async function migratePostgres(target: PgTarget): Promise<void> {
  const { openPgStore } = await loadPostgres();
  const store = await openPgStore(target.url, { max: 1 });
  await store.close();
  err(`Database is up to date: ${target.display}`);
}

export function addMigrateStorageCommand(program: Command, config: () => Config): void {
  program
    .command('migrate-storage')
    .description(
      'Copy the SQLite database at KEYWATCH_DB into an empty PostgreSQL database, verify counts and sums, and say how long it took.',
    )
    .requiredOption('--to <url>', 'the target: postgres://user:password@host:5432/database')
    .option('--batch-rows <n>', 'rows per INSERT statement (default 5000)', (v) => {
      const n = Number(v);
      if (!Number.isInteger(n) || n < 1 || n > 50_000)
        throw new InvalidArgumentError('must be a whole number from 1 to 50000.');
      return n;
    })
    .action(async (opts: { to: string; batchRows?: number }) => {
      let target: StorageTarget;
      try {
        target = parseStorage(opts.to);
      } catch (e) {
        throw new ConfigError((e as Error).message.replace(/KEYWATCH_DB/g, '--to'));
      }
      if (target.kind !== 'postgres')
        throw new ConfigError(
          'Invalid --to: must be a postgres:// or postgresql:// URL of an empty database.',
        );
      const cfg = config();
      if (cfg.storage.kind !== 'sqlite')
        throw new ConfigError(
          'KEYWATCH_DB must name the SQLite database to copy from (the --to URL is where it goes).',
        );
      // openStore would create an empty database there, and the copy would succeed with nothing in it.
      if (cfg.storage.path === ':memory:' || !existsSync(cfg.storage.path))
        throw new ConfigError(
          `KEYWATCH_DB=${cfg.storage.path} is not a database file: point KEYWATCH_DB at the SQLite database to copy from.`,
        );
      const { openPgStore, copySqliteToPg } = await loadPostgres();
      const source = openStore(cfg.storage.path);
      // PostgreSQL has no fold (its rollups are written with each batch): every pushed batch's
      // rollups are in the SQLite tables before they are copied.
      foldAllUsage(source.sqlite);
      try {
        const pgStore = await openPgStore(target.url, { setting: '--to', max: 2 });
        try {
          err(`Copying ${cfg.storage.path} into ${target.display}...`);
          const report = await copySqliteToPg(source.sqlite, pgStore.pool, {
            ...(opts.batchRows && { batchRows: opts.batchRows }),
            progress: err,
          });
          const seconds = report.ms / 1000;
          const perSecond = Math.round(report.rows / Math.max(seconds, 0.001));
          err(
            `Copied ${report.rows.toLocaleString('en-US')} rows in ${report.tables.length} tables in ${seconds.toFixed(1)} s (${perSecond.toLocaleString('en-US')} rows/s); row counts of every table and the credit and request sums of the usage tables match.`,
          );
          err(
            'Key fingerprints depend on the server secret: give every process on PostgreSQL the same KEYWATCH_SECRET as this install (the contents of its keywatch.secret when it was generated).',
          );
          process.stdout.write(
            `${JSON.stringify({ rows: report.rows, tables: report.tables.length, seconds: Number(seconds.toFixed(3)), rows_per_second: perSecond })}\n`,
          );
        } finally {
          await pgStore.close();
        }
      } finally {
        source.close();
      }
    });
}

/** pg_dump on PATH, else the newest Debian install's; undefined when neither exists. */
export function findPgDump(path = process.env.PATH ?? '', root = '/usr/lib/postgresql'): string | undefined {
  for (const dir of path.split(delimiter).filter(Boolean)) {
    const candidate = join(dir, 'pg_dump');
    if (existsSync(candidate)) return candidate;
  }
  if (!existsSync(root)) return undefined;
  const newest = readdirSync(root)
    .filter((v) => /^\d+$/.test(v) && existsSync(join(root, v, 'bin', 'pg_dump')))
    .sort((a, b) => Number(b) - Number(a))[0];
  return newest ? join(root, newest, 'bin', 'pg_dump') : undefined;
}

/**
 * A PostgreSQL backup is pg_dump's custom format (restore with pg_restore). The password goes to
 * pg_dump through PGPASSWORD, not its command line, where any user could read it in the process list.
 */
export async function backupPostgres(
  target: PgTarget,
  file: string,
  pgDump: string | null = findPgDump() ?? null,
): Promise<void> {
  if (!pgDump) {
    throw new ConfigError(
      `KEYWATCH_DB is a PostgreSQL database (${target.display}): back it up with PostgreSQL's pg_dump (pg_dump --format=custom --file=${file} "$KEYWATCH_DB"), which is not installed here (apt-get install postgresql-client).`,
    );
  }
  const url = new URL(target.url);
  let password = url.password;
  try {
    password = decodeURIComponent(url.password);
  } catch {
    // A stray % that is no escape: kept as written.
  }
  url.password = '';
  // Hashes of passwords, sessions and tokens: owner-only from the first byte.
  closeSync(openSync(file, 'w', 0o600));
  chmodSync(file, 0o600);
  const stderr = await new Promise<{ code: number | null; text: string }>((resolve, reject) => {
    const child = spawn(pgDump, ['--format=custom', `--file=${file}`, `--dbname=${url.toString()}`], {
      env: { ...process.env, ...(password && { PGPASSWORD: password }) },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let text = '';
    child.stderr.on('data', (d: Buffer) => {
      text += d.toString();
    });
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, text }));
  });
  if (stderr.code !== 0) {
    throw new ConfigError(
      `pg_dump could not back up ${target.display}: ${stderr.text.trim().split('\n').pop()?.replace(/\.$/, '') ?? `exit ${stderr.code}`}.`,
    );
  }
  chmodSync(file, 0o600);
  err(`Backed up ${target.display} to ${file} with ${pgDump} (custom format: restore with pg_restore).`);
  err(
    'The server secret is not in the backup: it comes from KEYWATCH_SECRET; keep that value with the backup (a restore needs the same one).',
  );
}
