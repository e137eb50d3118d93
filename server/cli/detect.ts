/**
 * `keywatch detect run|series`: judge stored history, or score one outside series. The detectors
 * load inside the commands: every other command (`serve` among them) would otherwise initialise
 * them at start for nothing.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import type { Command } from 'commander';
import { createAlertListener } from '../alerts/notify.ts';
import { iso } from '../timestamps.ts';
import { timestamp, type WithDeps } from './support.ts';

export function addDetectCommands(program: Command, withDeps: WithDeps): void {
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
      await withDeps(async (deps) => {
        const { runDetection, writeHeldStates } = await import('../detection/run-detection.ts');
        const r = await runDetection(deps, {
          listener: createAlertListener(deps),
          ...(opts.until !== undefined && { until: opts.until }),
        });
        // The process ends here: store every state at the cursor, so the server's worker need not
        // replay any to catch up.
        await writeHeldStates(deps);
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
    .action(async (opts: { input: string; output?: string }) => {
      const text = readFileSync(opts.input === '-' ? 0 : opts.input, 'utf8');
      const { scoreSeriesCsv } = await import('../detection/series-csv.ts');
      const out = scoreSeriesCsv(text);
      if (opts.output) writeFileSync(opts.output, out);
      else process.stdout.write(out);
    });
}
