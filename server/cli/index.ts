/** The `keywatch` command line. Results go to stdout, everything else to stderr; non-zero exit on error. */
import { existsSync, readFileSync } from 'node:fs';
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { createApiToken } from '../auth/tokens.ts';
import { addUser } from '../auth/users.ts';
import { systemClock } from '../clock.ts';
import { type Config, ConfigError, loadConfig } from '../config.ts';
import { openStore } from '../db/client.ts';
import { ROLES, SCOPES, type Scope } from '../db/schema/index.ts';
import type { Deps } from '../deps.ts';
import { AppError } from '../errors.ts';
import { createLogger } from '../log.ts';
import { startServer } from '../serve.ts';
import { addAlertCommands } from './alerts.ts';
import { addDetectCommands } from './detect.ts';
import { addImportCommands } from './import.ts';
import { addSimulateCommand } from './simulate.ts';
import { err } from './support.ts';

const CLI_ACTOR = 'cli';

function config(): Config {
  return loadConfig();
}

/** Runs `fn` with an open, migrated database and closes it after. */
async function withDeps<T>(fn: (deps: Deps) => Promise<T> | T): Promise<T> {
  const cfg = config();
  const store = openStore(cfg.dbPath);
  try {
    return await fn({
      db: store.db,
      sqlite: store.sqlite,
      clock: systemClock,
      config: cfg,
      log: createLogger(cfg.logLevel),
    });
  } finally {
    store.close();
  }
}

const VERSION = (
  JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }
).version;
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
      await withDeps((deps) => err(`Database is up to date: ${deps.config.dbPath}`));
    });

  const user = program.command('user').description('Manage dashboard users.');
  user
    .command('add')
    .description('Add a dashboard user; without --password one is generated and printed alone on stdout.')
    .requiredOption('--email <email>', "the user's email address")
    .addOption(new Option('--role <role>', 'what the user may do').choices(ROLES).default('viewer'))
    .option('--password <password>', 'at least 10 characters (prefer the generated one)')
    .action(async (opts: { email: string; role: (typeof ROLES)[number]; password?: string }) => {
      await withDeps(async (deps) => {
        const { user: created, password, generated } = await addUser(deps, opts, CLI_ACTOR);
        err(`Added ${created.role} ${created.email}.`);
        if (generated) process.stdout.write(`${password}\n`);
      });
    });

  const token = program.command('token').description('Manage API tokens.');
  token
    .command('create')
    .description('Create an API token and print it alone on stdout (it is shown only once).')
    .requiredOption('--name <name>', 'what the token is for, e.g. "log-shipper"')
    .requiredOption(
      '--scope <scope...>',
      `one or more of ${SCOPES.join(', ')} (repeat or separate with commas)`,
    )
    .action(async (opts: { name: string; scope: string[] }) => {
      const scopes = opts.scope.flatMap((s) => s.split(',')).map((s) => s.trim()) as Scope[];
      await withDeps((deps) => {
        const { token: secret, view } = createApiToken(deps, { name: opts.name, scopes, actor: CLI_ACTOR });
        err(
          `Created token ${view.name} (…${view.last4}) with scopes ${view.scopes.join(', ')}. Store it now: it is not shown again.`,
        );
        process.stdout.write(`${secret}\n`);
      });
    });

  addSimulateCommand(program, withDeps, CLI_ACTOR);
  addImportCommands(program, withDeps);
  addDetectCommands(program, withDeps);

  program
    .command('backup')
    .description('Write a consistent copy of the database to FILE while the server may be running.')
    .argument('<file>', 'where to write the backup')
    .option('--force', 'overwrite FILE if it exists', false)
    .action(async (file: string, opts: { force: boolean }) => {
      if (existsSync(file) && !opts.force)
        throw new InvalidArgumentError(`${file} already exists (use --force to overwrite).`);
      await withDeps(async (deps) => {
        await deps.sqlite.backup(file);
        err(`Backed up ${deps.config.dbPath} to ${file}.`);
      });
    });

  addAlertCommands(program, withDeps, CLI_ACTOR);
  return program;
}

export async function main(argv: string[]): Promise<number> {
  try {
    // Settings from ./.env, as .env.example shows; the environment itself wins over the file.
    if (existsSync('.env')) process.loadEnvFile('.env');
    await buildProgram().parseAsync(argv);
    return 0;
  } catch (e) {
    // Thrown by a command's own checks (a file that exists...): a failure, said here.
    if (e instanceof InvalidArgumentError) {
      err(`keywatch: ${e.message}`);
      return 1;
    }
    // A usage error found while parsing: commander printed it (or the help / version) already.
    if (e instanceof CommanderError) return DONE.has(e.code) ? 0 : 2;
    if (e instanceof ConfigError) err(`keywatch: ${e.message}`);
    else if (e instanceof AppError) {
      err(`keywatch: ${e.message}`);
      for (const i of e.issues ?? []) err(`  ${i.path}: ${i.message}`);
    } else err(`keywatch: ${(e as Error)?.stack ?? String(e)}`);
    return 1;
  }
}

const code = await main(process.argv);
if (code !== 0) process.exit(code);
