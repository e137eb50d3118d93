/** The `keywatch` command line. Results go to stdout, everything else to stderr; non-zero exit on error. */
// First, before the rest loads: `serve` starts its writer thread here (prestart.ts).
import './prestart.ts';
import { chmodSync, closeSync, copyFileSync, existsSync, openSync } from 'node:fs';
import { Command, CommanderError, InvalidArgumentError } from 'commander';
import { systemClock } from '../clock.ts';
import { type Config, loadConfig } from '../config.ts';
import { ConfigError } from '../config-error.ts';
import { restrictToOwner } from '../db/client.ts';
import { CopyFailedError, CopyMismatchError, TargetNotEmptyError } from '../db/pg/copy-errors.ts';
import { PgStorageError } from '../db/pg/storage-error.ts';
import { openStorage, type Storage } from '../db/storage.ts';
import type { Deps } from '../deps.ts';
import { AppError } from '../errors.ts';
import { createLogger } from '../log.ts';
import { VERSION } from '../paths.ts';
import { configuredDbPath } from '../storage-target.ts';
import { addAlertCommands } from './alerts.ts';
import { addDetectCommands } from './detect.ts';
import { addImportCommands } from './import.ts';
import { addIncidentCommands } from './incidents.ts';
import { addKeyCommands } from './keys.ts';
import { addSimulateCommand } from './simulate.ts';
import { addMigrateStorageCommand, backupPostgres, migratePostgres } from './storage.ts';
import { err, StorageFault, storageFault } from './support.ts';
import { addTokenCommands } from './tokens.ts';
import { addUserCommands } from './users.ts';

const CLI_ACTOR = 'cli';

/** The configuration; the data directory (made for the generated secret) failing is a storage fault. */
function config(): Config {
  try {
    return loadConfig();
  } catch (e) {
    const fault = storageFault(e, configuredDbPath(), true);
    throw fault ? new StorageFault(fault) : e;
  }
}

/** Runs `fn` with an open, migrated database (either store) and closes it after. */
async function withDeps<T>(fn: (deps: Deps) => Promise<T> | T): Promise<T> {
  const cfg = config();
  let store: Storage;
  try {
    store = await openStorage(cfg.storage);
  } catch (e) {
    if (e instanceof PgStorageError) throw e;
    // The database (or the directory it and the secret live in) cannot be opened: say so plainly.
    const fault = storageFault(e, configuredDbPath(), true);
    throw fault ? new StorageFault(fault) : e;
  }
  try {
    return await fn({
      db: store.db,
      sqlite: store.sqlite,
      clock: systemClock,
      config: cfg,
      log: createLogger(cfg.logLevel),
    });
  } finally {
    await store.close();
  }
}

/** Commander's ways of ending well: help or version asked for. */
const DONE = new Set(['commander.helpDisplayed', 'commander.help', 'commander.version']);

