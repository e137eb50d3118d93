/** `keywatch user add|list`: dashboard users. */
import { type Command, Option } from 'commander';
import { addUser, listUsers } from '../auth/users.ts';
import { ROLES } from '../db/schema/index.ts';
import { err, printList, type WithDeps, when } from './support.ts';

export function addUserCommands(program: Command, withDeps: WithDeps, actor: string): void {
  const user = program.command('user').description('Manage dashboard users.');
  user
    .command('add')
    .description('Add a dashboard user; without --password one is generated and printed alone on stdout.')
    .requiredOption('--email <email>', "the user's email address")
    .addOption(new Option('--role <role>', 'what the user may do').choices(ROLES).default('viewer'))
    .option('--password <password>', 'at least 10 characters (prefer the generated one)')
    .action(async (opts: { email: string; role: (typeof ROLES)[number]; password?: string }) => {
      await withDeps(async (deps) => {
        const { user: created, password, generated } = await addUser(deps, opts, actor);
        err(`Added ${created.role} ${created.email}.`);
        if (generated) process.stdout.write(`${password}\n`);
      });
    });
  user
    .command('list')
    .description('List dashboard users (never their passwords).')
    .option('--json', 'print a JSON array', false)
    .action(async (opts: { json: boolean }) => {
      await withDeps(async (deps) =>
        printList(
          await listUsers(deps),
          opts,
          (u) => ({
            id: String(u.id),
            email: u.email,
            role: u.role,
            created: when(u.created_at),
            last_login: when(u.last_login_at),
          }),
          'No users.',
        ),
      );
    });
}
