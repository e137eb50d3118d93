/** The `keywatch` command line. Results go to stdout, everything else to stderr; non-zero exit on error. */
import { createWriteStream, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { basename } from 'node:path';
import { Command, InvalidArgumentError, Option } from 'commander';
import { addAlertCommands } from './alerts/cli.ts';
import { createAlertListener } from './alerts/notify.ts';
import { createApiToken } from './auth/tokens.ts';
import { addUser } from './auth/users.ts';
import { systemClock } from './clock.ts';
import { type Config, ConfigError, loadConfig } from './config.ts';
import { openStore } from './db/client.ts';
import { ROLES, SCOPES, type Scope } from './db/schema/index.ts';
import type { Deps } from './deps.ts';
import { runDetection } from './detection/run-detection.ts';
import { scoreSeriesCsv } from './detection/series-csv.ts';
import { AppError } from './errors.ts';
import { CSV_FIELDS, importCsv, parseFieldMap } from './ingest/csv-import.ts';
import { createLogger } from './log.ts';
import { startServer } from './main.ts';
import { ingestSimulation } from './simulate/ingest-simulation.ts';
import { planSimulation, simulateEvents } from './simulate/simulate.ts';
import { iso, TimestampSchema } from './timestamps.ts';

const CLI_ACTOR = 'cli';
const err = (line: string) => process.stderr.write(`${line}\n`);

function positiveInt(max: number) {
  return (value: string) => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < 1 || n > max)
      throw new InvalidArgumentError(`must be a whole number from 1 to ${max}.`);
    return n;
  };
}

function timestamp(value: string): number {
  const parsed = TimestampSchema.safeParse(value);
  if (!parsed.success) throw new InvalidArgumentError(parsed.error.issues[0]?.message ?? 'invalid timestamp');
  return parsed.data;
}

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

