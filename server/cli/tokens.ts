/** `keywatch token create|list|revoke`: API tokens (stored hashed; listed without any secret). */
import { type Command, InvalidArgumentError } from 'commander';
import { createApiToken, listApiTokens, revokeApiToken } from '../auth/tokens.ts';
import { SCOPES, type Scope } from '../db/schema/index.ts';
import { err, printList, type WithDeps, when } from './support.ts';

function tokenId(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || !Number.isSafeInteger(n) || n < 1)
    throw new InvalidArgumentError('must be a token id (a whole number; see `keywatch token list`).');
  return n;
}

/** `--scope read,admin` (repeatable): an unknown scope is a usage error, like any bad choice. */
function scopeList(value: string, previous: Scope[] | undefined): Scope[] {
  const scopes = value.split(',').map((s) => s.trim());
  if (scopes.some((s) => !(SCOPES as readonly string[]).includes(s)))
    throw new InvalidArgumentError(`must be one or more of the scopes ${SCOPES.join(', ')}.`);
  return [...(previous ?? []), ...(scopes as Scope[])];
}

export function addTokenCommands(program: Command, withDeps: WithDeps, actor: string): void {
  const token = program.command('token').description('Manage API tokens.');
  token
    .command('create')
    .description('Create an API token and print it alone on stdout (it is shown only once).')
    .requiredOption('--name <name>', 'what the token is for, e.g. "log-shipper"')
    .requiredOption(
      '--scope <scope...>',
      `one or more of ${SCOPES.join(', ')} (repeat or separate with commas)`,
      scopeList,
    )
    .action(async (opts: { name: string; scope: Scope[] }) => {
      const scopes = opts.scope;
      await withDeps(async (deps) => {
        const { token: secret, view } = await createApiToken(deps, { name: opts.name, scopes, actor });
        err(
          `Created token ${view.name} (…${view.last4}) with scopes ${view.scopes.join(', ')}. Store it now: it is not shown again.`,
        );
        process.stdout.write(`${secret}\n`);
      });
    });
  token
    .command('list')
    .description('List API tokens, newest first (the tokens themselves are stored hashed and never shown).')
    .option('--json', 'print a JSON array', false)
    .action(async (opts: { json: boolean }) => {
      await withDeps(async (deps) =>
        printList(
          await listApiTokens(deps),
          opts,
          (t) => ({
            id: String(t.id),
            name: t.name,
            scopes: t.scopes.join(','),
            last_used: when(t.last_used_at),
            created: when(t.created_at),
            revoked: when(t.revoked_at),
          }),
          'No API tokens.',
        ),
      );
    });
  token
    .command('revoke')
    .description('Revoke an API token at once (audited); revoking one already revoked changes nothing.')
    .argument('<id>', 'the token id, as `keywatch token list` shows it', tokenId)
    .action(async (id: number) => {
      await withDeps(async (deps) => {
        const view = await revokeApiToken(deps, id, actor);
        err(`Revoked token ${view.id} (${view.name}) at ${when(view.revoked_at)}.`);
      });
    });
}
