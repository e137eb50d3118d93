/** `keywatch simulate`: realistic traffic to a JSON-lines file, stdout, or straight into the database. */

import { once } from 'node:events';
import { createWriteStream, writeFileSync } from 'node:fs';
import { type Command, Option } from 'commander';
import { ingestSimulation } from '../simulate/ingest-simulation.ts';
import { planSimulation, simulateEvents } from '../simulate/simulate.ts';
import { iso } from '../timestamps.ts';
import { err, positiveInt, timestamp, type WithDeps } from './support.ts';

export function addSimulateCommand(program: Command, withDeps: WithDeps, actor: string): void {
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
    .option(
      '--changes',
      'add legitimate, unlabelled changes (a launch, steady growth, a new customer, a holiday week, a batch job moving its hour, CI bursts, a client library upgrade)',
      false,
    )
    .option('--out <file>', 'write events as JSON lines (push API format); labels go to <file>.labels.json')
    .addOption(
      new Option('--ingest', 'write the traffic into the database instead').default(false).conflicts('out'),
    )
    .action(
      async (opts: {
        days: number;
        keys: number;
        seed: number;
        end?: number;
        incidents: boolean;
        changes: boolean;
        out?: string;
        ingest: boolean;
      }) => {
        const options = {
          seed: opts.seed,
          days: opts.days,
          keys: opts.keys,
          end: opts.end ?? Date.now(),
          incidents: opts.incidents,
          changes: opts.changes,
        };
        if (opts.ingest) {
          await withDeps(async (deps) => {
            const r = await ingestSimulation({ ...deps, secret: deps.config.secret }, options, actor);
            err(`Ingested ${r.accepted} events for ${r.keys} keys (${r.duplicates} duplicates skipped).`);
            for (const l of r.labels)
              err(`  incident ${l.kind} on ${l.key}: ${iso(l.start)} – ${iso(l.end)}`);
          });
          return;
        }
        const plan = planSimulation(options);
        const out = opts.out ? createWriteStream(opts.out) : process.stdout;
        // A file that cannot be opened rejects here, as one error, before any event is made.
        if (opts.out) await once(out, 'open');
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
}