export function buildProgram(): Command {
  const program = new Command()
    .name('keywatch')
    .description('Watch the credit spend of every API key and raise the alarm when a key looks compromised.')
    .showHelpAfterError('(run with --help for usage)')
    .configureOutput({ writeErr: (s) => process.stderr.write(s) });

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

  program
    .command('simulate')
    .description(
      'Generate realistic Magic Hour traffic (operations, costs, daily and weekly cycles, growth, noise).',
    )
    .option('--days <n>', 'days of traffic, ending at --end', positiveInt(400), 30)
    .option('--keys <n>', 'number of keys', positiveInt(1000), 8)
    .option('--seed <n>', 'random seed; the same seed gives the same traffic', positiveInt(2 ** 31), 1)
    .option('--end <time>', 'end of the window (ISO-8601 or epoch ms; default now)', timestamp)
    .option(
      '--incidents',
      'inject labelled incidents (spike, slow leak, off-hours, dormant wake, revoked use, 401 burst, unregistered key, new source, operation mix, unattributed spend)',
      false,
    )
    .option('--out <file>', 'write events as JSON lines (push API format); labels go to <file>.labels.json')
    .option('--ingest', 'write the traffic into the database instead', false)
    .action(
      async (opts: {
        days: number;
        keys: number;
        seed: number;
        end?: number;
        incidents: boolean;
        out?: string;
        ingest: boolean;
      }) => {
        if (opts.out && opts.ingest)
          throw new InvalidArgumentError('use either --out or --ingest, not both.');
        const options = {
          seed: opts.seed,
          days: opts.days,
          keys: opts.keys,
          end: opts.end ?? Date.now(),
          incidents: opts.incidents,
        };
        if (opts.ingest) {
          await withDeps((deps) => {
            const r = ingestSimulation({ ...deps, secret: deps.config.secret }, options, CLI_ACTOR);
            err(`Ingested ${r.accepted} events for ${r.keys} keys (${r.duplicates} duplicates skipped).`);
            for (const l of r.labels)
              err(`  incident ${l.kind} on ${l.key}: ${iso(l.start)} – ${iso(l.end)}`);
          });
          return;
        }
        const plan = planSimulation(options);
        const out = opts.out ? createWriteStream(opts.out) : process.stdout;
        let n = 0;
        for (const e of simulateEvents(options, plan)) {
          if (!out.write(`${JSON.stringify({ ...e, ts: iso(e.ts) })}\n`))
            await new Promise<void>((r) => out.once('drain', () => r()));
          n++;
        }
        if (opts.out) {
          await new Promise<void>((resolve, reject) =>
            out.end((e?: Error | null) => (e ? reject(e) : resolve())),
          );
          const meta = {
            seed: options.seed,
            from: iso(plan.start),
            to: iso(plan.end),
            keys: plan.keys.map((k) => ({
              ...k,
              created_at: iso(k.created_at),
              revoked_at: k.revoked_at && iso(k.revoked_at),
            })),
            incidents: plan.labels.map((l) => ({ ...l, start: iso(l.start), end: iso(l.end) })),
          };
          writeFileSync(`${opts.out}.labels.json`, `${JSON.stringify(meta, null, 2)}\n`);
          err(`Wrote ${n} events to ${opts.out} and labels to ${opts.out}.labels.json.`);
        }
      },
    );

  const importCmd = program.command('import').description('Import usage history.');
  importCmd
    .command('csv')
    .description(
      'Import usage events from a CSV file with a header row. Every row is validated first: one bad row ' +
        'rejects the file and nothing is stored. Importing the same file again stores nothing twice.',
    )
    .argument('<file>', 'the CSV file')
    .option(
      '--map <pairs>',
      `field=column pairs, e.g. ts=timestamp,key=api_key,credits=cost (fields: ${CSV_FIELDS.join(', ')}; ` +
        'unmapped fields use a column of the same name; ts and key are required)',
    )
    .option(
      '--source-name <name>',
      'prefix of the event ids (default: the file name); keep it when re-importing the same data',
    )
    .action(async (file: string, opts: { map?: string; sourceName?: string }) => {
      const map = parseFieldMap(opts.map);
      let text: string;
      try {
        text = readFileSync(file, 'utf8');
      } catch (e) {
        throw new InvalidArgumentError(`cannot read ${file}: ${(e as Error).message}`);
      }
      await withDeps((deps) => {
        const s = importCsv(deps, text, { map, sourceName: opts.sourceName ?? basename(file) });
        const span = s.from === null || s.to === null ? '' : ` from ${iso(s.from)} to ${iso(s.to)}`;
        err(
          `Imported ${s.accepted} of ${s.rows} rows for ${s.keys} key(s)${span}; ${s.duplicates} already stored.`,
        );
        if (s.discovered.length > 0) err(`New (discovered) keys: ${s.discovered.join(', ')}.`);
      });
    });
  const detect = program
    .command('detect')
    .description('Run detection over stored history, or score one series.');
  detect
    .command('run')
    .description(
      'Evaluate every closed minute not yet evaluated, up to --until (default now), and open incidents.',
    )
    .option(
      '--until <time>',
      'evaluate buckets that end at or before this time (ISO-8601 or epoch ms)',
      timestamp,
    )
    .action(async (opts: { until?: number }) => {
      await withDeps((deps) => {
        const r = runDetection(deps, {
          listener: createAlertListener(deps),
          ...(opts.until !== undefined && { until: opts.until }),
        });
        process.stdout.write(
          `${JSON.stringify({ evaluated_until: iso(r.evaluated_until), incidents_opened: r.incidents_opened })}\n`,
        );
      });
    });
  detect
    .command('series')
    .description(
      'Score one regularly sampled series: CSV timestamp,value in, timestamp,value,anomaly_score,is_anomaly out (causal).',
    )
    .requiredOption('--input <file>', "CSV with header timestamp,value ('-' reads stdin)")
    .option('--output <file>', 'where to write the scored CSV (default stdout)')
    .action((opts: { input: string; output?: string }) => {
      const text = readFileSync(opts.input === '-' ? 0 : opts.input, 'utf8');
      const out = scoreSeriesCsv(text);
      if (opts.output) writeFileSync(opts.output, out);
      else process.stdout.write(out);
    });

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
    await buildProgram().parseAsync(argv);
    return 0;
  } catch (e) {
    if (e instanceof ConfigError) err(`keywatch: ${e.message}`);
    else if (e instanceof InvalidArgumentError) err(`keywatch: ${e.message}`);
    else if (e instanceof AppError) {
      err(`keywatch: ${e.message}`);
      for (const i of e.issues ?? []) err(`  ${i.path}: ${i.message}`);
    } else err(`keywatch: ${(e as Error)?.stack ?? String(e)}`);
    return 1;
  }
}

const code = await main(process.argv);
if (code !== 0) process.exit(code);
