/** `keywatch keys list`: the watched API keys (fingerprints and last 4 only, never a secret). */
import { type Command, Option } from 'commander';
import { KEY_STATUSES } from '../db/schema/index.ts';
import { listKeys } from '../keys/keys.ts';
import { printList, type WithDeps, when } from './support.ts';

export function addKeyCommands(program: Command, withDeps: WithDeps): void {
  const keys = program.command('keys').description('Inspect the watched API keys.');
  keys
    .command('list')
    .description('List API keys with their status and last use.')
    .addOption(new Option('--status <status>', 'only keys with this status').choices(KEY_STATUSES))
    .option('--json', 'print a JSON array', false)
    .action(async (opts: { status?: (typeof KEY_STATUSES)[number]; json: boolean }) => {
      await withDeps(async (deps) =>
        printList(
          (await listKeys(deps)).filter((k) => !opts.status || k.status === opts.status),
          opts,
          (k) => ({
            id: k.id,
            name: k.name,
            provider: k.provider,
            environment: k.environment ?? '-',
            status: k.status,
            last4: k.last4 ?? '-',
            last_used: when(k.last_used_at),
          }),
          'No keys.',
        ),
      );
    });
}