export function buildProgram(): Command {
  const program = new Command()
    .name('keywatch')
    .description('Watch the credit spend of every API key and raise the alarm when a key looks compromised.')
    .version(VERSION, '--version', 'print the version')
    .showHelpAfterError('(run with --help for usage)')
    .configureOutput({ writeErr: (s) => process.stderr.write(s) })
    // Usage errors come back to main() as CommanderError, to exit 2 (not commander's 1).
    .exitOverride();

  program
    .command('serve')
    .description('Start the dashboard, API, gateway and jobs (seeds demo data into an empty database).')
    .action(async () => {
      const cfg = config();
      // Loaded here, not at the top: the server (app, pages, jobs) is most of the code, and every
      // other command would parse it for nothing (the compiled build keeps it in its own chunk).
      const { startServer } = await import('../serve.ts');
      const running = await startServer(cfg, createLogger(cfg.logLevel));
      const stop = () => {
        err('Stopping...');
        running.stop().then(
          () => process.exit(0),
          () => process.exit(1),
        );
      };
      process.once('SIGTERM', stop);
      process.once('SIGINT', stop);
    });

  program
    .command('migrate')
    .description('Create or upgrade the database schema, then exit.')
    .action(async () => {
      const cfg = config();
      if (cfg.storage.kind === 'postgres') return migratePostgres(cfg.storage);
      await withDeps((deps) => err(`Database is up to date: ${deps.config.dbPath}`));
    });

  addUserCommands(program, withDeps, CLI_ACTOR);
  addTokenCommands(program, withDeps, CLI_ACTOR);
  addKeyCommands(program, withDeps);
  addIncidentCommands(program, withDeps);
  addSimulateCommand(program, withDeps, CLI_ACTOR);
  addImportCommands(program, withDeps);
  addDetectCommands(program, withDeps);
  addMigrateStorageCommand(program, config);

  program
    .command('backup')
    .description(
      'Write a consistent copy of the database to FILE while the server may be running (PostgreSQL: pg_dump, custom format).',
    )
    .argument('<file>', 'where to write the backup')
    .option('--force', 'overwrite FILE if it exists', false)
    .action(async (file: string, opts: { force: boolean }) => {
      if (existsSync(file) && !opts.force)
        throw new InvalidArgumentError(`${file} already exists (use --force to overwrite).`);
      const cfg = config();
      if (cfg.storage.kind === 'postgres') return backupPostgres(cfg.storage, file);
      const secretCopy = `${file}.secret`;
      if (existsSync(secretCopy) && !opts.force)
        throw new InvalidArgumentError(`${secretCopy} already exists (use --force to overwrite).`);
      await withDeps(async (deps) => {
        // Password, session and token hashes: the copy is owner-only from its first byte.
        closeSync(openSync(file, 'w', 0o600));
        chmodSync(file, 0o600);
        await deps.sqlite.backup(file);
        restrictToOwner(file);
        err(`Backed up ${deps.config.dbPath} to ${file}.`);
        // Without the server secret, the key fingerprints in the backup cannot be matched again.
        const secretFile = deps.config.secretFile;
        if (secretFile) {
          copyFileSync(secretFile, secretCopy);
          chmodSync(secretCopy, 0o600);
          err(
            `Copied the server secret to ${secretCopy}: keep it with the backup, as private as the backup.`,
          );
        } else {
          err(
            'The server secret is not in the backup: it comes from KEYWATCH_SECRET in the environment; keep that value with the backup (a restore needs the same one).',
          );
        }
      });
    });

  addAlertCommands(program, withDeps, CLI_ACTOR);
  return program;
}

/** A file named on the command line that cannot be read or written (ENOENT, EACCES...): no stack. */
function isFileError(e: unknown): e is NodeJS.ErrnoException {
  return e instanceof Error && typeof (e as NodeJS.ErrnoException).code === 'string' && 'path' in e;
}

export async function main(argv: string[]): Promise<number> {
  try {
    // Settings from ./.env, as .env.example shows; the environment itself wins over the file.
    if (existsSync('.env')) process.loadEnvFile('.env');
    const program = buildProgram();
    // No command at all is a usage error, as an unknown one is: the help on stderr, exit 2.
    if (argv.length <= 2) {
      process.stderr.write(program.helpInformation());
      return 2;
    }
    await program.parseAsync(argv);
    return 0;
  } catch (e) {
    // Thrown by a command's own checks (a file that exists...): a failure, said here.
    if (e instanceof InvalidArgumentError) {
      err(`keywatch: ${e.message}`);
      return 1;
    }
    // A usage error found while parsing: commander printed it (or the help / version) already.
    if (e instanceof CommanderError) return DONE.has(e.code) ? 0 : 2;
    const fault = e instanceof StorageFault ? e.message : storageFault(e, configuredDbPath());
    if (fault) err(`keywatch: ${fault}`);
    else if (
      e instanceof ConfigError ||
      e instanceof PgStorageError ||
      e instanceof TargetNotEmptyError ||
      e instanceof CopyMismatchError ||
      e instanceof CopyFailedError
    )
      err(`keywatch: ${e.message}`);
    else if (e instanceof AppError) {
      err(`keywatch: ${e.message}`);
      for (const i of e.issues ?? []) err(`  ${i.path}: ${i.message}`);
    } else if (isFileError(e)) err(`keywatch: ${e.message}`);
    else err(`keywatch: ${(e as Error)?.stack ?? String(e)}`);
    return 1;
  }
}

/**
 * The command's whole run. Not awaited at the top level: the compiled build runs this module as a
 * CommonJS script (server/load-compiled.mjs), which waits for it before keeping its code cache.
 */
export const finished = main(process.argv).then((code) => {
  if (code !== 0) process.exit(code);
});
