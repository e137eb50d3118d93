/** `keywatch incidents list`: incidents, newest first, through the API's own query. */
import { type Command, InvalidArgumentError } from 'commander';
import { INCIDENT_STATES, type IncidentRow } from '../db/schema/index.ts';
import { queryIncidents } from '../incidents/queries.ts';
import { positiveInt, printList, type WithDeps, when } from './support.ts';

function states(value: string): IncidentRow['state'][] {
  const list = value
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  const bad = list.filter((s) => !(INCIDENT_STATES as readonly string[]).includes(s));
  if (list.length === 0 || bad.length)
    throw new InvalidArgumentError(`must be among ${INCIDENT_STATES.join(', ')} (comma-separated).`);
  return list as IncidentRow['state'][];
}

export function addIncidentCommands(program: Command, withDeps: WithDeps): void {
  const incidents = program.command('incidents').description('Inspect incidents.');
  incidents
    .command('list')
    .description('List incidents, newest first.')
    .option('--state <states>', `only these states: ${INCIDENT_STATES.join(',')} (comma-separated)`, states)
    .option('--limit <n>', 'at most this many (1–1000)', positiveInt(1000), 100)
    .option('--json', 'print a JSON array', false)
    .action(async (opts: { state?: IncidentRow['state'][]; limit: number; json: boolean }) => {
      await withDeps(async (deps) =>
        printList(
          await queryIncidents(deps.db, { limit: opts.limit, ...(opts.state && { state: opts.state }) }),
          opts,
          (i) => ({
            id: i.id,
            started: when(i.started_at),
            state: i.state,
            severity: String(i.severity),
            kind: i.kind,
            key: i.key ?? '-',
            summary: i.summary ?? '',
          }),
          'No incidents.',
        ),
      );
    });
}
